"""LRLNet: the two-stream network of section 3 and its Table 4 ablation variants, one code path.

Per level (low, mid, high) the streams run one stage each, then are joined:
- full / rgb_freq_rfam: RFAM; A1*U1 and A2*U2 continue down the RGB and frequency streams (Fig. 2, as in
  DeepfakeBench), their sum (eq. 6) is the level's fused feature;
- rgb_freq: the streams stay independent, the fused feature is concat(U1, U2) (variant 2 "directly
  concatenates the final feature maps");
- rgb / rgb_mpsm: the RGB feature itself.
Classifier: MPSM variants flatten s_hat into one fully connected layer (eq. 11); the others (no s_hat)
global-average-pool the high fused feature into one fully connected layer. All variants have the decoder.
The sigmoids of eq. 11 and 12 are folded into the losses (BCE with logits, safe under bf16 autocast):
outputs are logits, `prob` applies the sigmoid.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .decoder import Decoder
from .detector import ATTENTION, MASK, SIMILARITY
from .mpsm import MPSM
from .outputs import LRLOutput
from .rfam import RFAM
from .streams import Stream


class LRLNet(nn.Module):
    """Two-stream RGB + frequency network with RFAM, MPSM, classifier and mask decoder (variant per config); a
    model.detector.Detector that shows its mask, and s_hat with MPSM and the RFAM maps with RFAM."""

    balanced_batches = False
    needs_known_masks = True  # L_sim and L_seg's targets come from the mask

    def __init__(self, cfg: ModelConfig, load_weights: bool = True):
        super().__init__()
        self.cfg = cfg
        self.rgb = Stream(cfg.backbone, 3, cfg.strides, cfg.pretrained, load_weights)
        self.freq = (
            Stream(cfg.backbone, 1, cfg.strides, cfg.pretrained, load_weights) if cfg.use_freq else None
        )
        chans = self.rgb.channels
        self.rfam = nn.ModuleList(RFAM(c) for c in chans) if cfg.use_rfam else None
        fused = tuple(2 * c for c in chans) if cfg.use_freq and not cfg.use_rfam else chans
        self.mpsm = MPSM(cfg.k) if cfg.use_mpsm else None
        self.classifier = nn.Linear(cfg.k**4 if cfg.use_mpsm else fused[-1], 1)
        self.decoder = Decoder(fused, cfg.decoder_width)

    @property
    def shows(self) -> frozenset[str]:
        return frozenset(
            {MASK}
            | ({SIMILARITY} if self.cfg.use_mpsm else set())
            | ({ATTENTION} if self.cfg.use_rfam else set())
        )

    @staticmethod
    def loss_terms(out: LRLOutput, batch: dict, cfg: ModelConfig):
        """Eq. 10-13 (model.losses.lrl_loss) for a batch {"label": (B,), "mask": (B, 1, H, W)}."""
        from .losses import lrl_loss

        return lrl_loss(out, batch["label"], batch["mask"], cfg)

    def _levels(
        self, rgb: torch.Tensor, freq: torch.Tensor | None
    ) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
        """Run the streams stage by stage; the fused feature of each level and the RFAM attention maps."""
        fused, attention = [], []
        x1, x2 = self.rgb.norm(rgb), freq
        for i, stage in enumerate(self.rgb.stages):
            x1 = stage(x1)
            if self.freq is None:
                fused.append(x1)
                continue
            x2 = self.freq.stages[i](x2)
            if self.rfam is None:
                fused.append(torch.cat([x1, x2], dim=1))
                continue
            x1, x2, level, a = self.rfam[i](x1, x2)
            fused.append(level)
            attention.append(a)
        return fused, tuple(attention)

    def forward(self, rgb: torch.Tensor, freq: torch.Tensor | None = None) -> LRLOutput:
        """rgb (B, 3, H, W) in [-1, 1] (the RGB stream converts it to its weights' normalisation); freq
        (B, 1, H, W) standardised, required by the two-stream variants."""
        if self.freq is not None and freq is None:
            raise ValueError(f"model variant {self.cfg.variant!r} needs the frequency input")
        fused, attention = self._levels(rgb, freq if self.freq is not None else None)
        if self.mpsm is not None:
            s_hat = self.mpsm(fused)
            logit = self.classifier(s_hat.flatten(1).to(self.classifier.weight.dtype))  # eq. 11 (pre-sigmoid)
        else:
            s_hat = None
            logit = self.classifier(fused[-1].mean(dim=(2, 3)))
        mask_logits = self.decoder(fused, rgb.shape[-2:])  # eq. 12 (pre-sigmoid)
        return LRLOutput(logit.squeeze(1), s_hat, mask_logits, attention)
