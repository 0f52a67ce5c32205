"""The frequency-aware cue of LRL (paper section 3.1, eq. 1-3): a DCT high-pass of the grey image.

x2 = D^-1(F(D(gray(x1)), alpha)) with D the orthonormal 2-D DCT-II of the whole H x W image and F
zeroing the top-left triangle of relative side alpha: coefficient (u, v) (u the row, v the column
frequency) is zeroed when u / H + v / W < alpha. For any alpha > 0 the DC coefficient (0, 0) goes,
so every output image has mean zero and a constant image maps to zero.

Grey is BT.601 luma, 0.299 R + 0.587 G + 0.114 B on 0..255 values (no rounding), so the output is
in grey-level units, mean 0: on 299 x 299 crops of FF++ frames (c23 video, lossless examples) its
standard deviation is about 7 (99.8 % of values within -50..55, extremes about +-115); on the
astronaut crops of benchmarks/shards.py 12.6 (-63..71, extremes -139..164). Stored as float16
(steps of 0.0625 at 100); the trainer divides it by the shard set's standard deviation
(model.inputs.freq_input), never (x / 255 - 0.5) / 0.5, which would feed it -1 +- 0.05.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, as the masks stage
DEFAULT_ALPHA = 0.33  # paper section 4.1
CHUNK = 2  # images per FFT call: small chunks stay in cache (299x299, 1 thread: 1-2 > 4 > 8 > 16 img/s)


def gray(rgb: np.ndarray) -> np.ndarray:
    """BT.601 grey of (..., H, W, 3) RGB values in 0..255, as float32 (..., H, W)."""
    if rgb.shape[-1] != 3:
        raise ValueError(f"expected (..., H, W, 3) RGB images, got shape {rgb.shape}")
    return rgb.astype(np.float32, copy=False) @ GRAY_WEIGHTS


@functools.lru_cache(maxsize=16)
def keep_mask(height: int, width: int, alpha: float) -> np.ndarray:
    """Float32 (H, W): 0 where u / H + v / W < alpha (the low-frequency triangle, eq. 2), else 1."""
    u = np.arange(height)[:, None] / height
    v = np.arange(width)[None, :] / width
    keep = (u + v >= alpha).astype(np.float32)
    keep.flags.writeable = False
    return keep


def _filter(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    coeffs = scipy.fft.dctn(x, axes=(-2, -1), norm="ortho")  # eq. 1
    coeffs *= keep  # eq. 2
    return scipy.fft.idctn(coeffs, axes=(-2, -1), norm="ortho", overwrite_x=True)  # eq. 3


def highpass(images: np.ndarray, alpha: float = DEFAULT_ALPHA, dtype=np.float32) -> np.ndarray:
    """Eq. 1-3 on grey images (H, W) or (N, H, W): DCT, zero the low-frequency triangle, inverse DCT."""
    x = np.asarray(images, dtype=dtype)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected (H, W) or (N, H, W) grey images, got shape {x.shape}")
    batch = x.reshape((-1,) + x.shape[-2:])
    keep = keep_mask(x.shape[-2], x.shape[-1], float(alpha)).astype(dtype, copy=False)
    out = np.empty_like(batch)
    for start in range(0, len(batch), CHUNK):
        out[start : start + CHUNK] = _filter(batch[start : start + CHUNK], keep)
    return out.reshape(x.shape)


def frequency_cue(rgb: np.ndarray, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """The frequency input x2 of (H, W, 3) or (N, H, W, 3) RGB crops: float32 (H, W) or (N, H, W), grey
    levels."""
    if rgb.ndim not in (3, 4) or rgb.shape[-1] != 3:
        raise ValueError(f"expected (H, W, 3) or (N, H, W, 3) RGB crops, got shape {rgb.shape}")
    batch = rgb.reshape((-1,) + rgb.shape[-3:])
    keep = keep_mask(rgb.shape[-3], rgb.shape[-2], float(alpha))
    out = np.empty(batch.shape[:3], np.float32)
    for start in range(0, len(batch), CHUNK):  # grey per chunk too: the chunk stays in cache
        out[start : start + CHUNK] = _filter(gray(batch[start : start + CHUNK]), keep)
    return out.reshape(rgb.shape[:-1])
