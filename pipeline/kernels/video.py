"""Decode the frames we keep from a video with PyAV, upright, robust to missing or wrong headers.

Frames are decoded in order (seeking lands on keyframes, which FF++ clips have few of) and only the
kept ones are converted to RGB arrays. A frame's index is its position in decoding order. `threads`:
FFmpeg's decoding threads per video, the calling worker's thread budget (pipeline.engine.threads);
0 lets FFmpeg pick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from pipeline.errors import LrlError, one_line


@dataclass
class Decoding:
    """How far decoding got: frames decoded from index 0, and whether the stream ran out (or broke)."""

    decoded: int = 0
    ended: bool = False


@dataclass
class Sampled:
    """The kept frames of a video, after `convert`, and the video's decodable length."""

    indices: list[int] = field(default_factory=list)
    frames: list = field(default_factory=list)
    n_frames: int = 0
    width: int = 0  # of the upright full-size frames
    height: int = 0


def sample_indices(n_frames: int, count: int | None) -> list[int]:
    """`count` frame indices evenly spread over [0, n_frames) (all when count is None or >= n_frames)."""
    if n_frames <= 0:
        return []
    if count is None or count >= n_frames:
        return list(range(n_frames))
    return [int(i) for i in np.linspace(0, n_frames - 1, count).round().astype(int)]


def upright(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a stream's display rotation (degrees counter-clockwise, as PyAV's `VideoFrame.rotation`)."""
    k = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(frame, k)) if k else frame


def _open(path: Path, threads: int = 0):
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or one_line(exc)
        raise LrlError(f"{path}: cannot open as a video ({reason})") from None
    if not container.streams.video:
        container.close()
        raise LrlError(f"{path}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.thread_count = threads
    return container, stream


def frame_count(path: Path) -> int:
    """Frames in the stream per its header, else by counting packets (no decoding)."""
    import av

    container, stream = _open(path)
    try:
        if stream.frames > 0:
            return int(stream.frames)
        try:
            return sum(1 for packet in container.demux(stream) if packet.size > 0)
        except av.error.FFmpegError:
            return 0
    finally:
        container.close()


def iter_frames(
    path: Path, indices: list[int] | None, stop_after: int | None = None, status: Decoding | None = None,
    threads: int = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, upright RGB frame) for the frames at `indices` (every frame when None), decoded in order.

    Stops after frame `stop_after` (default: the last kept index) or at the end of the stream; a
    decoding error ends the stream there (a truncated file yields its decodable prefix). `status`
    receives how far decoding got.
    """
    import av

    keep = None if indices is None else set(indices)
    last = stop_after if stop_after is not None else (max(indices) if indices else None)
    status = status if status is not None else Decoding()
    container, stream = _open(path, threads)
    try:
        for i, frame in enumerate(container.decode(stream)):
            status.decoded = i + 1
            if keep is None or i in keep:
                yield i, upright(frame.to_ndarray(format="rgb24"), frame.rotation)
            if last is not None and i >= last:
                return
        status.ended = True
    except av.error.FFmpegError:
        status.ended = True
    finally:
        container.close()


def sample_frames(path: Path, count: int | None, convert: Callable = lambda f: f, threads: int = 0) -> Sampled:
    """`count` frames evenly spaced over the decodable length (all when None), each passed through `convert`.

    The header's frame count is checked: decoding goes on to the frame just past it, so a count
    too high (truncated file) or too low is noticed and the sampling redone on the true length.
    """
    n = None if count is None else frame_count(path)
    for _ in range(3):
        status, out = Decoding(), Sampled()
        for i, frame in iter_frames(path, None if n is None else sample_indices(n, count), n, status, threads):
            out.indices.append(i)
            out.frames.append(convert(frame))
            out.height, out.width = frame.shape[:2]
        if n is None or (status.ended and status.decoded == n):
            break
        n = status.decoded if status.ended else _decodable_length(path, threads)
    if not out.frames:
        raise LrlError(f"{path}: no decodable frame")
    out.n_frames = status.decoded
    return out


def _decodable_length(path: Path, threads: int = 0) -> int:
    status = Decoding()
    for _ in iter_frames(path, [], None, status, threads):
        pass
    return status.decoded
