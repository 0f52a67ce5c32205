"""Which face of a multi-face fake was forged (pure): the face whose box differs most from its real.

A fake made from a real keeps the real's frames outside what it changed (FF++, DFD, DFDC are made
frame by frame from their real), so the mean absolute difference between the fake frame and the real
frame inside a face's box is large for the swapped face and only compression noise for the others.
"""

from __future__ import annotations

import math

import numpy as np


def box_difference(fake: np.ndarray, real: np.ndarray, box) -> float | None:
    """Mean |fake - real| (grey levels 0-255, over pixels and channels) inside a x0, y0, x1, y1 box.

    fake, real: (H, W, 3) uint8 frames of one size; the box is rounded and clipped to the frame.
    None when the clipped box is empty.
    """
    h, w = fake.shape[:2]
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(w, round(box[2])), min(h, round(box[3]))
    if x1 <= x0 or y1 <= y0:
        return None
    a = fake[y0:y1, x0:x1].astype(np.int16)
    return float(np.abs(a - real[y0:y1, x0:x1]).mean())


def mean_differences(per_frame: list[list[float | None]]) -> list[float | None]:
    """Per face: the mean of its per-frame box differences (None where it had no box); None when none."""
    out = []
    for values in per_frame:
        seen = [v for v in values if v is not None]
        out.append(float(np.mean(seen)) if seen else None)
    return out


def most_changed(differences: list[float | None]) -> int:
    """The face with the largest mean difference (ties: the lower id; a face never measured never wins)."""
    scores = [-math.inf if d is None else d for d in differences]
    return int(np.argmax(scores))
