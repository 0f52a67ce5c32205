"""Demo trees of one-quality datasets (Celeb-DF, DFDC): clips rendered from scenes, written at one quality.

A `Clip` is one video file of the tree: the scene it shows (`kind`, a key of SCENES, and the people
in it) and, for a fake, the donor whose face replaces the swapped one. Clips of one scene share its
rendered frames: a fake is made from frame i of its real scene, frame i to frame i, so it is pixel-
aligned with the real clip of that scene (when the tree has one). Every file is written like the FF++
demo's c23 (H.264 crf 23 yuv420p, 640x480, 25 fps, one x264 thread: one seed, the same bytes).

To add a scene (e.g. two people, one face swapped): a `Scene` in SCENES whose `render` draws the
people and whose `forge` swaps a face in those frames, then clips of that `kind` in a tree's plan
(pipeline.demo.celebdf, pipeline.demo.dfdc).

demo_truth.json (pipeline.demo.tree.demo_truth_path), as in the FF++ demo: "complete", "files" (so a
rebuild replaces them), and {"dataset", "seed", "demo_size", "clips": {file: {"label", "kind",
"people", "donor"}}}.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pipeline.demo.crowd import render_people
from pipeline.demo.scene import FPS, HEIGHT, WIDTH, RealSpec, donor_face, render_video
from pipeline.demo.synth import FORGERIES
from pipeline.demo.tree import earlier_files, finish, write_truth
from pipeline.errors import LrlError
from pipeline.kernels.encode import ENCODINGS, write_videos
from pipeline.store.atomic import remove_stale_temps, write_bytes

ORIG_ENCODING = ENCODINGS["c23"]  # the one quality of these datasets, as distributed


@dataclass(frozen=True)
class Scene:
    """How clips of one kind are drawn.

    render(people) -> (frames, geometry): uint8 RGB (HEIGHT, WIDTH, 3) frames and, per frame, the
        geometry `forge` needs (the FrameGeom of the face a fake swaps, for "one-face").
    forge(frames, geometry, donor) -> the fake's frames, same count and size.
    """

    render: Callable[[tuple[RealSpec, ...]], tuple[list[np.ndarray], list]]
    forge: Callable[[list[np.ndarray], list, RealSpec], list[np.ndarray]]


def _render_one(people: tuple[RealSpec, ...]) -> tuple[list[np.ndarray], list]:
    return render_video(people[0])


def _swap_one(frames: list[np.ndarray], geoms: list, donor: RealSpec) -> list[np.ndarray]:
    """The FF++ demo's Deepfakes swap (pipeline.demo.synth.deepfakes) of the one face, frame by frame."""
    swap = FORGERIES["Deepfakes"]
    return [
        swap(frame, geom, donor_face(donor, geom), 1.0)[0] for frame, geom in zip(frames, geoms, strict=True)
    ]


def _render_two(people: tuple[RealSpec, ...]) -> tuple[list[np.ndarray], list]:
    """Two people (pipeline.demo.crowd): a fake swaps the face of the second, people[1], only."""
    frames, geoms = render_people(people)
    return frames, geoms[1]


SCENES = {"one-face": Scene(_render_one, _swap_one), "two-people": Scene(_render_two, _swap_one)}


@dataclass(frozen=True)
class Clip:
    """One video file of a demo tree."""

    path: str  # relative to ROOT
    people: tuple[RealSpec, ...]  # who the scene shows (its frames: SCENES[kind].render(people))
    donor: RealSpec | None = None  # a fake's face donor; None for a real
    kind: str = "one-face"

    @property
    def label(self) -> int:
        return int(self.donor is not None)


@dataclass
class ClipDemo:
    """What write_clip_tree wrote."""

    root: Path
    dataset: str
    seed: int
    size: str
    clips: list[Clip]
    frames: int
    files: int
    seconds: float

    def line(self) -> str:
        fakes = sum(c.label for c in self.clips)
        return (
            f"demo {self.dataset} ({self.size}, seed {self.seed}): "
            f"{len(self.clips) - fakes} reals and {fakes} "
            f"fakes of {self.frames} frames at {WIDTH}x{HEIGHT} {FPS} fps: "
            f"{self.files} files in {self.root}, "
            f"{self.seconds:.1f} s"
        )


def write_scene(root: Path, kind: str, clips: list[Clip]) -> None:
    """Render one scene once and write every clip of it (its real and its fakes)."""
    frames, geometry = SCENES[kind].render(clips[0].people)
    for clip in clips:
        shown = frames if clip.donor is None else SCENES[kind].forge(frames, geometry, clip.donor)
        write_videos([(root / clip.path, ORIG_ENCODING)], shown, FPS)


def write_clip_tree(
    out: Path, dataset: str, seed: int, size: str, clips: list[Clip], side: dict[str, bytes], n_jobs: int = -1
) -> ClipDemo:
    """Write `clips` and the `side` files (relative path -> bytes: metadata.json, labels, lists) into OUT
    (new, empty, or an earlier demo, whose files are replaced and whose files this one lacks deleted)."""
    from joblib import Parallel, delayed

    start = time.perf_counter()
    root = Path(out)
    earlier = earlier_files(root)
    if earlier:
        remove_stale_temps(root)
    files = sorted([c.path for c in clips] + list(side))
    if len(set(files)) != len(files):
        raise LrlError(f"{root}: the demo plan writes one file twice")
    write_truth(root, {"complete": False, "files": sorted(set(earlier) | set(files))})  # marks ROOT as a demo
    scenes: dict[tuple, list[Clip]] = defaultdict(list)
    for clip in clips:
        scenes[(clip.kind, clip.people)].append(clip)
    Parallel(n_jobs=n_jobs)(delayed(write_scene)(root, kind, group) for (kind, _), group in scenes.items())
    for name, data in side.items():
        write_bytes(root / name, data)
    finish(
        root,
        earlier,
        files,
        {
            "dataset": dataset,
            "seed": seed,
            "demo_size": size,
            "fps": FPS,
            "size": [WIDTH, HEIGHT],
            "clips": {
                c.path: {
                    "label": c.label,
                    "kind": c.kind,
                    "people": [p.video for p in c.people],
                    "donor": c.donor.video if c.donor else None,
                }
                for c in clips
            },
            "files": files,
        },
    )
    frames = clips[0].people[0].frames if clips else 0
    return ClipDemo(root, dataset, seed, size, clips, frames, len(files) + 1, time.perf_counter() - start)
