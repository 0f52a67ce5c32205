"""One stream of the two-stream network: a timm backbone cut into three stages at its feature taps.

The network must feed RFAM's attended features back into each stream (Fig. 2), which timm's `features_only`
wrappers cannot do: they only read taps out. So the plain timm model is built (always `pretrained=False`),
optionally loaded from packaged ImageNet weights or a local file, and its top-level modules are regrouped into
three `nn.Sequential` stages that end exactly at the chosen taps; modules past the high tap are dropped (no
unused parameters). Taps named inside a `nn.Sequential` child (`blocks.2` of EfficientNet / MobileNet) cut
that child. Xception taps the ReLU that starts the next block (`block3.rep.0`); its stage ends at the previous
block's output instead, i.e. before that ReLU, which the next block still applies to its residual branch (the
skip branch sees the un-ReLU'd features, as in timm's own Xception).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from pathlib import Path

import timm
import torch
from torch import nn

from pipeline.errors import LrlError, one_line

from .pretrained import IMAGENET, imagenet_state, rgb_normaliser

log = logging.getLogger(__name__)

_XCEPTION_TAP = re.compile(r"^block(\d+)\.rep\.0$")


def _cut_name(model: nn.Module, tap: str) -> str:
    """The module after which a stage must end to produce the features of timm tap `tap`."""
    match = _XCEPTION_TAP.match(tap)
    if type(model).__name__ == "Xception" and match:
        return f"block{int(match.group(1)) - 1}"
    return tap


def _ordered_modules(model: nn.Module, cuts: list[str]) -> list[tuple[str, nn.Module]]:
    """Top-level modules in order, Sequential children flattened one level where a cut lies inside."""
    out = []
    for name, child in model.named_children():
        if isinstance(child, nn.Sequential) and any(c.startswith(name + ".") for c in cuts):
            out += [(f"{name}.{sub}", grandchild) for sub, grandchild in child.named_children()]
        else:
            out.append((name, child))
    return out


def split_stages(model: nn.Module, cuts: list[str], backbone: str) -> nn.ModuleList:
    """Regroup `model` into len(cuts) sequential stages, stage i ending with module cuts[i]."""
    stages, current = [], []
    for name, module in _ordered_modules(model, cuts):
        current.append((name.replace(".", "_"), module))
        if name == cuts[len(stages)]:
            stages.append(nn.Sequential(OrderedDict(current)))
            current = []
            if len(stages) == len(cuts):
                return nn.ModuleList(stages)
    raise LrlError(f"backbone {backbone}: cannot cut it at feature taps {cuts} (unsupported tap layout)")


def _tap_infos(model: nn.Module, strides: tuple[int, ...], backbone: str) -> list[dict]:
    """The feature_info entry of each requested stride (the deepest tap with that stride)."""
    infos = getattr(model, "feature_info", None)
    if not isinstance(infos, list) or not infos:
        raise LrlError(f"backbone {backbone} has no feature taps (timm feature_info); choose a CNN backbone")
    by_stride = {info["reduction"]: info for info in infos}
    missing = [s for s in strides if s not in by_stride]
    if missing:
        raise LrlError(
            f"backbone {backbone} has no feature tap at stride(s) {missing}; it has {sorted(by_stride)}"
        )
    return [by_stride[s] for s in strides]


def read_weights(source: str, backbone: str) -> dict[str, torch.Tensor]:
    """The state dict that `source` names: "imagenet" (an installed package's weights) or a local timm
    file."""
    if source == IMAGENET:
        return imagenet_state(backbone)
    if not Path(source).is_file():
        raise LrlError(f"pretrained weights not found: {source}")
    try:
        return timm.models.load_state_dict(source)
    except Exception as exc:
        raise LrlError(f"{source}: cannot read pretrained weights ({one_line(exc)})") from exc


def load_backbone_weights(model: nn.Module, source: str, in_chans: int, backbone: str) -> list[str]:
    """Load weights (read_weights) into `model` (not strict); returns the model keys they did not provide.

    The first convolution is adapted to `in_chans` with timm's rule (`adapt_input_conv`; 1 channel: the sum
    over RGB), so one ImageNet checkpoint serves both streams. Classifier weights are dropped (the model has
    none).
    """
    state = read_weights(source, backbone)
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    first = f"{cfg.get('first_conv', '')}.weight"
    if first in state and state[first].ndim == 4 and state[first].shape[1] != in_chans:
        state[first] = timm.models.adapt_input_conv(in_chans, state[first].float())
    head = cfg.get("classifier", "")
    heads = head if isinstance(head, (list, tuple)) else [head]
    state = {k: v for k, v in state.items() if not any(h and k.startswith(h + ".") for h in heads)}
    own = model.state_dict()
    if not any(k in own for k in state):
        raise LrlError(f"{source}: no weight matches backbone {backbone}")
    bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if bad:
        raise LrlError(f"{source}: weights do not fit backbone {backbone} (shape mismatch at {bad[0]})")
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys:
        log.warning(
            "%s: %d backbone keys missing, e.g. %s", source, len(result.missing_keys), result.missing_keys[0]
        )
    return list(result.missing_keys)


class Stream(nn.Module):
    """A timm backbone as three stages ending at the low, mid and high taps (`strides`).

    `pretrained`: "imagenet", a local timm file or None (model/pretrained.py). `norm` maps lrl's [-1, 1] RGB
    input to the normalisation those weights expect (identity for the frequency stream, for random init and
    for weights trained on [-1, 1]); LRLNet applies it before the first stage. `forward` is not used by LRLNet
    (it interleaves RFAM between stages); it returns the three tap features. `load_weights` False builds the
    same network (normalisation included) without reading the weights, for a checkpoint's state to fill.
    """

    def __init__(
        self,
        backbone: str,
        in_chans: int,
        strides: tuple[int, int, int],
        pretrained: str | None,
        load_weights: bool = True,
    ):
        super().__init__()
        try:
            model = timm.create_model(backbone, pretrained=False, num_classes=0, in_chans=in_chans)
        except RuntimeError as exc:  # timm raises RuntimeError for unknown model names
            raise LrlError(f"cannot build backbone {backbone!r}: {one_line(exc)}") from exc
        self.missing_keys = (
            load_backbone_weights(model, pretrained, in_chans, backbone)
            if pretrained and load_weights
            else []
        )
        infos = _tap_infos(model, strides, backbone)
        self.channels = tuple(int(i["num_chs"]) for i in infos)
        self.stages = split_stages(model, [_cut_name(model, i["module"]) for i in infos], backbone)
        self.norm = rgb_normaliser(backbone, pretrained) if in_chans == 3 else nn.Identity()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.norm(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats
