"""What MCLCRNet's forward pass returns: a record of its own file, read by the network (model.mclcr.net) and
its loss (model.mclcr.loss) alike, so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class MCLCROutput:
    """logit (B,) of the fake class; embedding (B, proj_dim) float32, unit norm (projection head, for
    SupCon)."""

    logit: torch.Tensor
    embedding: torch.Tensor

    @property
    def prob(self) -> torch.Tensor:
        """Fake probability sigmoid(logit), float32."""
        return torch.sigmoid(self.logit.float())
