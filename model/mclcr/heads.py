"""Classifier and projection head on the fused representation h.

Classifier (the abstract: cross-entropy): one linear layer to a single fake logit; its sigmoid is the fake
probability. Binary cross-entropy on one logit equals two-class softmax cross-entropy on logits (0, z), and
keeps the evaluator shared with LRL. Projection head (Khosla et al., NeurIPS 2020, since the abstract only
names the supervised contrastive loss): a two-layer MLP embed_dim -> embed_dim -> proj_dim with ReLU, its
output L2-normalised; it feeds only the contrastive loss and is unused at test time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Classifier(nn.Module):
    """h (B, embed_dim) -> fake logit (B,)."""

    def __init__(self, embed_dim: int):
        super().__init__()
        self.fc = nn.Linear(embed_dim, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc(h).squeeze(1)


class ProjectionHead(nn.Module):
    """h (B, embed_dim) -> z (B, proj_dim), unit L2 norm, for the supervised contrastive loss."""

    def __init__(self, embed_dim: int, proj_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(embed_dim, embed_dim), nn.ReLU(inplace=True), nn.Linear(embed_dim, proj_dim)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(h).float(), dim=1)
