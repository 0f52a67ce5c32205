"""What LRLNet's forward pass returns: a record of its own file, read by the network (model.lrl) and its
losses (model.losses) alike, so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LRLOutput:
    """logit (B,) for y_hat; s_hat (B, k*k, k*k) or None without MPSM; mask_logits (B, 1, H, W) for M_hat;
    attention: per level the RFAM maps (B, 2, h, w) (channel 0 RGB, 1 frequency), empty without RFAM."""

    logit: torch.Tensor
    s_hat: torch.Tensor | None
    mask_logits: torch.Tensor
    attention: tuple[torch.Tensor, ...] = ()

    @property
    def prob(self) -> torch.Tensor:
        """y_hat = sigmoid(logit) (eq. 11), in float32."""
        return torch.sigmoid(self.logit.float())
