"""The LRL network (Chen et al., AAAI 2021): two streams, RFAM, MPSM, decoder, losses.

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
}

__all__ = [*_EXPORTS, "build_model"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def build_model(cfg):
    """The network described by `cfg` (random init, or backbone weights cfg.pretrained: "imagenet" or a local file)."""
    from .lrl import LRLNet

    return LRLNet(cfg)
