"""Mask decoder (section 3.4, eq. 12): fused low/mid/high features -> mask logits at input resolution.

The paper gives no decoder architecture. This one is a small top-down (FPN-style) decoder over the same
fused features MPSM reads, at their native resolutions: the high map is upsampled and merged with the mid
and then the low map (1x1 lateral convs, 3x3 conv-BN-ReLU after each merge), so the high-resolution low
level drives localisation; a 1x1 conv gives one logit per pixel, bilinearly upsampled to the input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn_relu(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


class Decoder(nn.Module):
    """Top-down decoder; returns mask logits (B, 1, H, W) (the sigmoid of eq. 12 lives in the loss)."""

    def __init__(self, in_channels: tuple[int, int, int], width: int):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in in_channels)
        self.merge = nn.ModuleList(_conv_bn_relu(width) for _ in in_channels[:-1])
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, features: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        x = self.lateral[-1](features[-1])
        for i in range(len(features) - 2, -1, -1):
            x = F.interpolate(x, size=features[i].shape[-2:], mode="bilinear", align_corners=False)
            x = self.merge[i](x + self.lateral[i](features[i]))
        return F.interpolate(self.head(x), size=size, mode="bilinear", align_corners=False)
