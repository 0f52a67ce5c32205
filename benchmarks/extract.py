"""Extract stage speed, per video, against PyAV decoding alone and against the peers' recipe, in one run.

Clips: a 640x480 demo clip (pipeline.demo.scene, 300 frames, NeuralTextures-style fake, both c23) and
the FF++ 1280x720 pair original 004 / NeuralTextures 004_982 (c23, 309 frames) when
../shared/data/ffpp is present. 32 frames per video, one worker's view (1 torch and OpenCV thread).

- ours, real: its "detect" unit, which decodes the sampled frames once, runs MTCNN on them downscaled,
  tracks the face and writes the real's crops; ours, fake: the fake's "extract" unit (decode, crop,
  write PNGs with the real's boxes).
- decode: PyAV decoding of the same video up to its last sampled frame, converting the sampled ones.
- detection: MTCNN alone on the already downscaled sampled frames.
- peers (FF++'s detect_from_video.py / DeepfakeBench's preprocess.py): OpenCV decodes every frame,
  dlib's HOG frontal detector on each sampled full-size frame (upsampled once, as they do), the
  biggest face cropped at 1.3x, resized to 299, written as PNG; a real and its fake both detect.

Targets: peers / ours over a real and its fake >= 5 with at least the peers' face hit rate;
real <= 1.5 x (decode + detection); fake <= 1.3 x decode. Medians of --repeats runs (peers:
--peer-repeats, they are slow). dlib comes from the `dlib-bin` wheel (the `bench` extra).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.dataset.records import VideoRecord
from pipeline.kernels.detect import detection_scale, get_mtcnn, mtcnn_faces, shrink
from pipeline.kernels.video import frame_count, iter_frames, sample_frames, sample_indices
from pipeline.params import CropParams, DetectParams
from pipeline.stages.extract import CropJob, DetectJob, crop_work, detect_work

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
    job = CropJob("fake", record(fake, True), str(out / "fake"), CropParams(), "real", detected.data)
    start = time.perf_counter()
    result = crop_work(job)
    times.add("ours fake", time.perf_counter() - start)
    assert result.ok, result.reason
    times.hits["ours"] = 1 - float(np.mean(detected.data["interpolated"]))


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


def bench_clip(label: str, real: Path, fake: Path, repeats: int, peer_repeats: int, dlib_detector) -> None:
    times = Times()
    with tempfile.TemporaryDirectory() as tmp:
        get_mtcnn("cpu", DetectParams())  # model loading is once per worker, not per video
        for r in range(repeats):
            decode_only(real, times, "real")
            decode_only(fake, times, "fake")
            detection_only(real, times)
            ours(real, fake, Path(tmp) / f"ours{r}", times)
            if dlib_detector is not None and r < peer_repeats:
                peers(real, Path(tmp) / f"peers{r}r", dlib_detector, times, "real")
                peers(fake, Path(tmp) / f"peers{r}f", dlib_detector, times, "fake")
    report(label, times, dlib_detector is not None)


def report(label: str, t: Times, with_peers: bool) -> None:
    m = t.median
    real, fake = m("ours real"), m("ours fake")
    print(f"\n{label}  (medians, seconds per video, {FRAMES} frames)")
    print(f"  ours       real {real:.3f}  fake {fake:.3f}")
    print(f"  decode     real {m('decode real'):.3f}  fake {m('decode fake'):.3f}   detection alone {m('detection'):.3f}")
    bound = m("decode real") + m("detection")
    print(f"  real / (decode + detection) = {real / bound:.2f}  (target <= 1.5)")
    print(f"  fake / decode               = {fake / m('decode fake'):.2f}  (target <= 1.3)")
    if not with_peers:
        print("  peers: skipped (dlib missing: pip install dlib-bin)")
        return
    peer = m("peers real") + m("peers fake")
    peer_hit = (t.hits["peers real"] + t.hits["peers fake"]) / 2
    print(f"  peers      real {m('peers real'):.3f}  fake {m('peers fake'):.3f}")
    print(f"  peers / ours over real + fake = {peer / (real + fake):.1f}x  (target >= 5)")
    print(f"  face hit rate: ours {t.hits['ours']:.3f}, peers {peer_hit:.3f} "
          f"(real {t.hits['peers real']:.3f}, fake {t.hits['peers fake']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
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
