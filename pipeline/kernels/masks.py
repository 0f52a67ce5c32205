"""Manipulation masks (paper section 3.3): the pure maths, on arrays.

Definition (the paper's recipe, made exact):

    g = (0.299 |dR| + 0.587 |dG| + 0.114 |dB|) / 255,   M = g > threshold   (strictly)

where dR, dG, dB are the per-channel differences between a fake crop and its real crop, taken
before the grey conversion (ITU-R BT.601 weights, those of OpenCV's RGB2GRAY). A difference exactly
at the threshold is NOT forged. The threshold is read as the decimal it is written as (0.15 is
3/20), so with the integer sum S = 299 |dR| + 587 |dG| + 114 |dB| the test is exactly
S > floor(255000 * threshold). The fast kernel computes S in float32, which is exact (S <= 255000 <
2**24), so it equals the definition bit for bit; OpenCV's own cvtColor rounds the grey level to an
integer with 14-bit weights and would differ near the threshold.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, R, G, B
INT_WEIGHTS = {"RGB": (299, 587, 114), "BGR": (114, 587, 299)}  # 1000 x GRAY_WEIGHTS, per channel order
SCALE = 1000 * 255


def cut_level(threshold: float) -> int:
    """The largest integer S = 1000 * 255 * g that is not forged: floor(255000 * threshold)."""
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    return math.floor(SCALE * Fraction(repr(threshold)))


def diff_gray(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Plain float reference: grey level in [0, 1] of the per-channel absolute RGB difference."""
    _check_pair(fake, real)
    diff = np.abs(fake.astype(np.float64) - real.astype(np.float64))
    return diff @ np.asarray(GRAY_WEIGHTS) / 255.0


def diff_mask(fake: np.ndarray, real: np.ndarray, threshold: float, order: str = "RGB") -> np.ndarray:
    """Fast exact mask, uint8 0/255: M = grey(|fake - real|) / 255 > threshold (paper section 3.3)."""
    import cv2

    _check_pair(fake, real)
    weights = np.asarray(INT_WEIGHTS[order], np.float32).reshape(1, 3)
    diff = cv2.absdiff(fake, real)
    level = cv2.transform(diff.astype(np.float32), weights)  # exact integer S in float32
    return np.where(level > cut_level(threshold), np.uint8(255), np.uint8(0))


def _check_pair(fake: np.ndarray, real: np.ndarray) -> None:
    if fake.shape != real.shape:
        raise ValueError(f"fake {fake.shape} and real {real.shape} differ in shape")
    if fake.ndim != 3 or fake.shape[2] != 3 or fake.dtype != np.uint8 or real.dtype != np.uint8:
        raise ValueError(f"expected two (H, W, 3) uint8 images, got {fake.shape} {fake.dtype} / {real.dtype}")


def warp_mask(gray: np.ndarray, transform, size: int) -> np.ndarray:
    """A full-frame grey mask (e.g. an official mask video frame) in crop coordinates, uint8 0/255.

    Warped with the crop's 2x3 affine transform (bilinear, outside the frame = 0), then binarised
    at > 127: the mask videos are lossy, so near-black noise must not count.
    """
    import cv2

    matrix = np.asarray(transform, np.float64).reshape(2, 3)
    warped = cv2.warpAffine(gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.where(warped > 127, np.uint8(255), np.uint8(0))


def mask_stats(mask: np.ndarray) -> tuple[float, int]:
    """(fraction of forged pixels, number of 8-connected forged components)."""
    import cv2

    binary = (mask > 0).astype(np.uint8)
    n_labels, _ = cv2.connectedComponents(binary, connectivity=8)
    return float(binary.mean()), int(n_labels - 1)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (nonzero = forged); 1.0 when both are empty."""
    a, b = a > 0, b > 0
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
