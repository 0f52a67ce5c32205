"""Who gives the face of a swap (Face X-ray's nearest-landmark rule, per video and per frame) and the seeds.

Identity: for a target real AAA, the candidates are the other reals of AAA's split (so no identity of one
split appears in another's fakes: a swap's source is as unseen at test time as its target) whose face 0
is at least MIN_SOURCE_SIDE of the target's (a smaller source would be upscaled into the target and its
blur would mark the fake). Among them, the K_NEAREST whose median landmark shape (five landmarks aligned
onto a template: pose and proportions, pipeline.kernels.blend.landmark_shape) is nearest to AAA's, and one
of those drawn with the seed. Face X-ray searches nearest landmarks among all other identities and draws
from the 100 nearest; a dataset of a few hundred reals has far fewer, so K_NEAREST is 3.
Frame: for each target frame, the source frame (among up to SOURCE_FRAMES evenly spaced ones with a face)
whose landmark shape is nearest to the target's in that frame.
"""

from __future__ import annotations

import zlib

import numpy as np

from pipeline.kernels.blend import landmark_shape

K_NEAREST = 3
MIN_SOURCE_SIDE = 0.5  # a source face smaller than this fraction of the target's is refused
SOURCE_FRAMES = 64  # source frames a swap chooses from (evenly spaced; memory: they are held decoded)


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """A generator for one draw, from the seed and names (e.g. method and fake): stable across runs and
    machines."""
    return np.random.default_rng([seed, *(zlib.crc32(n.encode()) for n in names)])


def median_shape(landmarks: list) -> np.ndarray | None:
    """(10,) median landmark shape of a track's frames with a face, or None without any."""
    shapes = [landmark_shape(m) for m in landmarks if m is not None]
    return np.median(shapes, axis=0) if shapes else None


def choose_source(
    target: str, seed: int, candidates: dict[str, tuple[np.ndarray, float]], target_side: float
) -> tuple[str | None, str]:
    """(source id, "") for target `target`, or (None, why not). candidates: id -> (median shape, median face
    side) of every real of the target's split with a face, the target included."""
    if target not in candidates:
        return None, "the target has no face"
    shape = candidates[target][0]
    others = {k: v for k, v in candidates.items() if k != target}
    if not others:
        return None, "no other identity in its split to take a face from"
    big = {k: v for k, v in others.items() if v[1] >= MIN_SOURCE_SIDE * target_side}
    if not big:
        largest = max(others, key=lambda k: others[k][1])
        return None, (
            f"source too small: every other identity of its split has a face under "
            f"{MIN_SOURCE_SIDE:g} x this one's {target_side:.0f} px (largest: {largest}, "
            f"{others[largest][1]:.0f} px)"
        )
    ranked = sorted(big, key=lambda k: (float(np.linalg.norm(big[k][0] - shape)), k))[:K_NEAREST]
    return ranked[int(rng_for(seed, "FaceSwapBlend", target).integers(len(ranked)))], ""


def source_frames(target_marks: list, source_marks: list) -> list[int | None]:
    """Per target frame, the nearest-pose source frame (None where the target has no face)."""
    with_face = [i for i, m in enumerate(source_marks) if m is not None]
    if not with_face:
        return [None] * len(target_marks)
    pool = [with_face[int(i)] for i in np.unique(np.linspace(0, len(with_face) - 1, SOURCE_FRAMES).round())]
    shapes = np.stack([landmark_shape(source_marks[i]) for i in pool])
    out: list[int | None] = []
    for marks in target_marks:
        if marks is None:
            out.append(None)
            continue
        out.append(pool[int(np.argmin(np.linalg.norm(shapes - landmark_shape(marks), axis=1)))])
    return out
