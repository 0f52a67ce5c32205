"""L = L_ce + lambda_con * L_supcon: cross-entropy collaborating with the supervised contrastive loss.

The abstract fixes only "the collaboration of supervised contrastive loss with cross-entropy loss". Our
reading: the weighted sum, trained jointly (not Khosla et al.'s two stages), with
- L_ce: binary cross-entropy of the fake logit, batch mean (two-class softmax CE in one logit);
- L_supcon: Khosla et al. (NeurIPS 2020) eq. 2 (L_out) on the projection head's L2-normalised outputs z,
  temperature tau (0.07):
      L_supcon = mean_i  -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p / tau) / sum_{a != i} exp(z_i.z_a / tau) )
  with P(i) the other samples of i's class in the batch (pytorch-metric-learning's SupConLoss, which
  computes exactly this; anchors without a positive are left out of the mean, and the trainer's balanced
  batches give every sample one). Under DDP each process contrasts its own batch.
Both terms are computed in float32 (autocast off).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .config import MCLCRConfig
from .outputs import MCLCROutput


@dataclass
class ContrastTerms:
    """The total loss and its two components (scalar tensors; total carries the graph)."""

    total: torch.Tensor
    ce: torch.Tensor
    con: torch.Tensor

    def log_dict(self) -> dict[str, float]:
        """Plain floats for logging (synchronises with the device)."""
        return {name: float(getattr(self, name).detach()) for name in ("total", "ce", "con")}


def supcon(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. eq. 2) of embeddings z (B, D) with integer labels (B,)."""
    from pytorch_metric_learning.losses import SupConLoss

    return SupConLoss(temperature=temperature)(z.float(), labels.long())  # Khosla et al. eq. 2 (L_out)


def mclcr_loss(out: MCLCROutput, label: torch.Tensor, cfg: MCLCRConfig) -> ContrastTerms:
    """L_ce + lambda_con * L_supcon for a batch; label (B,) in {0, 1} (1 = fake)."""
    with torch.autocast(device_type=out.logit.device.type, enabled=False):
        ce = F.binary_cross_entropy_with_logits(out.logit.float(), label.float().reshape(out.logit.shape))
        con = supcon(out.embedding, label, cfg.temperature)
        total = ce + cfg.lambda_con * con  # L = L_ce + lambda L_supcon
    return ContrastTerms(total, ce, con)
