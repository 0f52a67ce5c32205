"""The detectors: LRL (Chen et al., AAAI 2021: two streams, RFAM, MPSM, decoder, losses) and MC-LCR
(Wang et al., 2021: model/mclcr/), each a model.detector.Detector registered by name in DETECTORS (its
config class and its network class), which the trainer, evaluator and lrl-predict go through: a third
detector is its files in model/ and one line here.

Attributes are imported on first use (PEP 562), so `import model.training.config` — which the CLI
does to build its options — does not pay for torch.
"""

from __future__ import annotations

import importlib

# name -> (module:config class, module:network class); the first is the default of lrl-train --model.
DETECTORS: dict[str, tuple[str, str]] = {
    "lrl": ("model.config:ModelConfig", "model.lrl:LRLNet"),
    "mclcr": ("model.mclcr.config:MCLCRConfig", "model.mclcr.net:MCLCRNet"),
}

_EXPORTS = {
    "VARIANTS": ".config",
    "ModelConfig": ".config",
    "LossTerms": ".losses",
    "lrl_loss": ".losses",
    "LRLNet": ".lrl",
    "LRLOutput": ".outputs",
    "MCLCRConfig": ".mclcr.config",
    "MCLCRNet": ".mclcr.net",
    "mclcr_loss": ".mclcr.loss",
}

__all__ = [
    *_EXPORTS,
    "DETECTORS",
    "build_model",
    "compute_loss",
    "config_class",
    "detector_class",
    "detector_name",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def _load(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def config_class(name: str) -> type:
    """The config dataclass of detector `name` (light: no torch). KeyError for an unknown name."""
    return _load(DETECTORS[name][0])


def detector_name(cfg) -> str:
    """The registry name of the detector a config describes ("lrl", "mclcr")."""
    return next(name for name in DETECTORS if isinstance(cfg, config_class(name)))


def detector_class(cfg) -> type:
    """The network class (a model.detector.Detector) of a config."""
    return _load(DETECTORS[detector_name(cfg)][1])


def build_model(cfg, load_weights: bool = True):
    """The detector network described by `cfg` (random init, or backbone weights cfg.pretrained: "imagenet" or
    a local file; `load_weights` False leaves them unread, for a checkpoint's state to fill)."""
    return detector_class(cfg)(cfg, load_weights)


def compute_loss(out, batch: dict, cfg):
    """The training loss of the detector of `cfg` for a batch {"label": (B,), "mask": (B, 1, H, W)}: an object
    with `.total` (scalar tensor with graph) and `.log_dict()` ({"total": float, <component>: float, ...})."""
    return detector_class(cfg).loss_terms(out, batch, cfg)
