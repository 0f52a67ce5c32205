"""Masks stage throughput against the bare cost of its work, measured in the same run.

Baseline: read the fake and real crop PNGs (cv2.imread) and run a plain numpy kernel (int16
difference, integer BT.601 weights, threshold), nothing written. Stage: `pipeline.stages.masks.run`
(1 worker, no progress bar) on the same crops, recomputing every unit: planning, reading, the fast
kernel, statistics, atomic PNG writes, run-state records. Target: stage >= 0.8x baseline.
Also printed: the two kernels alone. Medians of REPEATS runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from pipeline.engine.runstate import DONE, RunState, UnitResult
from pipeline.kernels.masks import INT_WEIGHTS, cut_level, diff_mask
from pipeline.params import MasksParams, PrepConfig, RunOptions
from pipeline.stages import masks
from pipeline.stages.context import run_stage
from pipeline.store.images import write_png
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import VideoRecord

SIZE = 299


def numpy_kernel(fake_bgr: np.ndarray, real_bgr: np.ndarray, threshold: float) -> np.ndarray:
    diff = np.abs(fake_bgr.astype(np.int16) - real_bgr.astype(np.int16))
    return (diff @ np.asarray(INT_WEIGHTS["BGR"])) > cut_level(threshold)


def crops(video: int, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """A real crop (a shifted photograph) and its fake: a face-sized ellipse swapped for other content."""
    from skimage.data import astronaut

    real = cv2.resize(np.roll(astronaut(), 11 * video + 3 * frame, axis=1), (SIZE, SIZE))
    donor = cv2.resize(np.roll(astronaut(), 150 + 5 * video, axis=0), (SIZE, SIZE))
    region = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(region, (150, 140), (70 + frame % 5, 95), 0, 0, 360, 1, -1)
    fake = np.where(region[..., None] > 0, donor, real)
    return fake, real


def record(work: Path, state: RunState, video: VideoRecord, images: dict) -> None:
    folder = WorkLayout(work).face_dir(video.dataset, video.method, video.quality, video.video)
    for frame, image in images.items():
        write_png(folder / frame_name(frame), image)
    frames = sorted(images)
    state.record(
        "extract",
        UnitResult(
            video.key,
            f"{video.key}:1",
            DONE,
            counts={"crops": len(frames)},
            data={
                "record": video.to_dict(),
                "frames": frames,
                "interpolated": [False] * len(frames),
                "size": SIZE,
                "transforms": [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * len(frames),
                "detect_key": video.key,
            },
        ),
    )


def build(work: Path, videos: int, frames: int) -> list[tuple[Path, Path]]:
    """WORK with `videos` raw fakes and their reals; returns the (fake, real) crop paths."""
    pairs = []
    with RunState(WorkLayout(work).state_db) as state:
        for v in range(videos):
            target, fake_name = f"{v:03d}", f"{v:03d}_{v + 500:03d}"
            images = {f: crops(v, f) for f in range(frames)}
            fake = VideoRecord(
                "ffpp",
                "Deepfakes",
                "raw",
                fake_name,
                "-",
                1,
                target,
                "youtube",
                f"{v + 500:03d}",
                None,
                "train",
            )
            real = VideoRecord(
                "ffpp", "youtube", "raw", target, "-", 0, target, "youtube", None, None, "train"
            )
            record(work, state, fake, {f: pair[0] for f, pair in images.items()})
            record(work, state, real, {f: pair[1] for f, pair in images.items()})
            layout = WorkLayout(work)
            pairs += [
                (
                    layout.face_dir("ffpp", "Deepfakes", "raw", fake_name) / frame_name(f),
                    layout.face_dir("ffpp", "youtube", "raw", target) / frame_name(f),
                )
                for f in range(frames)
            ]
    return pairs


def time_baseline(pairs, threshold: float) -> float:
    start = time.perf_counter()
    for fake_path, real_path in pairs:
        numpy_kernel(cv2.imread(str(fake_path)), cv2.imread(str(real_path)), threshold)
    return len(pairs) / (time.perf_counter() - start)


def time_stage(work: Path, n_masks: int, threshold: float, jobs: int) -> float:
    with RunState(WorkLayout(work).state_db) as state:
        for unit in state.records("masks"):
            state.delete("masks", unit.key)
    start = time.perf_counter()
    config = PrepConfig(masks=MasksParams(threshold=threshold), run=RunOptions(jobs=jobs, progress=False))
    summary = run_stage(masks, work, config, work)
    seconds = time.perf_counter() - start
    assert summary.items == n_masks and summary.failed == 0, summary.line()
    return n_masks / seconds


def time_kernels(pairs, threshold: float, rounds: int = 200) -> tuple[float, float]:
    fake, real = cv2.imread(str(pairs[0][0])), cv2.imread(str(pairs[0][1]))
    rates = []
    for kernel in (
        lambda: numpy_kernel(fake, real, threshold),
        lambda: diff_mask(fake, real, threshold, "BGR"),
    ):
        start = time.perf_counter()
        for _ in range(rounds):
            kernel()
        rates.append(rounds / (time.perf_counter() - start))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    threshold = MasksParams().threshold
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pairs = build(work, args.videos, args.frames)
        time_baseline(pairs, threshold)  # warm the page cache
        base, stage, k_numpy, k_fast = [], [], [], []
        for _ in range(args.repeats):
            base.append(time_baseline(pairs, threshold))
            stage.append(time_stage(work, len(pairs), threshold, args.jobs))
            kn, kf = time_kernels(pairs, threshold)
            k_numpy.append(kn)
            k_fast.append(kf)
    med = statistics.median
    ratio = med(stage) / med(base)
    print(f"masks benchmark: {len(pairs)} masks of {SIZE}x{SIZE}, {args.repeats} repeats, jobs={args.jobs}")
    print(
        f"  kernel alone     numpy {med(k_numpy):8.0f} masks/s   fast (cv2, exact) {med(k_fast):8.0f} "
        f"masks/s ({med(k_fast) / med(k_numpy):.1f}x)"
    )
    print(f"  baseline (2 PNG reads + numpy kernel) {med(base):7.1f} masks/s")
    print(f"  stage (lrl-prep masks)               {med(stage):7.1f} masks/s")
    print(
        f"  ratio stage / baseline: {ratio:.2f}x (target >= 0.8x) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
