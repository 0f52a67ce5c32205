"""Encode a stream of frames into several videos at once (PyAV), each written atomically: the writer beside
the decoder (pipeline.kernels.video), used by `lrl-prep blend` and the demo generators alike.

ENCODINGS are FF++'s levels: raw = libx264rgb qp 0 (lossless RGB: decodes bit-exact with
to_ndarray("rgb24")), c23 / c40 = libx264 yuv420p CRF 23 / 40; masks (MASK_ENCODING) = raw with the grey
level in all three channels. One x264 thread per video (the bytes do not depend on the machine; a worker's
other videos run in parallel processes).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.errors import LrlError
from pipeline.store.atomic import atomic_path


@dataclass(frozen=True)
class Encoding:
    """An H.264 setting: PyAV codec name, pixel format and codec options."""

    codec: str
    pix_fmt: str
    options: tuple[tuple[str, str], ...]


ENCODINGS = {
    "raw": Encoding("libx264rgb", "rgb24", (("qp", "0"), ("preset", "ultrafast"))),
    "c23": Encoding("libx264", "yuv420p", (("crf", "23"), ("preset", "veryfast"))),
    "c40": Encoding("libx264", "yuv420p", (("crf", "40"), ("preset", "veryfast"))),
}
MASK_ENCODING = ENCODINGS["raw"]


class Writers:
    """Open video streams; `write(name, frame)` encodes one uint8 RGB (H, W, 3) frame into the named video."""

    def __init__(self, streams: dict, rate: Fraction):
        self._streams = streams
        self._rate = rate
        self._count: dict[str, int] = dict.fromkeys(streams, 0)

    def write(self, name: str, frame: np.ndarray) -> None:
        import av

        container, stream = self._streams[name]
        video = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video.pts, video.time_base = self._count[name], 1 / self._rate
        self._count[name] += 1
        container.mux(stream.encode(video))

    def flush(self) -> None:
        for container, stream in self._streams.values():
            container.mux(stream.encode())


@contextlib.contextmanager
def writers(
    outputs: dict[str, tuple[Path, Encoding]], width: int, height: int, rate: Fraction
) -> Iterator[Writers]:
    """Writers to every (path, encoding) by name; each file appears only if the whole block succeeds."""
    import av

    if width % 2 or height % 2:
        raise LrlError(f"frames of {width}x{height}: H.264 in yuv420p needs an even width and height")
    rate = Fraction(rate).limit_denominator(1001 * 1000) if rate else Fraction(25)
    with contextlib.ExitStack() as stack:
        streams = {}
        for name, (path, encoding) in outputs.items():
            tmp = stack.enter_context(atomic_path(path))
            container = stack.enter_context(av.open(str(tmp), "w", format="mp4"))
            stream = container.add_stream(encoding.codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, encoding.pix_fmt
            stream.options = dict(encoding.options)
            stream.thread_count = 1
            streams[name] = (container, stream)
        out = Writers(streams, rate)
        yield out
        out.flush()


def write_videos(outputs: list[tuple[Path, Encoding]], frames: list[np.ndarray], rate) -> None:
    """Encode uint8 RGB frames (H, W, 3), all of one size, into one .mp4 per (path, encoding) at `rate` frames
    per second, atomically (`writers`)."""
    if not frames:
        raise LrlError(f"{', '.join(str(p) for p, _ in outputs)}: no frames to encode")
    height, width = frames[0].shape[:2]
    named = {str(i): output for i, output in enumerate(outputs)}
    with writers(named, width, height, rate) as out:
        for frame in frames:
            for name in named:
                out.write(name, frame)


def video_rate(path: Path) -> Fraction:
    """The video's average frame rate (25 when its header has none)."""
    import av

    with av.open(str(path)) as container:
        rate = container.streams.video[0].average_rate
    return Fraction(rate) if rate else Fraction(25)
