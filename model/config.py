"""ModelConfig: backbone, Table 4 variant, k, loss weights and L_sim reading, pretrained weights, feature
levels."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import LrlError
from pipeline.options import opt

# Table 4 ablation variants -> (frequency stream, RFAM, MPSM).
SIM_LOSSES = ("mse", "norm")  # readings of eq. 10 (model/losses.py)

VARIANTS: dict[str, tuple[bool, bool, bool]] = {
    "rgb": (False, False, False),  # (1) RGB only, L_ce + L_seg
    "rgb_freq": (True, False, False),  # (2) two streams, final features concatenated
    "rgb_freq_rfam": (True, True, False),  # (3) two streams fused by RFAM, no MPSM
    "rgb_mpsm": (False, False, True),  # (4) MPSM on the RGB stream alone
    "full": (True, True, True),  # (5) the paper's model
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines an LRL network (paper defaults: Xception, k = 5, lambda1 = 10, lambda2 = 1);
    the documented fields are lrl-train flags.

    backbone: a timm model name with feature taps (`legacy_xception` as in FaceForensics++; a small one such
        as `resnet18` for CPU tests and the demo).
    variant: one of VARIANTS.
    strides: output strides of the backbone taps used as the low, mid and high levels. For Xception
        8/16/32 are its `block2`, `block11` and exit-flow outputs (256, 728 and 2048 channels; 37, 19 and
        10 px at 299 input, so MPSM cuts the 10x10 map into 5x5 patches of 2x2, no partial patch).
    sim_loss: the reading of eq. 10, "mse" (mean square over the k^2 x k^2 entries, default) or "norm" (the
        literal Frobenius norm, which collapses s_hat to 1; kept for the record). See model/losses.py.
    pretrained: backbone weights for both streams: "imagenet" (from an installed package,
        model/pretrained.py), a local timm state-dict file, or None (random init). Nothing is ever downloaded.
    decoder_width: channels of the mask decoder.
    """

    backbone: str = opt(
        "legacy_xception",
        "timm backbone of both streams (the paper: legacy_xception; the demo: tf_efficientnet_lite0).",
    )
    pretrained: str | None = opt(
        None,
        "Backbone weights for both streams: 'imagenet' (shipped by an installed "
        "package, for tf_efficientnet_lite0) or a local timm state-dict file; "
        "nothing downloads. None: random init.",
    )
    variant: str = opt(
        "full",
        "Table 4 variant: rgb, rgb_freq, rgb_freq_rfam, rgb_mpsm, full (the paper's).",
        tuple(VARIANTS),
    )
    strides: tuple[int, int, int] = opt((8, 16, 32), "Output strides of the low / mid / high feature taps.")
    k: int = opt(5, "MPSM patches per side (k x k patches, section 3.3).")
    lambda1: float = opt(10.0, "Weight of the similarity loss L_sim (eq. 13).")
    lambda2: float = opt(1.0, "Weight of the segmentation loss L_seg (eq. 13).")
    sim_loss: str = opt(
        "mse",
        "Reading of eq. 10: mse (mean square over the k^2 x k^2 entries) or norm (the "
        "literal Frobenius norm, whose constant-size gradient collapses s_hat to 1; kept "
        "for the record).",
        SIM_LOSSES,
    )
    decoder_width: int = 64

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise LrlError(f"unknown model variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
        if self.k < 1:
            raise LrlError(f"model k must be >= 1, got {self.k}")
        strides = tuple(self.strides)
        if len(strides) != 3 or any(b <= a for a, b in zip(strides, strides[1:], strict=False)):
            raise LrlError(f"model strides must be 3 increasing values (low, mid, high), got {self.strides}")
        if self.lambda1 < 0 or self.lambda2 < 0:
            raise LrlError(f"loss weights must be >= 0, got lambda1={self.lambda1}, lambda2={self.lambda2}")
        if self.sim_loss not in SIM_LOSSES:
            raise LrlError(f"unknown sim_loss {self.sim_loss!r}; choose one of {', '.join(SIM_LOSSES)}")
        if self.decoder_width < 1:
            raise LrlError(f"decoder_width must be >= 1, got {self.decoder_width}")
        object.__setattr__(self, "strides", strides)

    @property
    def use_freq(self) -> bool:
        return VARIANTS[self.variant][0]

    @property
    def use_rfam(self) -> bool:
        return VARIANTS[self.variant][1]

    @property
    def use_mpsm(self) -> bool:
        return VARIANTS[self.variant][2]
