"""MCLCRNet: spatial branch (backbone + shallow style block) and frequency branch (amplitude / phase dual
attention), fused into one representation read by a classifier and a projection head.

The abstract fixes the two branches and the CE + supervised contrastive training; the backbone, which tap
is "shallow", the fusion and the heads are our choices (README "MC-LCR: what the abstract fixes and what
we chose"). The backbone is a timm CNN cut at three taps as LRL's RGB stream (model.streams.Stream, same
`pretrained`); the style block reads the low tap, the high tap is globally average-pooled. The frequency
branch reads the RGB input itself (not LRL's DCT high-pass image, which it does not need). There is no
mask head, no similarity pattern and no attention map to show (`shows` is empty): the evaluator reports
mask IoU as n/a.
"""

from __future__ import annotations

import torch
from torch import nn

from ..streams import Stream
from .config import MCLCRConfig
from .fusion import Fusion
from .heads import Classifier, ProjectionHead
from .outputs import MCLCROutput
from .spectrum import AmplitudePhaseAttention
from .style import StyleBlock


class MCLCRNet(nn.Module):
    """rgb (B, 3, H, W) in [-1, 1] -> MCLCROutput. H, W at least one patch and large enough for the taps.
    A model.detector.Detector that shows nothing besides its score."""

    balanced_batches = True  # SupCon needs a positive for every sample
    needs_known_masks = False  # no mask head, no mask target
    shows = frozenset()

    def __init__(self, cfg: MCLCRConfig, load_weights: bool = True):
        super().__init__()
        self.cfg = cfg
        self.backbone = Stream(cfg.backbone, 3, cfg.strides, cfg.pretrained, load_weights)
        low, _, high = self.backbone.channels
        dims = [high]
        self.style = StyleBlock(low, cfg.style_channels, cfg.embed_dim) if cfg.use_style else None
        if self.style is not None:
            dims.append(cfg.embed_dim)
        self.spectrum = AmplitudePhaseAttention(cfg.patch, cfg.width, cfg.heads) if cfg.use_freq else None
        if self.spectrum is not None:
            dims.append(self.spectrum.out_dim)
        self.fusion = Fusion(tuple(dims), cfg.embed_dim)
        self.classifier = Classifier(cfg.embed_dim)
        self.projection = ProjectionHead(cfg.embed_dim, cfg.proj_dim)

    @staticmethod
    def loss_terms(out: MCLCROutput, batch: dict, cfg: MCLCRConfig):
        """L_ce + lambda_con L_supcon (model.mclcr.loss.mclcr_loss) for a batch {"label": (B,)}."""
        from .loss import mclcr_loss

        return mclcr_loss(out, batch["label"], cfg)

    def forward(self, rgb: torch.Tensor, freq: torch.Tensor | None = None) -> MCLCROutput:
        """`freq` (LRL's DCT image, passed by the shared trainer) is accepted and ignored."""
        low, _, high = self.backbone(rgb)
        parts = [high.mean(dim=(2, 3))]
        if self.style is not None:
            parts.append(self.style(low))
        if self.spectrum is not None:
            parts.append(self.spectrum(rgb))
        h = self.fusion([p.to(parts[0].dtype) for p in parts])
        return MCLCROutput(self.classifier(h), self.projection(h))
