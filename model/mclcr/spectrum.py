"""Patch-wise amplitude and phase dual attention module (frequency domain).

The abstract fixes: forgery artifacts are "exposed in the patch-wise phase and amplitude spectrum and exhibit
different clues"; a "patch-wise amplitude and phase dual attention module" lets the two "capture locally
correlated inconsistencies with each other". Our reading:
- Spectra: the RGB input (B, 3, H, W) is cut into non-overlapping p x p patches (a partial last row /
  column of patches is dropped); each channel of each patch gets its real 2D FFT (torch.fft.rfft2, the
  p x (p//2+1) non-redundant half of a real signal's spectrum). Amplitude log(1 + |F|) (dynamic range),
  phase angle(F) / pi in [-1, 1]. Each is laid out as a map (B, 3 p (p//2+1), H//p, W//p): one position per
  patch, its spectral coefficients as channels.
- Dual attention: each spectrum is embedded per patch (1x1 conv, then a 3x3 conv over neighbouring
  patches); then the amplitude tokens attend over the phase tokens and the phase tokens over the
  amplitude tokens (scaled dot-product cross-attention, multi-head, residual + LayerNorm): each patch's
  amplitude is compared with every patch's phase and vice versa, so inconsistencies between patches and
  between the two spectra are what the attention weights express. Output: the two attended token sets
  averaged over patches and concatenated, (B, 2 width).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def patch_spectra(x: torch.Tensor, patch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Amplitude |F| and phase angle(F) (radians) of every p x p patch's real FFT.

    x (B, C, H, W) float -> two tensors (B, C, H//p, W//p, p, p//2+1), float32: entry [..., i, j, u, v] is
    coefficient (u, v) of numpy.fft.rfft2 of x[..., i p:(i+1) p, j p:(j+1) p]. Raises ValueError when the
    image is smaller than one patch.
    """
    b, c, h, w = x.shape
    if h < patch or w < patch:
        raise ValueError(f"image of {h}x{w} px is smaller than one {patch}x{patch} patch")
    with torch.autocast(device_type=x.device.type, enabled=False):
        tiles = x.float()[..., : h // patch * patch, : w // patch * patch]
        tiles = tiles.unfold(2, patch, patch).unfold(3, patch, patch)  # (B, C, H//p, W//p, p, p)
        spec = torch.fft.rfft2(tiles)
        return spec.abs(), spec.angle()


def spectrum_maps(x: torch.Tensor, patch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Network inputs: log(1 + amplitude) and phase / pi, each (B, C p (p//2+1), H//p, W//p) float32."""
    amp, phase = patch_spectra(x, patch)
    b, c, gh, gw = amp.shape[:4]

    def as_map(t: torch.Tensor) -> torch.Tensor:
        return t.permute(0, 1, 4, 5, 2, 3).reshape(b, -1, gh, gw)

    return as_map(torch.log1p(amp)), as_map(phase / math.pi)


def _embed(in_channels: int, width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
    )


class CrossAttention(nn.Module):
    """Tokens q (B, N, d) attend over tokens kv (B, N, d): LN(q + W_o softmax(Q K^T / sqrt(d_h)) V),
    multi-head."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        b, n, d = q.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, -1, self.heads, d // self.heads).transpose(1, 2)

        k, v = self.kv(kv).chunk(2, dim=-1)
        att = F.scaled_dot_product_attention(split(self.q(q)), split(k), split(v))
        return self.norm(q + self.out(att.transpose(1, 2).reshape(b, n, d)))


class AmplitudePhaseAttention(nn.Module):
    """RGB (B, 3, H, W) -> frequency vector (B, 2 width): patch spectra, embeddings, mutual
    cross-attention."""

    def __init__(self, patch: int, width: int, heads: int, in_channels: int = 3):
        super().__init__()
        self.patch = patch
        coeffs = in_channels * patch * (patch // 2 + 1)
        self.embed_amp = _embed(coeffs, width)
        self.embed_phase = _embed(coeffs, width)
        self.amp_from_phase = CrossAttention(width, heads)
        self.phase_from_amp = CrossAttention(width, heads)
        self.out_dim = 2 * width

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        amp, phase = spectrum_maps(rgb, self.patch)
        a = self.embed_amp(amp.to(rgb.dtype)).flatten(2).transpose(1, 2)  # (B, N patches, width)
        p = self.embed_phase(phase.to(rgb.dtype)).flatten(2).transpose(1, 2)
        a2, p2 = self.amp_from_phase(a, p), self.phase_from_amp(p, a)
        return torch.cat([a2.mean(dim=1), p2.mean(dim=1)], dim=1)
