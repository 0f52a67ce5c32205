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
FFPP_PAIR = ("original_sequences/youtube/c23/videos/004.mp4",
             "manipulated_sequences/NeuralTextures/c23/videos/004_982.mp4")


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
    from pipeline.demo.tree import ENCODINGS, write_videos

    spec = sample_spec(np.random.default_rng(7), "000", "astronaut", frames)
    reals, geoms = render_video(spec)
    fakes = [FORGERIES["NeuralTextures"](r, g, None, 0.8)[0] for r, g in zip(reals, geoms, strict=True)]
    real, fake = folder / "000.mp4", folder / "000_001.mp4"
    write_videos([(real, ENCODINGS["c23"])], reals)
    write_videos([(fake, ENCODINGS["c23"])], fakes)
    return real, fake


def record(path: Path, fake: bool) -> VideoRecord:
    name = path.stem
    return VideoRecord("bench", "NeuralTextures" if fake else "youtube", "c23", name, str(path), int(fake),
                       name.split("_")[0], "youtube", name.split("_")[1] if fake else None, None, "none")


def ours(real: Path, fake: Path, out: Path, times: Times) -> None:
    own = CropJob("real", record(real, False), str(out / "real"), CropParams(), "real")
    start = time.perf_counter()
    detected = detect_work(DetectJob("real", str(real), FRAMES, DetectParams(), crop=own))
    times.add("ours real", time.perf_counter() - start)
    assert detected.ok and detected.data["crops"]["status"] == "done", detected.reason
    job = CropJob("fake", record(fake, True), str(out / "fake"), CropParams(), "real",
                  Detection.from_dict(detected.data))
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
    print(row("real / (decode + detection) <= 1.5", [f"{o / b:.2f}" for o, b in zip(m("ours real"), bound,
                                                                                    strict=True)]))
    print(row("fake / decode <= 1.3", [f"{o / d:.2f}" for o, d in zip(m("ours fake"), m("decode fake"), strict=True)]))
    print(row("ours busy / quiet", ["", f"{both[-1] / both[0]:.2f}"]))
    if not with_peers:
        print("  peers: skipped (dlib missing: pip install dlib-bin)")
        return
    peer = [r + f for r, f in zip(m("peers real"), m("peers fake"), strict=True)]
    print(row("peers real", [f"{v:.3f}" for v in m("peers real")]))
    print(row("peers fake", [f"{v:.3f}" for v in m("peers fake")]))
    print(row("peers / ours, real + fake >= 5", [f"{p / o:.1f}x" for p, o in zip(peer, both, strict=True)]))
    print(row("face hit rate: ours", [f"{results[mode].hits['ours']:.3f}" for mode in modes]))
    print(row("face hit rate: peers (real, fake)", [
        f"{results[mode].hits['peers real']:.2f},{results[mode].hits['peers fake']:.2f}" for mode in modes]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=1)
    args = parser.parse_args()
    prefer_passive_wait()  # as lrl-prep does, before torch loads
    print(f"{available_cores()} cores, load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with thread_budget(1):
        run_all(args)


def run_all(args) -> None:
    try:
        import dlib

        dlib_detector = dlib.get_frontal_face_detector()
    except ImportError:
        dlib_detector = None
    with tempfile.TemporaryDirectory() as tmp:
        real, fake = demo_pair(Path(tmp))
        bench_clip("640x480 demo clip (300 frames)", real, fake, args.repeats, args.peer_repeats, dlib_detector)
    real, fake = (FFPP / p for p in FFPP_PAIR)
    if real.is_file() and fake.is_file():
        bench_clip("1280x720 FF++ 004 / NeuralTextures 004_982 (309 frames)", real, fake, args.repeats,
                   args.peer_repeats, dlib_detector)
    else:
        print(f"\n1280x720 FF++ clip: skipped ({FFPP} absent)")


if __name__ == "__main__":
    main()
