"""Fusion of the spatial and frequency branches into one representation.

The abstract fixes only that spatial (style) and frequency (amplitude / phase) information are combined.
Our reading: the globally pooled high-level backbone feature, the style vector and the frequency vector are
concatenated (absent branches of an ablation variant are left out) and mapped by linear + LayerNorm + ReLU
to one embed_dim representation h, which both the classifier and the projection head read.
"""

from __future__ import annotations

import torch
from torch import nn


class Fusion(nn.Module):
    """Branch vectors [(B, d_1), (B, d_2), ...] -> h (B, embed_dim)."""

    def __init__(self, in_dims: tuple[int, ...], embed_dim: int):
        super().__init__()
        self.mix = nn.Sequential(
            nn.Linear(sum(in_dims), embed_dim), nn.LayerNorm(embed_dim), nn.ReLU(inplace=True)
        )

    def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return self.mix(torch.cat(parts, dim=1))
