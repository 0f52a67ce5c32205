"""`lrl-prep demo-data`: write a small FaceForensics++-shaped tree made from real face photographs.

Reals are a photograph (scikit-image's astronaut for even ids, matplotlib's Grace Hopper for odd
ids, maybe mirrored) moving over a background (pipeline.demo.scene); each real AAA gets one fake
AAA_BBB per method (pipeline.demo.synth), BBB its pair partner and face donor, frame i of the fake
made from frame i of AAA. Sizes: tiny = 6 reals of 10 frames, one pair per split; small = 10
reals of 50 frames (2 s), pairs 3 / 1 / 1. Every file is 640x480 at 25 fps, H.264 in .mp4,
written by PyAV with one x264 thread, so one seed always gives the same bytes:

    raw  libx264rgb rgb24 qp 0 (lossless RGB: decodes bit-exact with to_ndarray("rgb24")), preset ultrafast
    c23  libx264 yuv420p crf 23, preset veryfast
    c40  libx264 yuv420p crf 40, preset veryfast

Beside the usual layout (pipeline.dataset.layout):
    manipulated_sequences/<Method>/masks/videos/AAA_BBB.mp4   ground truth, lossless 0/255 RGB
        (libx264rgb qp 0, all channels equal): every pixel where the raw fake differs from its
        raw real, united with the region the method meant to change.
    splits/{train,val,test}.json    official format, pairs [a, b]: reals a, b, fakes a_b, b_a.
    demo_truth.json (layout.demo_truth_path), one line of JSON:
        {"complete": true, "fps": 25, "size": [640, 480], "seed": .., "demo_size": "tiny"|"small",
         "faces": {real: photo name}, "flipped": {real: mirrored?},
         "boxes": {real: [[x0, y0, x1, y1] per frame]}   the photo's MTCNN box carried into the frame,
         "landmarks": {real: [[[x, y] x 5] per frame]}   eyes, nose, mouth corners, MTCNN order,
         "fakes": {"<Method>/AAA_BBB": {"target": AAA, "source": BBB, "mask_fraction": mean of frame}},
         "files": [every file written, relative to ROOT]}
        Written first with "complete": false, so an interrupted demo can be rebuilt in place; a
        rebuild deletes the files the earlier demo listed and this one does not write, nothing else.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.dataset.layout import FFPP_QUALITIES, SPLITS, mask_video_dir, video_dir
from pipeline.demo.scene import FPS, HEIGHT, WIDTH, RealSpec, donor_face, render_video, sample_spec
from pipeline.demo.synth import FORGERIES, SWAPS, change_mask
from pipeline.errors import LrlError
from pipeline.kernels.encode import ENCODINGS, MASK_ENCODING, write_videos
from pipeline.store.atomic import remove_stale_temps, write_bytes, write_json

DEMO_TRUTH = "demo_truth.json"


def demo_truth_path(root: Path) -> Path:
    """The demo tree's sidecar of true face boxes and landmarks."""
    return Path(root) / DEMO_TRUTH


METHODS = tuple(FORGERIES)
PHOTO_OF_PARITY = ("astronaut", "grace_hopper")


@dataclass(frozen=True)
class DemoSize:
    reals: int
    frames: int
    pairs: tuple[int, int, int]  # pairs in train, val, test


SIZES = {"tiny": DemoSize(6, 10, (1, 1, 1)), "small": DemoSize(10, 50, (3, 1, 1))}


@dataclass
class DemoInfo:
    """What make_demo wrote."""

    root: Path
    seed: int
    size: str
    reals: int
    fakes: int
    frames: int
    files: int
    seconds: float

    def line(self) -> str:
        return (
            f"demo ({self.size}, seed {self.seed}): {self.reals} reals and {self.fakes} fakes "
            f"({', '.join(METHODS)}) of {self.frames} frames at {WIDTH}x{HEIGHT} {FPS} fps, "
            f"{'/'.join(FFPP_QUALITIES)} + masks: {self.files} files in {self.root}, {self.seconds:.1f} s"
        )


def plan(seed: int, size: DemoSize) -> tuple[list[RealSpec], dict[str, list[tuple[str, str]]]]:
    """The real videos of a demo and its split pairs ([000, 001], [002, 003], ... in split order)."""
    rng = np.random.default_rng(seed)
    specs = [sample_spec(rng, f"{i:03d}", PHOTO_OF_PARITY[i % 2], size.frames) for i in range(size.reals)]
    pairs = [(specs[i].video, specs[i + 1].video) for i in range(0, size.reals, 2)]
    bounds = np.cumsum((0,) + size.pairs)
    return specs, {split: pairs[bounds[k] : bounds[k + 1]] for k, split in enumerate(SPLITS)}


def amounts(seed: int, target: str, method: str, frames: int) -> list[float]:
    """The expression strength of each frame of a fake: a smooth 'talking' wave in [0.35, 1]."""
    rng = np.random.default_rng([seed, int(target), METHODS.index(method)])
    freq, phase = rng.uniform(0.8, 2.5), rng.uniform(0, 2 * math.pi)
    return [0.675 + 0.325 * math.sin(2 * math.pi * freq * i / FPS + phase) for i in range(frames)]


def group_files(target: str, donor: str) -> list[str]:
    """The files of one real and its fakes, relative to ROOT, in the order build_group writes them."""
    root = Path(".")
    files = [video_dir(root, "youtube", q) / f"{target}.mp4" for q in FFPP_QUALITIES]
    for method in METHODS:
        files += [video_dir(root, method, q) / f"{target}_{donor}.mp4" for q in FFPP_QUALITIES]
        files.append(mask_video_dir(root, method) / f"{target}_{donor}.mp4")
    return [str(f) for f in files]


def build_group(root: Path, target: RealSpec, donor: RealSpec, seed: int) -> dict:
    """Write one real at every quality and its fake per method with its mask; return its truth."""
    paths = iter(root / f for f in group_files(target.video, donor.video))
    frames, geoms = render_video(target)
    write_videos([(next(paths), ENCODINGS[q]) for q in FFPP_QUALITIES], frames, FPS)
    donors = [donor_face(donor, g) for g in geoms]
    fakes_truth = {}
    for method in METHODS:
        forge = FORGERIES[method]
        fakes, masks = [], []
        strengths = amounts(seed, target.video, method, len(frames))
        for real, geom, face, amount in zip(frames, geoms, donors, strengths, strict=True):
            fake, region = forge(real, geom, face if method in SWAPS else None, amount)
            fakes.append(fake)
            masks.append(change_mask(real, fake, region))
        write_videos([(next(paths), ENCODINGS[q]) for q in FFPP_QUALITIES], fakes, FPS)
        write_videos(
            [(next(paths), MASK_ENCODING)],
            [np.repeat(m[..., None], 3, axis=2).astype(np.uint8) * 255 for m in masks],
            FPS,
        )
        fraction = round(float(np.mean(masks)), 5)
        fakes_truth[f"{method}/{target.video}_{donor.video}"] = {
            "target": target.video,
            "source": donor.video,
            "mask_fraction": fraction,
        }
    return {
        "video": target.video,
        "boxes": [[round(v, 2) for v in g.box] for g in geoms],
        "landmarks": [np.round(g.landmarks, 2).tolist() for g in geoms],
        "fakes": fakes_truth,
    }


def earlier_files(root: Path) -> list[str]:
    """Files of an earlier (maybe interrupted) demo in ROOT, to replace; refuses a ROOT holding anything
    else."""
    if root.exists() and not root.is_dir():
        raise LrlError(f"{root}: exists and is not a folder")
    if not root.exists() or not any(root.iterdir()):
        return []
    truth = demo_truth_path(root)
    try:
        return [str(f) for f in json.loads(truth.read_text())["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        raise LrlError(
            f"{root}: not empty and not a demo tree (no readable {truth.name}); choose another --out"
        ) from None


def write_truth(root: Path, truth: dict) -> None:
    write_bytes(
        demo_truth_path(root), (json.dumps(truth, sort_keys=True, separators=(",", ":")) + "\n").encode()
    )


def finish(root: Path, earlier: list[str], files: list[str], truth: dict) -> None:
    """The end of a demo build: the earlier demo's files this one does not make are deleted (inside ROOT
    only), then the truth file is written complete (`truth` and "complete": True), which marks ROOT done."""
    for stale in sorted(set(earlier) - set(files)):
        if (root / stale).resolve().is_relative_to(root.resolve()):
            (root / stale).unlink(missing_ok=True)
    write_truth(root, {**truth, "complete": True})


def make_demo(out: Path, seed: int = 0, size: str = "small", n_jobs: int = -1) -> DemoInfo:
    """Write the demo tree into OUT (new, empty, or an earlier demo, whose files are replaced)."""
    from joblib import Parallel, delayed

    if size not in SIZES:
        raise LrlError(f"unknown demo size {size!r} (choose from {', '.join(SIZES)})")
    start = time.perf_counter()
    root = Path(out)
    earlier = earlier_files(root)
    if earlier:
        remove_stale_temps(root)
    specs, pairs = plan(seed, SIZES[size])
    by_id = {s.video: s for s in specs}
    jobs = [(a, b) for split_pairs in pairs.values() for pair in split_pairs for a, b in (pair, pair[::-1])]
    files = [f for a, b in jobs for f in group_files(a, b)] + [f"splits/{s}.json" for s in SPLITS]
    write_truth(root, {"complete": False, "files": sorted(set(earlier) | set(files))})  # marks ROOT as a demo
    groups = Parallel(n_jobs=n_jobs)(delayed(build_group)(root, by_id[a], by_id[b], seed) for a, b in jobs)
    for split in SPLITS:
        write_json(root / "splits" / f"{split}.json", [list(p) for p in pairs[split]])
    finish(
        root,
        earlier,
        files,
        {
            "fps": FPS,
            "size": [WIDTH, HEIGHT],
            "seed": seed,
            "demo_size": size,
            "faces": {s.video: s.photo for s in specs},
            "flipped": {s.video: s.flip for s in specs},
            "boxes": {g["video"]: g["boxes"] for g in groups},
            "landmarks": {g["video"]: g["landmarks"] for g in groups},
            "fakes": {k: v for g in groups for k, v in g["fakes"].items()},
            "files": sorted(files),
        },
    )
    n_fakes = len(METHODS) * len(specs)
    return DemoInfo(
        root, seed, size, len(specs), n_fakes, SIZES[size].frames, len(files) + 1, time.perf_counter() - start
    )
