"""Shallow style representation block (spatial domain).

The abstract fixes: a block "that measures the pairwise correlation of shallow feature maps, which encodes
local style information". Our reading, after Gram-Net (Liu et al., CVPR 2020; Gram matrices of shallow
features as texture/style descriptors of fake faces): the pairwise correlation of feature maps F_i, F_j
(channels of the shallow backbone tap) is their Gram entry G_ij = <F_i, F_j> / (h w). Shallow taps have
small receptive fields, so G describes local texture statistics, pooled over the face. Channels are first
reduced by a learned 1x1 convolution (C -> style_channels) to keep G small; the c(c+1)/2 distinct entries
of the symmetric G are normalised (LayerNorm) and embedded by a linear layer + ReLU.
"""

from __future__ import annotations

import torch
from torch import nn


def gram(x: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps: x (B, C, h, w) -> G (B, C, C), G_ij = sum_p x_i(p) x_j(p) / (h w).

    Computed in float32 (autocast off): squares of bf16 features lose precision.
    """
    b, c, h, w = x.shape
    with torch.autocast(device_type=x.device.type, enabled=False):
        f = x.float().reshape(b, c, h * w)
        return f @ f.transpose(1, 2) / (h * w)


class StyleBlock(nn.Module):
    """Shallow features (B, C, h, w) -> style vector (B, out_dim): 1x1 conv, Gram, upper triangle, LN,
    linear."""

    def __init__(self, in_channels: int, style_channels: int, out_dim: int):
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, style_channels, 1, bias=False), nn.BatchNorm2d(style_channels)
        )
        rows, cols = torch.triu_indices(style_channels, style_channels)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        n = len(rows)
        self.embed = nn.Sequential(nn.LayerNorm(n), nn.Linear(n, out_dim), nn.ReLU(inplace=True))

    def forward(self, shallow: torch.Tensor) -> torch.Tensor:
        g = gram(self.reduce(shallow))
        return self.embed(g[:, self.rows, self.cols])
