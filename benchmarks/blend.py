"""`lrl-prep blend`: what its masks look like per method, and what one fake costs against its bare video I/O.

1. Masks (--work, WORKs after `lrl-prep refresh` on a blended tree, repeatable): per method and mask
   source, the mean mask area (fraction of the crop) and the mean number of 8-connected components, as the
   QA report shows them (the masks stage's records). With two WORKs of the same tree (--source diff and
   --source official), the IoU of their masks per method, crop by crop at the raw quality (mean over crops).
2. Untouched pixels (--tree, a blended tree): per fake, frame by frame at c23, the mean |fake - real| outside
   the blend mask (dilated by 8 px), and the same for a c23 re-encode of the raw real's own frames (the
   encoder alone: a fake's c23 is encoded from those frames too); raw fakes must equal raw reals there.
3. Time (medians of --repeats runs, one thread, as one `--jobs` worker of a 2-core machine runs): one
   --seconds long 640x480 real of the demo scene (a face photograph moving over a background, H.264 c23):
   - detect: MTCNN and tracking on every frame (the "blend-detect" unit);
   - SelfBlend / FaceSwapBlend: one fake unit (decode, blend every frame, encode raw + c23 + c40 + mask);
   - baseline: decode the real and encode the same four videos of its untouched frames (no blending).
   Ratios: each fake unit / baseline (the blending's own cost on top of the video I/O it cannot avoid).

    python benchmarks/blend.py [--work WORK ...] [--tree ROOT2] [--seconds 10] [--repeats 3] [--no-time]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.blend.make import SELF, SWAP, FakeJob, make_fake
from pipeline.blend.run import DetectJob, detect_work
from pipeline.engine.runstate import RunState
from pipeline.engine.threads import thread_budget
from pipeline.kernels.encode import ENCODINGS, MASK_ENCODING, video_rate, writers
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


def mask_iou(diff_work: Path, official_work: Path) -> list[str]:
    """Mean IoU per method of the raw-quality masks the two WORKs hold for the same crops."""
    import cv2

    from pipeline.kernels.masks import iou

    ious = defaultdict(list)
    base = WorkLayout(diff_work).masks
    for path in sorted(base.glob("*/*/raw/*/*.png")):
        other = WorkLayout(official_work).masks / path.relative_to(base)
        if other.exists():
            ious[path.relative_to(base).parts[1]].append(
                iou(cv2.imread(str(path), 0), cv2.imread(str(other), 0))
            )
    return [
        f"IoU diff vs official, {m}: {np.mean(v):.3f} over {len(v)} raw crops (median {np.median(v):.3f})"
        for m, v in sorted(ious.items())
    ]


def reencoded(frames: list[np.ndarray], path: Path, rate) -> list[np.ndarray]:
    """The frames through a c23 encode and back."""
    with writers({"c23": (path, ENCODINGS["c23"])}, frames[0].shape[1], frames[0].shape[0], rate) as w:
        for frame in frames:
            w.write("c23", frame)
    return [f for _, f in iter_frames(path, None)]


def pair_levels(tree: Path, method: str, fake_raw: Path, tmp: Path) -> tuple[list, list, int]:
    """One fake: per frame the mean |c23 fake - c23 real| and |c23 re-encode - c23 real| outside the dilated
    mask, and the largest |raw fake - raw real| where the mask is 0."""
    import cv2

    from pipeline.dataset.layout import mask_video_dir, video_dir

    real_id = fake_raw.stem.split("_")[0]
    read = lambda path: [f for _, f in iter_frames(path, None)]  # noqa: E731
    raw_real = read(video_dir(tree, "youtube", "raw") / f"{real_id}.mp4")
    again = reencoded(raw_real, tmp / "c23.mp4", video_rate(fake_raw))
    fake, real = (
        read(video_dir(tree, method, "c23") / fake_raw.name),
        read(video_dir(tree, "youtube", "c23") / f"{real_id}.mp4"),
    )
    masks, raw_fake = read(mask_video_dir(tree, method) / fake_raw.name), read(fake_raw)
    fakes, controls, raw_max = [], [], 0
    for i, mask in enumerate(masks):
        outside = cv2.dilate((mask[..., 0] > 0).astype(np.uint8), np.ones((17, 17), np.uint8)) == 0
        fakes.append(np.abs(fake[i].astype(int) - real[i])[outside].mean())
        controls.append(np.abs(again[i].astype(int) - real[i])[outside].mean())
        raw_max = max(raw_max, int(np.abs(raw_fake[i].astype(int) - raw_real[i])[mask[..., 0] == 0].max()))
    return fakes, controls, raw_max


def untouched(tree: Path) -> list[str]:
    """Outside the dilated blend mask: c23 fake vs c23 real, against a c23 re-encode of the raw real
    (module doc)."""
    from pipeline.dataset.layout import video_dir

    lines = []
    for method in sorted(p.name for p in (tree / "manipulated_sequences").iterdir()):
        fakes, controls, raw_max = [], [], 0
        for fake_raw in sorted(video_dir(tree, method, "raw").glob("*.mp4")):
            with tempfile.TemporaryDirectory() as tmp:
                f, c, m = pair_levels(tree, method, fake_raw, Path(tmp))
            fakes, controls, raw_max = fakes + f, controls + c, max(raw_max, m)
        lines.append(
            f"untouched pixels, {method}: mean |c23 fake - c23 real| {np.mean(fakes):.3f} levels (frames' "
            f"worst {np.max(fakes):.3f}); c23 re-encode of the raw real vs c23 real {np.mean(controls):.3f}; "
            f"raw fake vs raw real where the mask is 0: max {raw_max}"
        )
    return lines


def demo_real(path: Path, seconds: float, video: str, photo: str) -> None:
    """A 640x480 demo-scene real of `seconds` at 25 fps, H.264 c23."""
    from pipeline.demo.scene import FPS, render_video, sample_spec
    from pipeline.kernels.encode import write_videos

    spec = sample_spec(np.random.default_rng(int(video)), video, photo, int(seconds * FPS))
    write_videos([(path, ENCODINGS["c23"])], render_video(spec)[0], 25)


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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work",
        type=Path,
        action="append",
        default=[],
        help="WORK after refresh on a blended tree (mask statistics); twice: diff then official",
    )
    parser.add_argument("--tree", type=Path, help="a blended tree: untouched pixels of its c23 pairs")
    parser.add_argument("--no-time", dest="time", action="store_false", help="skip the timing")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for work in args.work:
        print("\n".join(mask_table(work)))
    if len(args.work) == 2:
        print("\n".join(mask_iou(*args.work)))
    if args.tree:
        print("\n".join(untouched(args.tree)))
    if args.time:
        timing(args.seconds, args.repeats)


def timing(seconds: float, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, thread_budget(2):
        tmp = Path(tmp)
        target, source = tmp / "000.mp4", tmp / "001.mp4"
        demo_real(target, seconds, "000", "astronaut")
        demo_real(source, seconds, "001", "grace_hopper")
        found = {p: detect_work(DetectJob(p.stem, str(p), DetectParams())) for p in (target, source)}
        times = defaultdict(list)
        outs = tuple((q, str(tmp / f"fake-{q}.mp4")) for q in ("raw", "c23", "c40", "masks"))
        tracks = found[target].data
        for _ in range(repeats):
            times["detect"].append(timed(lambda: detect_work(DetectJob("t", str(target), DetectParams()))))
            times["baseline"].append(timed(lambda: baseline(target, tmp, tracks["width"], tracks["height"])))
            for method in (SELF, SWAP):
                job = FakeJob(
                    f"{method}/000_x",
                    method,
                    str(target),
                    outs,
                    tracks=tracks,
                    source=str(source),
                    source_tracks=found[source].data,
                )
                times[method].append(timed(lambda job=job: make_fake(job)))
    frames = tracks["n_frames"]
    base = statistics.median(times["baseline"])
    print(f"one {seconds:g} s 640x480 real ({frames} frames), medians of {repeats}, budget of 1 of 2 jobs:")
    for name, values in times.items():
        t = statistics.median(values)
        ratio = f"  {t / base:.2f}x baseline" if name in (SELF, SWAP) else ""
        print(f"  {name:<14}{t:7.2f} s  {frames / t:6.1f} frames/s{ratio}")


if __name__ == "__main__":
    main()
