"""The detectors: LRL (Chen et al., AAAI 2021: two streams, RFAM, MPSM, decoder, losses) and MC-LCR
(Wang et al., 2021: model/mclcr/). `build_model` and `compute_loss` pick the network from its config type,
so the trainer and evaluator serve both.

Attributes are imported on first use (PEP 562), so `import model.training.config` — which the CLI
does to build its options — does not pay for torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "VARIANTS": ".config",
    "ModelConfig": ".config",
    "LossTerms": ".losses",
    "lrl_loss": ".losses",
    "LRLNet": ".lrl",
    "LRLOutput": ".lrl",
    "MCLCRConfig": ".mclcr.config",
    "MCLCRNet": ".mclcr.net",
    "mclcr_loss": ".mclcr.loss",
}

__all__ = [*_EXPORTS, "build_model", "compute_loss"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def build_model(cfg):
    """The network described by `cfg`: LRLNet for a ModelConfig, MCLCRNet for an MCLCRConfig (random init,
    or backbone weights cfg.pretrained: "imagenet" or a local file)."""
    from .mclcr.config import MCLCRConfig

    if isinstance(cfg, MCLCRConfig):
        from .mclcr.net import MCLCRNet

        return MCLCRNet(cfg)
    from .lrl import LRLNet

    return LRLNet(cfg)


def compute_loss(out, batch: dict, cfg):
    """The training loss of either network for a batch {"label": (B,), "mask": (B, 1, H, W)}: an object with
    `.total` (scalar tensor with graph) and `.log_dict()` ({"total": float, <component>: float, ...})."""
    from .mclcr.config import MCLCRConfig

    if isinstance(cfg, MCLCRConfig):
        from .mclcr.loss import mclcr_loss

        return mclcr_loss(out, batch["label"], cfg)
    from .losses import lrl_loss

    return lrl_loss(out, batch["label"], batch["mask"], cfg)
