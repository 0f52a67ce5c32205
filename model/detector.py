"""The detector surface: what the trainer, the evaluator and lrl-predict may ask of a network.

A detector (model.lrl.LRLNet, model.mclcr.net.MCLCRNet, ...) is an nn.Module built from its frozen config
`cfg` (`Net(cfg, load_weights)`) and registered by name in model/__init__.py's DETECTORS, that

- maps rgb (B, 3, H, W) in [-1, 1] and LRL's frequency image freq (B, 1, H, W) (ignored by a detector that
  does not read it) to an output with `logit` (B,) (pre-sigmoid) and `prob` (B,) float32;
- gives its training loss for a batch {"label": (B,), "mask": (B, 1, H, W)}: `loss_terms(out, batch, cfg)`,
  an object with `.total` (scalar tensor with graph) and `.log_dict()` ({"total": float, <term>: float});
- says what it can show (`shows`, a subset of SHOWS): MASK (`out.mask_logits` (B, 1, H, W)), SIMILARITY
  (`out.s_hat` (B, k^2, k^2), LRL eq. 7) and ATTENTION (`out.attention`, per level (B, 2, h, w)); an output
  has those attributes only when its detector shows them;
- says how it trains: `balanced_batches` (every batch needs both classes, e.g. for SupCon) and
  `needs_known_masks` (its targets come from the mask: samples whose mask is unknown are left out).
"""

from __future__ import annotations

from typing import ClassVar, Protocol

MASK, SIMILARITY, ATTENTION = "mask", "similarity", "attention"
SHOWS = (MASK, SIMILARITY, ATTENTION)


class Detector(Protocol):
    cfg: object
    balanced_batches: ClassVar[bool]
    needs_known_masks: ClassVar[bool]

    @property
    def shows(self) -> frozenset[str]: ...

    def __call__(self, rgb, freq=None): ...

    @staticmethod
    def loss_terms(out, batch: dict, cfg): ...
