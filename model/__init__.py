"""The LRL network (Chen et al., AAAI 2021): two streams, RFAM, MPSM, decoder, losses."""

from __future__ import annotations

from .config import VARIANTS, ModelConfig
from .losses import LossTerms, lrl_loss
from .lrl import LRLNet, LRLOutput

__all__ = ["VARIANTS", "LRLNet", "LRLOutput", "LossTerms", "ModelConfig", "build_model", "lrl_loss"]


def build_model(cfg: ModelConfig) -> LRLNet:
    """The network described by `cfg` (random init, or backbone weights from the local file cfg.pretrained)."""
    return LRLNet(cfg)
