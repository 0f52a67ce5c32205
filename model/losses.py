"""Losses of section 3.4: L_total = L_ce + lambda1 L_sim + lambda2 L_seg (eq. 13), each term returned.

- L_ce (eq. 11): binary cross-entropy of y_hat, computed from the logit (sigmoid folded in), batch mean.
- L_sim (eq. 10), `sim_loss = "mse"` (default): the mean squared error over the k^2 x k^2 entries of each
  sample's s - s_hat, then the batch mean (DeepfakeBench's reading). Eq. 10 writes ||s - s_hat||_2; read
  literally (`sim_loss = "norm"`: the per-sample Frobenius norm, not squared, then the batch mean) its
  gradient r / ||r|| has unit size whatever the residual r, so 10 L_sim keeps pushing the backbone with
  constant force while L_ce's gradient shrinks: measured 160-270x L_ce's gradient at the backbone, and the
  network collapses to s_hat = 1 everywhere (the cheapest way down for a set that is mostly s = 1), which
  leaves the classifier on s_hat at chance. The mean square's gradient 2 r / k^4 fades with the residual,
  and lambda1 = 10 "to enhance" the term only makes sense for a term of that small scale. The norm stays
  for the record. Zero for variants without MPSM.
- L_seg (eq. 12): pixel BCE of M_hat from the mask logits, AVERAGED over pixels (then over the batch),
  although eq. 12 writes a sum. Summed over 299 x 299 pixels L_seg starts near 6e4 (ln 2 per pixel) and
  would drown L_ce (~0.7) and lambda1 L_sim by four orders of magnitude, which makes the paper's
  lambda1 = 10, lambda2 = 1 balance meaningless; with the mean the three terms start at comparable scales.
All terms are computed in float32 (autocast off) whatever the forward pass ran in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .config import ModelConfig
from .mpsm import similarity_target
from .outputs import LRLOutput


@dataclass
class LossTerms:
    """The total loss and its three components (scalar tensors; total carries the graph)."""

    total: torch.Tensor
    ce: torch.Tensor
    sim: torch.Tensor
    seg: torch.Tensor

    def log_dict(self) -> dict[str, float]:
        """Plain floats for logging (synchronises with the device)."""
        return {name: float(getattr(self, name).detach()) for name in ("total", "ce", "sim", "seg")}


def _as_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A (B, H, W) or (B, 1, H, W) mask as float (B, 1, H, W) matching the predicted mask's size."""
    m = mask.unsqueeze(1) if mask.dim() == 3 else mask
    if m.dim() != 4 or m.shape[1] != 1 or m.shape[0] != like.shape[0] or m.shape[-2:] != like.shape[-2:]:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not match predicted mask {tuple(like.shape)}"
        )
    return m.float()


def similarity_loss(s: torch.Tensor, s_hat: torch.Tensor, reading: str = "mse") -> torch.Tensor:
    """Eq. 10 for s, s_hat (B, k^2, k^2) float32 -> scalar: batch mean of the per-sample term.

    reading "mse": mean over the k^4 entries of (s - s_hat)^2; "norm": ||s - s_hat||_F (the literal eq. 10).
    """
    residual = (s - s_hat).flatten(1)
    if reading == "norm":
        return torch.linalg.vector_norm(residual, dim=1).mean()  # eq. 10, literal
    return residual.square().mean(dim=1).mean()  # eq. 10, read as a mean square


def lrl_loss(out: LRLOutput, label: torch.Tensor, mask: torch.Tensor, cfg: ModelConfig) -> LossTerms:
    """Eq. 10-13 for a batch: label (B,) in {0, 1}, mask (B, H, W) or (B, 1, H, W) in {0, 1} at input size."""
    with torch.autocast(device_type=out.logit.device.type, enabled=False):
        m = _as_mask(mask, out.mask_logits)
        ce = F.binary_cross_entropy_with_logits(out.logit.float(), label.float().reshape(out.logit.shape))
        seg = F.binary_cross_entropy_with_logits(out.mask_logits.float(), m)
        if out.s_hat is None:
            sim = torch.zeros((), device=ce.device)
        else:
            sim = similarity_loss(similarity_target(m, cfg.k), out.s_hat.float(), cfg.sim_loss)  # eq. 10
        total = ce + cfg.lambda1 * sim + cfg.lambda2 * seg  # eq. 13
    return LossTerms(total, ce, sim, seg)
