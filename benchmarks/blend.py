"""`lrl-prep blend`: what its masks look like per method, and what one fake costs against its bare video I/O.

1. Masks (with --work, a WORK after `lrl-prep refresh` on a blended tree): per method and mask source, the
   mean mask area (fraction of the crop) and the mean number of 8-connected components, as the QA report
   shows them (the masks stage's records).
2. Time (medians of --repeats runs, one thread, as one `--jobs` worker of a 2-core machine runs): one
   --seconds long 640x480 real of the demo scene (a face photograph moving over a background, H.264 c23):
   - detect: MTCNN and tracking on every frame (the "blend-detect" unit);
   - SelfBlend / FaceSwapBlend: one fake unit (decode, blend every frame, encode raw + c23 + c40 + mask);
   - baseline: decode the real and encode the same four videos of its untouched frames (no blending).
   Ratios: each fake unit / baseline (the blending's own cost on top of the video I/O it cannot avoid).

    python benchmarks/blend.py [--work WORK] [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.blend.encode import ENCODINGS, MASK_ENCODING, video_rate, writers
from pipeline.blend.make import SELF, SWAP, FakeJob, make_fake
from pipeline.blend.run import DetectJob, detect_work
from pipeline.engine.runstate import RunState
from pipeline.engine.threads import thread_budget
from pipeline.kernels.video import iter_frames
from pipeline.params import DetectParams
from pipeline.store.layout import WorkLayout


def mask_table(work: Path) -> list[str]:
    """Mean mask area and components per (method, source), from the masks records of WORK."""
    rows = defaultdict(list)
    with RunState(WorkLayout(work).state_db) as state:
        for rec in state.records("masks"):
            if rec.status == "done":
                rows[(rec.key.split("/")[1], rec.data["source"])].append(rec.data)
    lines = [f"{'method':<16}{'source':<10}{'videos':>7}{'mean area':>11}{'components':>12}"]
    for (method, source), data in sorted(rows.items()):
        area = np.mean([d["mean_area"] for d in data])
        parts = np.mean([d["mean_components"] for d in data])
        lines.append(f"{method:<16}{source:<10}{len(data):>7}{area:>11.4f}{parts:>12.2f}")
    return lines


def demo_real(path: Path, seconds: float, video: str, photo: str) -> None:
    """A 640x480 demo-scene real of `seconds` at 25 fps, H.264 c23."""
    from pipeline.demo.scene import FPS, render_video, sample_spec
    from pipeline.demo.tree import write_videos

    spec = sample_spec(np.random.default_rng(int(video)), video, photo, int(seconds * FPS))
    write_videos([(path, ENCODINGS["c23"])], render_video(spec)[0])


def baseline(path: Path, out: Path, width: int, height: int) -> None:
    """Decode the real and encode its untouched frames into raw, c23, c40 and a mask video."""
    outputs = {q: (out / f"{q}.mp4", ENCODINGS[q]) for q in ("raw", "c23", "c40")}
    outputs["masks"] = (out / "masks.mp4", MASK_ENCODING)
    zeros = np.zeros((height, width, 3), np.uint8)
    with writers(outputs, width, height, video_rate(path)) as w:
        for _, frame in iter_frames(path, None):
            for name in outputs:
                w.write(name, zeros if name == "masks" else frame)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="WORK after refresh on a blended tree (mask statistics)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.work:
        print("\n".join(mask_table(args.work)))
    with tempfile.TemporaryDirectory() as tmp, thread_budget(2):
        tmp = Path(tmp)
        target, source = tmp / "000.mp4", tmp / "001.mp4"
        demo_real(target, args.seconds, "000", "astronaut")
        demo_real(source, args.seconds, "001", "grace_hopper")
        found = {p: detect_work(DetectJob(p.stem, str(p), DetectParams())) for p in (target, source)}
        times = defaultdict(list)
        outs = tuple((q, str(tmp / f"fake-{q}.mp4")) for q in ("raw", "c23", "c40", "masks"))
        tracks = found[target].data
        for _ in range(args.repeats):
            times["detect"].append(timed(lambda: detect_work(DetectJob("t", str(target), DetectParams()))))
            times["baseline"].append(timed(lambda: baseline(target, tmp, tracks["width"], tracks["height"])))
            for method in (SELF, SWAP):
                job = FakeJob(f"{method}/000_x", method, str(target), outs, tracks=tracks, source=str(source),
                              source_tracks=found[source].data)
                times[method].append(timed(lambda job=job: make_fake(job)))
    frames = tracks["n_frames"]
    base = statistics.median(times["baseline"])
    print(f"one {args.seconds:g} s 640x480 real ({frames} frames), medians of {args.repeats}, budget of 1 of 2 jobs:")
    for name, values in times.items():
        t = statistics.median(values)
        ratio = f"  {t / base:.2f}x baseline" if name in (SELF, SWAP) else ""
        print(f"  {name:<14}{t:7.2f} s  {frames / t:6.1f} frames/s{ratio}")


if __name__ == "__main__":
    main()
