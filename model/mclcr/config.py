"""MCLCRConfig: backbone, ablation variant, patch size, widths, and the CE + lambda * SupCon weights."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import LrlError
from pipeline.options import opt

# Ablation variants -> (shallow style block, amplitude/phase dual attention branch).
MCLCR_VARIANTS: dict[str, tuple[bool, bool]] = {
    "full": (True, True),
    "no_style": (False, True),  # without the spatial style block (backbone features + frequency branch)
    "no_freq": (True, False),  # without the frequency branch (backbone features + style block)
}


@dataclass(frozen=True)
class MCLCRConfig:
    """Everything that defines an MC-LCR network and its loss (our readings of the abstract; README); the
    documented fields are lrl-train flags (`variant` as --mclcr-variant).

    backbone, strides, pretrained: as for LRL (model.config.ModelConfig): a timm CNN cut at three taps; the
        low tap is the "shallow feature map" the style block reads, the high tap is pooled for the classifier.
    variant: one of MCLCR_VARIANTS.
    patch: side in pixels of the square patches whose spectra the frequency branch reads (8: JPEG/H.264
        blocks, where compression and blending traces live).
    style_channels: shallow channels kept (1x1 conv) before their pairwise correlations (Gram matrix).
    width: channels of the amplitude / phase embeddings and their attention.
    embed_dim: size of the fused representation fed to the classifier and the projection head.
    proj_dim: output size of the projection head (Khosla et al.: 128).
    lambda_con: weight of the supervised contrastive term, L = L_ce + lambda_con * L_supcon.
    temperature: SupCon temperature tau (Khosla et al.: 0.07).
    """

    backbone: str = opt("legacy_xception", "timm backbone (as for LRL).")
    pretrained: str | None = opt(None, "Backbone weights (as for LRL).")
    variant: str = opt(
        "full",
        "MC-LCR ablation: full, no_style (no style block), no_freq (no amplitude/phase branch).",
        tuple(MCLCR_VARIANTS),
        flag="mclcr_variant",
    )
    strides: tuple[int, int, int] = opt((8, 16, 32), "Output strides of the low / mid / high feature taps.")
    patch: int = opt(8, "MC-LCR: side in pixels of the patches whose amplitude and phase spectra are read.")
    style_channels: int = 32
    width: int = 64
    heads: int = 4
    embed_dim: int = 256
    proj_dim: int = 128
    lambda_con: float = opt(
        0.5, "MC-LCR: weight of the supervised contrastive loss (L_ce + lambda_con L_supcon)."
    )
    temperature: float = opt(0.07, "MC-LCR: SupCon temperature (Khosla et al. 2020: 0.07).")

    def __post_init__(self) -> None:
        if self.variant not in MCLCR_VARIANTS:
            raise LrlError(
                f"unknown MC-LCR variant {self.variant!r}; choose one of {', '.join(MCLCR_VARIANTS)}"
            )
        strides = tuple(self.strides)
        if len(strides) != 3 or any(b <= a for a, b in zip(strides, strides[1:], strict=False)):
            raise LrlError(f"model strides must be 3 increasing values (low, mid, high), got {self.strides}")
        if self.patch < 2:
            raise LrlError(f"MC-LCR patch must be >= 2 pixels, got {self.patch}")
        if min(self.style_channels, self.width, self.heads, self.embed_dim, self.proj_dim) < 1:
            raise LrlError("MC-LCR widths (style_channels, width, heads, embed_dim, proj_dim) must be >= 1")
        if self.width % self.heads:
            raise LrlError(f"MC-LCR width {self.width} must be a multiple of heads {self.heads}")
        if self.lambda_con < 0:
            raise LrlError(f"lambda_con must be >= 0, got {self.lambda_con}")
        if self.temperature <= 0:
            raise LrlError(f"temperature must be > 0, got {self.temperature}")
        object.__setattr__(self, "strides", strides)

    @property
    def use_style(self) -> bool:
        return MCLCR_VARIANTS[self.variant][0]

    @property
    def use_freq(self) -> bool:
        return MCLCR_VARIANTS[self.variant][1]
