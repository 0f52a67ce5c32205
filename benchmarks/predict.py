"""lrl-predict speed on a 10-second 1080p clip at 32 frames, against PyAV decoding alone, in one run.

The clip: the demo's astronaut scene (pipeline.demo.scene), 250 frames at 25 fps, each 640x480 frame
scaled to 1440x1080 and pillarboxed to 1920x1080, H.264 CRF 23 (FF++'s c23). The checkpoint: an
untrained network of the chosen configuration (speed does not depend on the weights) with the
paper's preprocessing (32 frames, 299 px crops, alpha 0.33), or the demo's (80 px, small backbone).

Timed, medians of --repeats runs after one warm-up: decode (PyAV, the 32 sampled frames converted);
score (everything `lrl-predict` does for one input: decode, MTCNN, track, crop, frequency cue,
network forward in batches); forward alone (the batched network on the 32 crops); report (the HTML
page of that input). Prints the ratio score / decode. --threads sets torch's intra-op threads.

A long video (issue 26): the same scene at 160x120, its 250 frames looped for --long-minutes (x264
CRF 23, a keyframe every 250 frames): 32 frames sampled with seeking to the keyframe before each kept
frame (pipeline.kernels.seek) against decoding in order, and lrl-predict's score of it (which seeks).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

FPS, SECONDS, WIDTH, HEIGHT = 25, 10, 1920, 1080
CONFIGS = {
    "paper": dict(backbone="legacy_xception", variant="full", strides=(8, 16, 32), size=299),
    "demo": dict(backbone="mobilenetv3_small_050", variant="rgb_freq_rfam", strides=(4, 8, 16), size=80),
}


def clip_1080p(path: Path) -> Path:
    """Write the 10-second 1080p clip (frames rendered and encoded one at a time)."""
    import av
    import cv2

    from pipeline.demo.scene import background, frame_geom, render_frame, sample_spec

    spec = sample_spec(np.random.default_rng(7), "000", "astronaut", FPS * SECONDS)
    bg = background(spec)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        for i in range(spec.frames):
            frame = render_frame(spec, frame_geom(spec, i), bg, i)
            canvas[:, 240:1680] = cv2.resize(frame, (1440, 1080), interpolation=cv2.INTER_LINEAR)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def long_clip(path: Path, minutes: float, width: int = 160, height: int = 120) -> Path:
    """The scene's 250 frames at width x height, looped for `minutes` (x264 CRF 23, default keyframes)."""
    import av
    import cv2

    from pipeline.demo.scene import background, frame_geom, render_frame, sample_spec

    spec = sample_spec(np.random.default_rng(7), "000", "astronaut", FPS * SECONDS)
    bg = background(spec)
    frames = [
        cv2.resize(
            render_frame(spec, frame_geom(spec, i), bg, i), (width, height), interpolation=cv2.INTER_AREA
        )
        for i in range(spec.frames)
    ]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(round(minutes * 60 * FPS)):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frames[i % len(frames)], format="rgb24")))
        out.mux(stream.encode(None))
    return path


def bench_long(tmp: Path, pred, minutes: float, repeats: int) -> None:
    from pipeline.kernels.video import sample_frames
    from pipeline.predict.score import score_input

    start = time.perf_counter()
    clip = long_clip(tmp / "long.mp4", minutes)
    print(
        f"long clip: 160x120, {minutes:g} min ({round(minutes * 60 * FPS)} frames), "
        f"{clip.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - start:.1f} s"
    )
    seeking = timed(lambda: sample_frames(clip, 32), repeats)
    in_order = timed(lambda: sample_frames(clip, 32, min_gap=None), repeats)
    score = timed(lambda: score_input(clip, "video", pred), repeats)
    print(f"  decode 32 frames, seeking    {seeking:7.2f} s   = {seeking / in_order:.2f} x in order")
    print(f"  decode 32 frames, in order   {in_order:7.2f} s")
    print(f"  score (predict, seeking)     {score:7.2f} s   = {score / seeking:.1f} x its decoding")


def untrained_checkpoint(path: Path, name: str) -> Path:
    import torch

    from model import build_model
    from model.training import checkpoint
    from model.training.config import TrainConfig
    from pipeline.params import CropParams, ExtractParams

    c = CONFIGS[name]
    cfg = TrainConfig.from_flat({"backbone": c["backbone"], "variant": c["variant"], "strides": c["strides"]})
    net = build_model(cfg.model)
    opt = torch.optim.Adam(net.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, 10)
    extract = ExtractParams(frames=32, crop=CropParams(size=c["size"]))
    shards = {"size": c["size"], "alpha": 0.33, "freq_std": 7.0, "frames": 32, "extract": asdict(extract)}
    checkpoint.save(path, net, opt, sched, 0, cfg.to_dict(), {"freq_std": 7.0, "shards": shards})
    return path


def timed(fn, repeats: int) -> float:
    fn()  # warm-up: model caches, MTCNN creation
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="paper")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--long-minutes", type=float, default=10.0, help="Length of the long video (0: skip it)."
    )
    args = parser.parse_args()
    import torch

    from pipeline.kernels.video import sample_frames
    from pipeline.pages.prediction import input_page
    from pipeline.predict.score import crops_of, forward, load_predictor, score_input

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        clip = clip_1080p(tmp / "clip.mp4")
        print(
            f"clip: {WIDTH}x{HEIGHT}, {FPS * SECONDS} frames, {clip.stat().st_size / 1e6:.1f} MB, "
            f"written in {time.perf_counter() - start:.1f} s"
        )
        pred = load_predictor(untrained_checkpoint(tmp / "ckpt.pt", args.config), args.device)
        _, _, [crops, *_], _, _ = crops_of(clip, pred, keep_thumbs=False)  # face 0's crops
        decode = timed(lambda: sample_frames(clip, 32), args.repeats)
        score = timed(lambda: score_input(clip, "video", pred), args.repeats)
        fwd = timed(lambda: forward(pred, crops, keep=False), args.repeats)
        detailed = score_input(clip, "video", pred, detail=True)
        page = timed(lambda: input_page(tmp / "page.html", detailed, "bench"), args.repeats)
        if args.long_minutes > 0:
            bench_long(tmp, pred, args.long_minutes, args.repeats)
    print(
        f"config {args.config} ({CONFIGS[args.config]['backbone']}, {crops.shape[1]} px), device "
        f"{pred.device}, {args.threads} torch thread(s), medians of {args.repeats}:"
    )
    print(f"  decode 32 frames   {decode:7.2f} s")
    print(f"  score (predict)    {score:7.2f} s   = {score / decode:.1f} x decode")
    print(f"  forward alone      {fwd:7.2f} s   ({32 / fwd:.1f} crops/s)")
    print(f"  report page        {page:7.2f} s   ({(tmp / 'page.html').name})")


if __name__ == "__main__":
    main()
