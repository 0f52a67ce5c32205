"""Where a fake's frames sit in its real's (pure): fakes cropped or padded by a few pixels.

Some fakes are their real's frames cut to another size: FF++ Face2Face and NeuralTextures crop the
real centred to a width that is a multiple of 32 (854 -> 832 px, offset 11), Celeb-DF's synthesis
pads it on the right to a multiple of 16 (942 -> 944 px, offset 0). Outside the forged region the
fake equals its real, so the shift is found from the frames themselves: the one that minimises the
mean squared grey difference over the overlap, summed over a few frame pairs (cv2.matchTemplate).

An offset (ox, oy) means fake pixel (x, y) is real pixel (x + ox, y + oy). The fake is then read as
a frame of the real's size (`place`), so the real's face boxes and crop transforms apply unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SHIFT = 64  # largest size difference, per axis, in pixels, taken as a crop or a pad
MATCH_LEVEL = 12  # grey levels: a pixel matches its real within this (c40 compression noise: median 2)
MIN_MATCHING = 0.5  # fraction of the overlap that must match (measured 0.90-0.99 right, ~0.10 wrong)


@dataclass(frozen=True)
class Offset:
    """A fake's frame origin in its real's frame, and how well the frames agree there."""

    x: int
    y: int
    matching: float  # fraction of overlap pixels within MATCH_LEVEL grey levels, worst frame pair

    @property
    def ok(self) -> bool:
        return self.matching >= MIN_MATCHING


def _template_range(fake: int, real: int) -> tuple[int, int]:
    """Fake pixels [start, end) lying inside the real at every candidate offset along one axis."""
    lo, hi = min(0, real - fake), max(0, real - fake)
    return -lo, real - hi


def find_offset(fakes: list[np.ndarray], reals: list[np.ndarray]) -> Offset | None:
    """The shift placing the fake frames inside (or around) the real ones; None when the sizes differ by
    more than MAX_SHIFT on an axis.

    fakes, reals: same-length lists of (H, W) uint8 grey frames, all fakes one size, all reals one size.
    """
    import cv2

    (hf, wf), (hr, wr) = fakes[0].shape[:2], reals[0].shape[:2]
    if abs(wf - wr) > MAX_SHIFT or abs(hf - hr) > MAX_SHIFT:
        return None
    (x0, x1), (y0, y1) = _template_range(wf, wr), _template_range(hf, hr)
    total = None
    for fake, real in zip(fakes, reals, strict=True):
        cost = cv2.matchTemplate(
            real.astype(np.float32), fake[y0:y1, x0:x1].astype(np.float32), cv2.TM_SQDIFF
        )
        total = cost if total is None else total + cost
    py, px = np.unravel_index(int(np.argmin(total)), total.shape)
    matching = min(
        float(
            (
                np.abs(f[y0:y1, x0:x1].astype(np.int16) - r[py : py + y1 - y0, px : px + x1 - x0])
                <= MATCH_LEVEL
            ).mean()
        )
        for f, r in zip(fakes, reals, strict=True)
    )
    return Offset(int(px - x0), int(py - y0), matching)


def place(fake: np.ndarray, offset: Offset, background: np.ndarray) -> np.ndarray:
    """The fake frame as a frame of the real's size: its pixels at `offset`, `background`'s where it has
    none; fake (h, w[, C]), background (H, W[, C]) of one dtype; returns a new (H, W[, C]) array.

    Frames take the real frame as background: the fake equals its real outside the forged region, so
    the few border pixels a crop cut off are the real's (a black border would mark every fake crop
    near the frame's edge). A mask video of the fake takes zeros (nothing forged there).
    """
    out = background.copy()
    h, w = background.shape[:2]
    hf, wf = fake.shape[:2]
    x0, y0 = max(0, offset.x), max(0, offset.y)
    x1, y1 = min(w, offset.x + wf), min(h, offset.y + hf)
    out[y0:y1, x0:x1] = fake[y0 - offset.y : y1 - offset.y, x0 - offset.x : x1 - offset.x]
    return out


def own_transform(transform, offset: tuple[int, int]) -> np.ndarray:
    """A crop transform of the real's frame (2x3, real pixels -> crop) as one of the fake's own frames:
    fake pixel (x, y) is real pixel (x + ox, y + oy), so the translation gains A @ (ox, oy)."""
    matrix = np.asarray(transform, np.float64).reshape(2, 3).copy()
    matrix[:, 2] += matrix[:, :2] @ np.asarray(offset, np.float64)
    return matrix
