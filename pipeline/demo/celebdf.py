"""`lrl-prep demo-data --dataset celebdf`: a small Celeb-DF-v2-shaped tree (pipeline.dataset.layout).

Three celebrities id0, id1, id2 (the FF++ demo's photographs, each its own scene) with one real each
in Celeb-real (nested under Celeb-real/videos/, as some copies are), two reals in YouTube-real, and a
Celeb-synthesis fake `idA_idB_0000` of each celebrity A with donor B = the next one, aligned frame to
frame with Celeb-real/idA_0000. List_of_testing_videos.txt names one video of each folder, with the
dataset's inverted labels (1 = real, 0 = fake); the others are training videos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.dataset.layout import CELEB_FAKE, CELEB_REAL, CELEBDF_NESTED, CELEBDF_TEST_LIST, YOUTUBE_REAL
from pipeline.demo.clips import Clip, ClipDemo, write_clip_tree
from pipeline.demo.scene import sample_spec
from pipeline.demo.tree import PHOTO_OF_PARITY, SIZES

CELEBS, YOUTUBE = 3, 2
TESTS = (f"{YOUTUBE_REAL}/00001.mp4", f"{CELEB_REAL}/id2_0000.mp4", f"{CELEB_FAKE}/id2_id0_0000.mp4")


def plan(seed: int, frames: int) -> tuple[list[Clip], dict[str, bytes]]:
    """The clips of the tree and its test list."""
    rng = np.random.default_rng([seed, 17])
    celebs = [sample_spec(rng, f"id{i}", PHOTO_OF_PARITY[i % 2], frames) for i in range(CELEBS)]
    youtube = [sample_spec(rng, f"{i:05d}", PHOTO_OF_PARITY[(i + 1) % 2], frames) for i in range(YOUTUBE)]
    clips = [Clip(f"{CELEB_REAL}/{CELEBDF_NESTED}/{c.video}_0000.mp4", (c,)) for c in celebs]
    clips += [Clip(f"{YOUTUBE_REAL}/{y.video}.mp4", (y,)) for y in youtube]
    for i, target in enumerate(celebs):
        donor = celebs[(i + 1) % CELEBS]
        clips.append(Clip(f"{CELEB_FAKE}/{target.video}_{donor.video}_0000.mp4", (target,), donor))
    labels = {path: "0" if path.startswith(CELEB_FAKE) else "1" for path in TESTS}  # inverted: 1 = real
    listing = "".join(f"{labels[path]} {path}\n" for path in TESTS).encode()
    return clips, {CELEBDF_TEST_LIST: listing}


def make_celebdf_demo(out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1) -> ClipDemo:
    """Write the Celeb-DF-shaped demo tree into OUT (new, empty, or an earlier demo)."""
    clips, side = plan(seed, SIZES[size].frames)
    return write_clip_tree(out, "celebdf", seed, size, clips, side, n_jobs)
