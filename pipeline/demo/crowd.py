"""Two-person demo scenes (DFDC's case: several people, a fake may swap only one face).

A real: the two shipped photographs side by side (pipeline.demo.scene's astronaut on the left, its
face about 150 px wide, and Grace Hopper on the right, about 115 px), each moving on its own smooth
path over one background. Its fake: the same frames with only the right person's face swapped
(synth.deepfakes, the astronaut's face as donor); the left face is untouched pixel for pixel. With
these sizes the left face is the heavier track (face 0 of pipeline.kernels.detect) and the swapped
one is face 1, so choosing the fake's face by size alone would pick the wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.demo.scene import (
    FPS,
    RealSpec,
    Wave,
    background,
    donor_face,
    frame_geom,
    render_frame,
    sample_spec,
)
from pipeline.demo.synth import FrameGeom, change_mask, deepfakes


@dataclass(frozen=True)
class Crowd:
    """A rendered two-person real and its one-face fake, with the truth of every frame."""

    real: list[np.ndarray]  # (H, W, 3) uint8 frames
    fake: list[np.ndarray]
    masks: list[np.ndarray]  # (H, W) bool: where the fake differs from the real
    boxes: list[list[tuple[float, float, float, float]]]  # per person (0 left, 1 right), per frame: face box
    swapped: int  # the person whose face the fake swaps


# person: (photo, face width px, centre x, centre y)
PEOPLE = (("astronaut", 150.0, 165.0, 230.0), ("grace_hopper", 115.0, 480.0, 235.0))


def crowd_specs(seed: int, frames: int) -> tuple[RealSpec, RealSpec]:
    """The two people: each a `sample_spec` (lighting, tilt, flicker from the seed) placed in its half of
    the frame, moving by at most 20 px across and 12 px up and down, unmirrored."""
    rng = np.random.default_rng([seed, 2])
    specs = []
    for k, (photo, width, cx, cy) in enumerate(PEOPLE):
        spec = sample_spec(rng, f"crowd{k}", photo, frames)
        specs.append(
            replace(
                spec,
                flip=False,
                face_width=width,
                center=(cx, cy),
                path_x=Wave(20.0, spec.path_x.freq, spec.path_x.phase),
                path_y=Wave(12.0, spec.path_y.freq, spec.path_y.phase),
                background="gradient",
            )
        )
    return specs[0], specs[1]


def render_people(specs: tuple[RealSpec, ...]) -> tuple[list[np.ndarray], list[list[FrameGeom]]]:
    """(uint8 RGB frames, per person the FrameGeom of each frame): the people composited in order (later
    ones in front) over the first one's background, `specs[0].frames` frames."""
    bg = background(specs[0])
    geoms = [[frame_geom(s, i) for i in range(specs[0].frames)] for s in specs]
    frames = []
    for i in range(specs[0].frames):
        frame = bg
        for spec, person in zip(specs, geoms, strict=True):
            frame = render_frame(spec, person[i], frame, i).astype(np.float32)
        frames.append(frame.astype(np.uint8))
    return frames, geoms


def render_crowd(seed: int = 0, frames: int = 10, swapped: int = 1) -> Crowd:
    """Render the real (person 1 composited over person 0 over person 0's background) and its fake."""
    specs = crowd_specs(seed, frames)
    reals, geoms = render_people(specs)
    real, fake, masks = [], [], []
    for i, frame in enumerate(reals):
        donor = donor_face(specs[1 - swapped], geoms[swapped][i])
        amount = 0.675 + 0.325 * math.sin(2 * math.pi * i / frames)
        forged, region = deepfakes(frame, geoms[swapped][i], donor, amount)
        real.append(frame)
        fake.append(forged)
        masks.append(change_mask(frame, forged, region))
    boxes = [[tuple(round(v, 2) for v in g.box) for g in person] for person in geoms]
    return Crowd(real, fake, masks, boxes, swapped)


def write_crowd(real_path: Path, fake_path: Path, seed: int = 0, frames: int = 10) -> Crowd:
    """Write the two-person real and its one-face fake as lossless .mp4 (demo "raw" encoding); the truth."""
    from pipeline.kernels.encode import ENCODINGS, write_videos

    crowd = render_crowd(seed, frames)
    for path, video in ((real_path, crowd.real), (fake_path, crowd.fake)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_videos([(Path(path), ENCODINGS["raw"])], video, FPS)
    return crowd
