"""Extract stage speed against bare PyAV decoding and the peers' recipe, quiet and busy, in one run.

Clips: a 640x480 demo clip (pipeline.demo.scene, 300 frames, NeuralTextures-style fake, both c23) and
the FF++ 1280x720 pair original 004 / NeuralTextures 004_982 (c23, 309 frames) when
../shared/data/ffpp is present. 32 frames per video, every measurement inside the thread budget
`lrl-prep extract --jobs 1` gives its process (pipeline.threads: all cores).

- ours, real: its "detect" unit, which decodes the sampled frames once, runs MTCNN on them downscaled,
  tracks the face and writes the real's crops; ours, fake: the fake's "extract" unit (decode, crop,
  write PNGs with the real's boxes).
- decode: PyAV decoding of the same video up to its last sampled frame, converting the sampled ones.
- detection: MTCNN alone on the already downscaled sampled frames.
- peers (FF++'s detect_from_video.py / DeepfakeBench's preprocess.py): OpenCV decodes every frame,
  dlib's HOG frontal detector on each sampled full-size frame (upsampled once, as they do), the
  biggest face cropped at 1.3x, resized to 299, written as PNG; a real and its fake both detect.

The command (issue 26): `lrl-prep extract` itself, a fresh process and WORK per run, on five clips (FF++:
the pair as is, both mirrored, the real started at frame 150 and looped, re-encoded as c23 in a temporary
folder; else five demo clips), with the default --jobs and with --jobs 1, against bare decoding of the
same clips (in this process) and the peers' recipe; startup (starting Python and importing what
extract imports) is shown separately. The default --jobs must be no slower than --jobs 1, busy.

Seeking (`--only seek`): where a seek to a keyframe pays (pipeline.kernels.seek.SEEK_MIN_GAP): the FF++
real (or the demo real) re-encoded with a keyframe every 25 frames, frames kept so that each seek skips
2, 5, 10 or 20 frames, decoded seeking against in order (one decoding thread).

Modes: quiet (whatever else runs on the machine), then busy: a competitor process spinning on one
core (its affinity set to the last core) for the whole mode, as training or another job would.
Ratios compare measurements of the same mode in this run. Targets: peers / ours over a real and its
fake >= 5, quiet and busy, with at least the peers' face hit rate; real <= 1.5 x (decode +
detection); fake <= 1.3 x decode. Medians of --repeats runs (peers: --peer-repeats, they are slow).
dlib comes from the `dlib-bin` wheel (the `bench` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.engine.threads import available_cores, prefer_passive_wait, thread_budget
from pipeline.kernels.detect import detection_scale, get_mtcnn, mtcnn_faces, shrink
from pipeline.kernels.video import frame_count, iter_frames, sample_frames, sample_indices
from pipeline.params import CropParams, DetectParams
from pipeline.stages.extract import CropJob, DetectJob, crop_work, detect_work
from pipeline.store.records import Detection, VideoRecord

FRAMES = 32
FFPP = Path(__file__).resolve().parents[2] / "shared" / "data" / "ffpp"
FFPP_PAIR = (
    "original_sequences/youtube/c23/videos/004.mp4",
    "manipulated_sequences/NeuralTextures/c23/videos/004_982.mp4",
)


@dataclass
class Times:
    runs: dict[str, list[float]] = field(default_factory=dict)
    hits: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.runs.setdefault(name, []).append(seconds)

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])


def demo_pair(folder: Path, frames: int = 300) -> tuple[Path, Path]:
    """A 640x480 real (a photograph moving over a background) and a mouth-region fake of it, c23."""
    from pipeline.demo.scene import render_video, sample_spec
    from pipeline.demo.synth import FORGERIES
    from pipeline.kernels.encode import ENCODINGS, write_videos

    spec = sample_spec(np.random.default_rng(7), "000", "astronaut", frames)
    reals, geoms = render_video(spec)
    fakes = [FORGERIES["NeuralTextures"](r, g, None, 0.8)[0] for r, g in zip(reals, geoms, strict=True)]
    real, fake = folder / "000.mp4", folder / "000_001.mp4"
    write_videos([(real, ENCODINGS["c23"])], reals, 25)
    write_videos([(fake, ENCODINGS["c23"])], fakes, 25)
    return real, fake


def record(path: Path, fake: bool) -> VideoRecord:
    name = path.stem
    return VideoRecord(
        "bench",
        "NeuralTextures" if fake else "youtube",
        "c23",
        name,
        str(path),
        int(fake),
        name.split("_")[0],
        "youtube",
        name.split("_")[1] if fake else None,
        None,
        "none",
    )


def ours(real: Path, fake: Path, out: Path, times: Times) -> None:
    own = CropJob("real", record(real, False), str(out / "real"), CropParams(), "real")
    start = time.perf_counter()
    detected = detect_work(DetectJob("real", str(real), FRAMES, DetectParams(), crop=own))
    times.add("ours real", time.perf_counter() - start)
    assert detected.ok and detected.data["crops"]["status"] == "done", detected.reason
    job = CropJob(
        "fake",
        record(fake, True),
        str(out / "fake"),
        CropParams(),
        "real",
        Detection.from_dict(detected.data),
    )
    start = time.perf_counter()
    result = crop_work(job)
    times.add("ours fake", time.perf_counter() - start)
    assert result.ok, result.reason
    found = [s > 0 for s in detected.data["tracks"][0]["scores"]]  # face 0; 0 where interpolated or no face
    times.hits["ours"] = float(np.mean(found))


def decode_only(path: Path, times: Times, name: str) -> None:
    indices = sample_indices(frame_count(path), FRAMES)
    start = time.perf_counter()
    for _ in iter_frames(path, indices):
        pass
    times.add(f"decode {name}", time.perf_counter() - start)


def detection_only(path: Path, times: Times) -> None:
    params = DetectParams()
    sampled = sample_frames(path, FRAMES, lambda f: shrink(f, detection_scale(*f.shape[:2], params.det_side)))
    detector = get_mtcnn("cpu", params)
    start = time.perf_counter()
    mtcnn_faces(detector, sampled.frames, sampled.width, sampled.height, params.batch, params.pad)
    times.add("detection", time.perf_counter() - start)


def peers(path: Path, out: Path, detector, times: Times, name: str) -> None:
    """OpenCV decodes every frame, dlib HOG (upsample 1) on the sampled ones, biggest face at 1.3x."""
    start = time.perf_counter()
    cap = cv2.VideoCapture(str(path))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    keep = set(np.linspace(0, count - 1, FRAMES, endpoint=True, dtype=int).tolist())
    kept, index = [], 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if index in keep:
            kept.append((index, image))
        index += 1
    cap.release()
    hits = 0
    out.mkdir(parents=True, exist_ok=True)
    for index, image in kept:
        faces = detector(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 1)
        if not len(faces):
            continue
        hits += 1
        face = max(faces, key=lambda r: r.width() * r.height())
        x, y, size = ffpp_box(face, image.shape[1], image.shape[0])
        cv2.imwrite(str(out / f"{index:06d}.png"), cv2.resize(image[y : y + size, x : x + size], (299, 299)))
    times.add(f"peers {name}", time.perf_counter() - start)
    times.hits[f"peers {name}"] = hits / max(len(kept), 1)


def ffpp_box(face, width: int, height: int, scale: float = 1.3) -> tuple[int, int, int]:
    """FaceForensics++'s get_boundingbox: 1.3x square around the dlib box, clipped (shrunk) at the border."""
    x1, y1, x2, y2 = face.left(), face.top(), face.right(), face.bottom()
    size = int(max(x2 - x1, y2 - y1) * scale)
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    x1, y1 = max(int(cx - size // 2), 0), max(int(cy - size // 2), 0)
    return x1, y1, min(width - x1, height - y1, size)


def _spin() -> None:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    while True:
        pass


@contextlib.contextmanager
def busy_core(busy: bool):
    """A process spinning on one core for the duration of the block (nothing when not `busy`)."""
    if not busy:
        yield
        return
    proc = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    proc.start()
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        proc.join()


def measure(real: Path, fake: Path, repeats: int, peer_repeats: int, dlib_detector, tmp: Path) -> Times:
    times = Times()
    for r in range(repeats):
        decode_only(real, times, "real")
        decode_only(fake, times, "fake")
        detection_only(real, times)
        ours(real, fake, tmp / f"ours{r}", times)
        if dlib_detector is not None and r < peer_repeats:
            peers(real, tmp / f"peers{r}r", dlib_detector, times, "real")
            peers(fake, tmp / f"peers{r}f", dlib_detector, times, "fake")
    return times


def bench_clip(label: str, real: Path, fake: Path, repeats: int, peer_repeats: int, dlib_detector) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        get_mtcnn("cpu", DetectParams())  # model loading is once per worker, not per video
        for mode in ("quiet", "busy"):
            with busy_core(mode == "busy"):
                results[mode] = measure(real, fake, repeats, peer_repeats, dlib_detector, Path(tmp) / mode)
    report(label, results, dlib_detector is not None)


def report(label: str, results: dict[str, Times], with_peers: bool) -> None:
    """Seconds per video (medians) and the ratios, one column per mode."""
    modes = list(results)

    def row(name: str, values) -> str:
        return f"  {name:<34}" + "".join(f"{v:>10}" for v in values)

    def m(name: str) -> list[float]:
        return [results[mode].median(name) for mode in modes]

    both = [r + f for r, f in zip(m("ours real"), m("ours fake"), strict=True)]
    print(f"\n{label}  (medians, seconds per video, {FRAMES} frames)")
    print(row("", modes))
    for name in ("ours real", "ours fake", "decode real", "decode fake", "detection"):
        print(row(name, [f"{v:.3f}" for v in m(name)]))
    bound = [d + t for d, t in zip(m("decode real"), m("detection"), strict=True)]
    print(
        row(
            "real / (decode + detection) <= 1.5",
            [f"{o / b:.2f}" for o, b in zip(m("ours real"), bound, strict=True)],
        )
    )
    print(
        row(
            "fake / decode <= 1.3",
            [f"{o / d:.2f}" for o, d in zip(m("ours fake"), m("decode fake"), strict=True)],
        )
    )
    print(row("ours busy / quiet", ["", f"{both[-1] / both[0]:.2f}"]))
    if not with_peers:
        print("  peers: skipped (dlib missing: pip install dlib-bin)")
        return
    peer = [r + f for r, f in zip(m("peers real"), m("peers fake"), strict=True)]
    print(row("peers real", [f"{v:.3f}" for v in m("peers real")]))
    print(row("peers fake", [f"{v:.3f}" for v in m("peers fake")]))
    print(row("peers / ours, real + fake >= 5", [f"{p / o:.1f}x" for p, o in zip(peer, both, strict=True)]))
    print(row("face hit rate: ours", [f"{results[mode].hits['ours']:.3f}" for mode in modes]))
    print(
        row(
            "face hit rate: peers (real, fake)",
            [
                f"{results[mode].hits['peers real']:.2f},{results[mode].hits['peers fake']:.2f}"
                for mode in modes
            ],
        )
    )


# ---------------------------------------------------------------- the command on five clips

COMMAND = [
    sys.executable,
    "-c",
    "import cli; cli.prep()",
    "extract",
    "--frames",
    str(FRAMES),
    "--device",
    "cpu",
    "--no-progress",
]
STARTUP = [sys.executable, "-c", "import cli, torch, facenet_pytorch, pipeline.stages.extract"]
REPO = Path(__file__).resolve().parents[1]


def reencode(src: Path, dst: Path, mirror: bool = False, start: int = 0) -> Path:
    """`src` re-encoded as FF++'s c23 (x264 CRF 23, keyframes 250 apart), optionally mirrored, optionally
    starting at frame `start` and looping back to the first frames."""
    import av

    with av.open(str(src)) as inp:
        frames = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    frames = frames[start:] + frames[:start]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "23"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            out.mux(
                stream.encode(av.VideoFrame.from_ndarray(frame[:, ::-1] if mirror else frame, format="rgb24"))
            )
        out.mux(stream.encode(None))
    return dst


def five_clips(root: Path) -> tuple[Path, list[Path], str]:
    """An FF++-layout ROOT of five real c23 clips (FF++'s pair cut and looped, or the demo's); (ROOT, clips,
    what they are)."""
    import shutil

    folder = root / "original_sequences" / "youtube" / "c23" / "videos"
    folder.mkdir(parents=True)
    real, fake = (FFPP / p for p in FFPP_PAIR)
    if real.is_file() and fake.is_file():
        shutil.copytree(FFPP / "splits", root / "splits")
        label = "five FF++ c23 clips (1280x720, 309 frames)"
    else:
        import json

        real, fake = demo_pair(root / "src")
        (root / "splits").mkdir()
        for split, pair in (("train", ["000", "001"]), ("val", ["002", "003"]), ("test", ["004", "005"])):
            (root / "splits" / f"{split}.json").write_text(json.dumps([pair]))
        label = "five 640x480 demo clips (300 frames)"
    clips = [
        shutil.copy2(real, folder / "000.mp4"),
        shutil.copy2(fake, folder / "001.mp4"),
        reencode(real, folder / "002.mp4", mirror=True),
        reencode(fake, folder / "003.mp4", mirror=True),
        reencode(real, folder / "004.mp4", start=150),
    ]
    return root, [Path(c) for c in clips], label


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def command_mode(root: Path, clips: list[Path], repeats: int, dlib_detector, tmp: Path) -> tuple[Times, int]:
    """Medians of one mode: startup, bare decode, the command with the default --jobs and with --jobs 1,
    the peers; and the --jobs the default rule picks now."""
    from pipeline.engine.load import default_jobs

    times = Times()
    chosen = default_jobs(len(clips))
    for r in range(repeats):
        times.add("startup", wall(STARTUP))
        start = time.perf_counter()
        for clip in clips:
            for _ in iter_frames(clip, sample_indices(frame_count(clip), FRAMES)):
                pass
        times.add("decode", time.perf_counter() - start)
        for name, jobs in (("default --jobs", []), ("--jobs 1", ["--jobs", "1"])):
            work = tmp / f"work-{name}-{r}".replace(" ", "")
            times.add(name, wall(COMMAND + ["--root", str(root), "--work", str(work)] + jobs))
    if dlib_detector is not None:
        start = time.perf_counter()
        for i, clip in enumerate(clips):
            peers(clip, tmp / f"peers{i}", dlib_detector, Times(), "clip")
        times.add("peers", time.perf_counter() - start)
    return times, chosen


def bench_command(repeats: int, dlib_detector) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, clips, label = five_clips(Path(tmp) / "root")
        results, chosen = {}, {}
        for mode in ("quiet", "busy"):
            with busy_core(mode == "busy"):
                results[mode], chosen[mode] = command_mode(
                    root, clips, repeats, dlib_detector, Path(tmp) / mode
                )
    modes = list(results)

    def row(name: str, values) -> str:
        return f"  {name:<40}" + "".join(f"{v:>10}" for v in values)

    def m(name: str) -> list[float]:
        return [results[mode].median(name) for mode in modes]

    print(f"\nlrl-prep extract on {label}, {FRAMES} frames (medians of {repeats}, seconds for the five)")
    print(row("", modes))
    print(row("default --jobs picked (idle cores)", [chosen[mode] for mode in modes]))
    for name in ("startup", "decode", "default --jobs", "--jobs 1"):
        print(row(name, [f"{v:.2f}" for v in m(name)]))
    print(
        row(
            "default / --jobs 1 (busy <= 1)",
            [f"{d / o:.2f}" for d, o in zip(m("default --jobs"), m("--jobs 1"), strict=True)],
        )
    )
    print(
        row(
            "(default - startup) / decode",
            [
                f"{(d - s) / c:.2f}"
                for d, s, c in zip(m("default --jobs"), m("startup"), m("decode"), strict=True)
            ],
        )
    )
    if dlib_detector is not None:
        print(row("peers", [f"{v:.2f}" for v in m("peers")]))
        print(
            row(
                "peers / default --jobs",
                [f"{p / d:.1f}x" for p, d in zip(m("peers"), m("default --jobs"), strict=True)],
            )
        )


def reencode_gop(src: Path, dst: Path, gop: int) -> Path:
    """`src` re-encoded as c23 with a keyframe every `gop` frames."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.video[0]
        stream = out.add_stream(
            "libx264", rate=25, options={"crf": "23", "g": str(gop), "keyint_min": str(gop)}
        )
        stream.width, stream.height, stream.pix_fmt = source.width, source.height, "yuv420p"
        for frame in inp.decode(source):
            out.mux(
                stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24"))
            )
        out.mux(stream.encode(None))
    return dst


def bench_seek(repeats: int) -> None:
    """Seeking against decoding in order when each seek skips `skip` frames (keyframes 25 apart)."""
    with tempfile.TemporaryDirectory() as tmp:
        real = FFPP / FFPP_PAIR[0]
        real = real if real.is_file() else demo_pair(Path(tmp))[0]
        clip = reencode_gop(real, Path(tmp) / "gop25.mp4", 25)
        n = frame_count(clip)
        print(
            f"\nseeking: {real.name} re-encoded with a keyframe every 25 frames ({n} frames), medians of "
            f"{repeats}, one decoding thread"
        )
        for skip in (2, 5, 10, 20):
            kept = sorted({k for k in range(0, n, 25)} | {k - skip - 1 for k in range(25, n, 25)})
            runs = {}
            for name, gap in (("in order", None), ("seeking", 1)):
                for _ in range(repeats):
                    start = time.perf_counter()
                    assert [i for i, _ in iter_frames(clip, kept, threads=1, min_gap=gap)] == kept
                    runs.setdefault(name, []).append(time.perf_counter() - start)
            order, seeking = statistics.median(runs["in order"]), statistics.median(runs["seeking"])
            print(
                f"  each seek skips {skip:2d} frames: in order {order:.2f} s, seeking {seeking:.2f} s, "
                f"ratio {seeking / order:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=1)
    parser.add_argument("--command-repeats", type=int, default=3)
    parser.add_argument(
        "--only", choices=("units", "command", "seek"), help="Run one part only (default: all)."
    )
    args = parser.parse_args()
    prefer_passive_wait()  # as lrl-prep does, before torch loads
    print(f"{available_cores()} cores, load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.only in (None, "units"):
        with thread_budget(1):
            run_all(args)
    if args.only in (None, "command"):
        bench_command(args.command_repeats, dlib_or_none())
    if args.only in (None, "seek"):
        bench_seek(args.repeats)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def dlib_or_none():
    try:
        import dlib

        return dlib.get_frontal_face_detector()
    except ImportError:
        return None


def run_all(args) -> None:
    dlib_detector = dlib_or_none()
    with tempfile.TemporaryDirectory() as tmp:
        real, fake = demo_pair(Path(tmp))
        bench_clip(
            "640x480 demo clip (300 frames)", real, fake, args.repeats, args.peer_repeats, dlib_detector
        )
    real, fake = (FFPP / p for p in FFPP_PAIR)
    if real.is_file() and fake.is_file():
        bench_clip(
            "1280x720 FF++ 004 / NeuralTextures 004_982 (309 frames)",
            real,
            fake,
            args.repeats,
            args.peer_repeats,
            dlib_detector,
        )
    else:
        print(f"\n1280x720 FF++ clip: skipped ({FFPP} absent)")


if __name__ == "__main__":
    main()
