"""RGB-Frequency Attention Module (section 3.2, Fig. 2, eq. 4-6).

The paper names U_1 the frequency stream in one sentence and A_1 the RGB attention in the next; eq. 6 only
needs A_1 to weight U_1. Here index 1 is the RGB stream (x_1 is the RGB input) and index 2 the frequency
stream, consistently.
"""

from __future__ import annotations

import torch
from torch import nn


class RFAM(nn.Module):
    """concat(U1, U2) -> 1x1 conv -> BN -> ReLU (eq. 4) -> 3x3 conv -> sigmoid (eq. 5) -> A1, A2.

    V keeps 2C channels as eq. 4 states (DeepfakeBench halves it to C). Returns the attended features
    A1*U1 and A2*U2, which continue down their own streams, their sum (the fused feature, eq. 6) and A.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * channels, 2 * channels, 1, bias=False),
            nn.BatchNorm2d(2 * channels),
            nn.ReLU(inplace=True),
        )
        self.attend = nn.Conv2d(2 * channels, 2, 3, padding=1)

    def forward(
        self, u1: torch.Tensor, u2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        v = self.fuse(torch.cat([u1, u2], dim=1))  # eq. 4
        a = torch.sigmoid(self.attend(v))  # eq. 5
        v1, v2 = a[:, 0:1] * u1, a[:, 1:2] * u2
        return v1, v2, v1 + v2, a  # eq. 6: A1 * U1 + A2 * U2
