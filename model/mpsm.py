"""Multi-scale Patch Similarity Module (section 3.3): patching, eq. 7 similarity, eq. 8-9 target.

Patching follows the paper's ceil rule: a map of H x W is cut into k x k patches of h = ceil(H / k) by
w = ceil(W / k). When k does not divide H, the map is zero-padded at the bottom / right to k*h x k*w, so
the last row / column of patches is partial. For eq. 7 the padding changes nothing (zeros add nothing to a
dot product or a norm: a partial patch is compared on its real pixels only); for eq. 9 the patch mean p_i
divides by the number of real pixels, not by h*w. A size for which the ceil rule leaves a whole row of
patches empty (for k = 5: H in 6, 7, 8, 11, 12, 16 ...) raises an error instead of comparing empty patches.

Low and mid maps are resized to the high one's size by area averaging (the paper does not say how; area is
the anti-aliased choice for a 3.7x / 1.9x downscale). Note: if every tap is a ReLU output (ResNet layers),
all cosines are >= 0, so s_hat >= 0.5 and L_sim cannot reach 0 where s_ij = 0 (real vs forged patch);
Xception's block outputs and EfficientNet / MobileNet block outputs are signed and do not have this floor.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.errors import LrlError


def patch_grid(size: int, k: int) -> int:
    """Patch side ceil(size / k); error when the last of the k patches would be empty."""
    side = math.ceil(size / k)
    if (k - 1) * side >= size:
        raise LrlError(
            f"a {size}-pixel side cannot be cut into {k} patches by the ceil rule "
            f"(patches of {side} leave the "
            f"last one empty); change the input size or the feature strides"
        )
    return side


def patchify(x: torch.Tensor, k: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, k*k, C*h*w): row-major k x k patches, each flattened, zero-padded to k*h x k*w."""
    b, c, height, width = x.shape
    h, w = patch_grid(height, k), patch_grid(width, k)
    x = F.pad(x, (0, k * w - width, 0, k * h - height))
    x = x.reshape(b, c, k, h, k, w).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, k * k, c * h * w)


def patch_similarity(u: torch.Tensor) -> torch.Tensor:
    """Eq. 7: s_hat_ij = (cos(u_i, u_j) + 1) / 2 for u (B, N, D) -> (B, N, N), in float32.

    A zero vector has cosine 0 with everything (s_hat = 0.5) instead of NaN; autocast is disabled here so
    the long dot products (D is 12,128 for Xception at 299) are not rounded to bf16.
    """
    with torch.autocast(device_type=u.device.type, enabled=False):
        unit = F.normalize(u.float(), dim=-1, eps=1e-12)
        cos = unit @ unit.transpose(1, 2)
    return ((cos + 1.0) / 2.0).clamp(0.0, 1.0)  # eq. 7


def similarity_target(mask: torch.Tensor, k: int) -> torch.Tensor:
    """Eq. 8-9: mask (B, H, W) or (B, 1, H, W) in {0, 1} -> s (B, k*k, k*k) with s_ij = 1 - (p_i - p_j)^2.

    p_i is the mean of patch i over its real pixels (ceil rule, partial last patches), vectorised over B.
    """
    m = mask.reshape(mask.shape[0], 1, mask.shape[-2], mask.shape[-1]).float()
    sums = patchify(m, k).sum(-1)
    counts = patchify(torch.ones_like(m[:1]), k).sum(-1)
    p = sums / counts  # forged probability p_i of each patch
    return 1.0 - (p.unsqueeze(2) - p.unsqueeze(1)).square()  # eq. 9


def multiscale(features: list[torch.Tensor]) -> torch.Tensor:
    """Resize the low and mid fused maps to the high one's size (area averaging) and concatenate on
    channels."""
    size = features[-1].shape[-2:]
    return torch.cat([F.adaptive_avg_pool2d(f, size) for f in features[:-1]] + [features[-1]], dim=1)


class MPSM(nn.Module):
    """Multi-scale features -> k x k patches -> s_hat (B, k*k, k*k) (parameter-free)."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        return patch_similarity(patchify(multiscale(features), self.k))

    def extra_repr(self) -> str:
        return f"k={self.k}"
