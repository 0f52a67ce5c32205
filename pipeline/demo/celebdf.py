"""`lrl-prep demo-data --dataset celebdf`: a small Celeb-DF-v2-shaped tree (pipeline.dataset.layout).

Three celebrities id0, id1, id2 (the FF++ demo's photographs, each its own scene) with one real each
in Celeb-real (nested under Celeb-real/videos/, as some copies are) and reals in YouTube-real; each
Celeb-synthesis fake `idA_idB_0000` of celebrity A with donor B is aligned frame to frame with
Celeb-real/idA_0000. List_of_testing_videos.txt, with the dataset's inverted labels (1 = real,
0 = fake), names the test videos; the others are training videos.
    tiny:  YouTube-real 00000, 00001; fakes idA_id(A+1); test: 00001, id2_0000, id2_id0_0000
           (2 reals, 1 fake)
    small: YouTube-real 00000-00002; fakes idA_id(A+1) and idA_id(A+2); test: 00001, 00002,
           id1_0000, id2_0000 and the four fakes of id1 and id2 (4 reals, 4 fakes)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.dataset.layout import CELEB_FAKE, CELEB_REAL, CELEBDF_NESTED, CELEBDF_TEST_LIST, YOUTUBE_REAL
from pipeline.demo.clips import Clip, ClipDemo, write_clip_tree
from pipeline.demo.scene import sample_spec
from pipeline.demo.tree import PHOTO_OF_PARITY, SIZES

CELEBS = 3
YOUTUBE = {"tiny": 2, "small": 3}
DONORS = {"tiny": (1,), "small": (1, 2)}  # celebrity A's fakes take the donors id(A+k), k in these
TESTS = {
    "tiny": (f"{YOUTUBE_REAL}/00001.mp4", f"{CELEB_REAL}/id2_0000.mp4", f"{CELEB_FAKE}/id2_id0_0000.mp4"),
    "small": (
        f"{YOUTUBE_REAL}/00001.mp4",
        f"{YOUTUBE_REAL}/00002.mp4",
        f"{CELEB_REAL}/id1_0000.mp4",
        f"{CELEB_REAL}/id2_0000.mp4",
        f"{CELEB_FAKE}/id1_id2_0000.mp4",
        f"{CELEB_FAKE}/id1_id0_0000.mp4",
        f"{CELEB_FAKE}/id2_id0_0000.mp4",
        f"{CELEB_FAKE}/id2_id1_0000.mp4",
    ),
}


def plan(seed: int, size: str) -> tuple[list[Clip], dict[str, bytes]]:
    """The clips of the tree and its test list."""
    frames = SIZES[size].frames
    rng = np.random.default_rng([seed, 17])
    celebs = [sample_spec(rng, f"id{i}", PHOTO_OF_PARITY[i % 2], frames) for i in range(CELEBS)]
    youtube = [
        sample_spec(rng, f"{i:05d}", PHOTO_OF_PARITY[(i + 1) % 2], frames) for i in range(YOUTUBE[size])
    ]
    clips = [Clip(f"{CELEB_REAL}/{CELEBDF_NESTED}/{c.video}_0000.mp4", (c,)) for c in celebs]
    clips += [Clip(f"{YOUTUBE_REAL}/{y.video}.mp4", (y,)) for y in youtube]
    for i, target in enumerate(celebs):
        for k in DONORS[size]:
            donor = celebs[(i + k) % CELEBS]
            clips.append(Clip(f"{CELEB_FAKE}/{target.video}_{donor.video}_0000.mp4", (target,), donor))
    labels = {path: "0" if path.startswith(CELEB_FAKE) else "1" for path in TESTS[size]}  # inverted: 1 = real
    listing = "".join(f"{labels[path]} {path}\n" for path in TESTS[size]).encode()
    return clips, {CELEBDF_TEST_LIST: listing}


def make_celebdf_demo(out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1) -> ClipDemo:
    """Write the Celeb-DF-shaped demo tree into OUT (new, empty, or an earlier demo)."""
    clips, side = plan(seed, size)
    return write_clip_tree(out, "celebdf", seed, size, clips, side, n_jobs)
