"""Decode the frames we keep from a video with PyAV, upright, robust to missing or wrong headers.

Frames are decoded in order, skipping ahead by a seek to the keyframe before the next kept frame where
that skips at least `min_gap` frames (pipeline.kernels.seek: FF++ clips have few keyframes, long videos
sampled sparsely gain; None: never seek), and only the kept ones are converted to RGB arrays. A frame's
index is its position in presentation order (the order frames leave the decoder). `threads`: FFmpeg's
decoding threads per video, the calling worker's thread budget (pipeline.engine.threads); 0 lets FFmpeg
pick. The video is the first video stream that is not an attached picture (an MP4's cover art can be
stream 0: `video_stream`); every part of the project that opens a video goes through it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from pipeline.errors import LrlError, one_line
from pipeline.kernels.seek import SEEK_MIN_GAP, FrameTable, frame_table, seek_target, worth_a_table


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


def video_stream(container):
    """The container's first video stream that is not an attached picture (cover art, disposition
    attached_pic: one still image), or None when it has none."""
    import av

    cover = av.stream.Disposition.attached_pic
    return next((s for s in container.streams.video if not s.disposition & cover), None)


def no_video_reason(container) -> str:
    """Why `container` (which has no `video_stream`) is not a video: no video stream, or only cover art."""
    if container.streams.video:
        return "no video stream, only an attached picture (cover art)"
    return "no video stream"


def _open(path: Path, threads: int = 0):
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or one_line(exc)
        raise LrlError(f"{path}: cannot open as a video ({reason})") from None
    stream = video_stream(container)
    if stream is None:
        reason = no_video_reason(container)
        container.close()
        raise LrlError(f"{path}: {reason}")
    stream.thread_type = "AUTO"
    stream.thread_count = threads
    return container, stream


def read_in_part(path: Path, decodable: int, sampled: int, read: int) -> str | None:
    """A note when `path`'s decodable frames (`decodable`) end before the count its header gives, else None
    (also when the header gives none); `read` of the `sampled` frames lay within the decodable ones."""
    container, stream = _open(path)
    header = int(stream.frames)
    container.close()
    if header <= decodable:
        return None
    return (
        f"read in part: its header gives {header} frames, {decodable} are decodable (an incomplete file, or "
        f"one still being copied); {read} of the {sampled} sampled frames read"
    )


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
    path: Path,
    indices: list[int] | None,
    stop_after: int | None = None,
    status: Decoding | None = None,
    threads: int = 0,
    min_gap: int | None = SEEK_MIN_GAP,
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, upright RGB frame) for the frames at `indices` (every frame when None), in increasing order.

    Stops after frame `stop_after` (default: the last kept index) or at the end of the stream; a
    decoding error ends the stream there (a truncated file yields its decodable prefix). `status`
    receives how far decoding got. Skips ahead by seeking where that skips `min_gap` frames or more
    (pipeline.kernels.seek); a seek that lands past the frame wanted, or on a frame the packets did not
    list, is given up for decoding in order from the start (frames already yielded are not yielded again).
    """
    keep = None if indices is None else set(indices)
    last = stop_after if stop_after is not None else (max(indices) if indices else None)
    status = status if status is not None else Decoding()
    wanted = sorted(keep | ({last} if last is not None else set())) if keep else []
    table = _table(path) if wanted and worth_a_table(wanted, min_gap) else None
    done = -1
    for plan in (table, None) if table is not None else (None,):
        try:
            for i, frame in _decoded(path, plan, wanted, status, threads, min_gap):
                if i <= done:
                    continue
                done = i
                if keep is None or i in keep:
                    yield i, upright(frame.to_ndarray(format="rgb24"), frame.rotation)
                if last is not None and i >= last:
                    return
            return
        except _SeekMissed:
            continue


def _seek(container, stream, pts: int) -> None:
    import av

    try:
        container.seek(pts, stream=stream, backward=True)
    except av.error.FFmpegError:
        raise _SeekMissed from None


class _SeekMissed(Exception):
    """A seek landed past the frame wanted, or on a frame whose pts the packets did not list."""


def _table(path: Path) -> FrameTable | None:
    import av

    container, stream = _open(path)
    try:
        return frame_table((p.pts, p.is_keyframe) for p in container.demux(stream) if p.size > 0)
    except av.error.FFmpegError:
        return None
    finally:
        container.close()


def _decoded(
    path: Path,
    table: FrameTable | None,
    wanted: list[int],
    status: Decoding,
    threads: int,
    min_gap: int | None,
):
    """(index, PyAV frame) in decoding order; with a table, seeking ahead to the frames `wanted`."""
    import av

    container, stream = _open(path, threads)
    try:
        frames, position, sought, following = container.decode(stream), -1, None, None
        while True:
            pts = None
            if table is not None:
                k = bisect.bisect_right(wanted, position)
                following = wanted[k] if k < len(wanted) else None
                pts = None if following is None else seek_target(table, position, following, min_gap)
                if pts is not None and (sought is None or pts > sought):
                    _seek(container, stream, pts)
                    frames, sought = container.decode(stream), pts
                else:
                    pts = None
            frame = next(frames, None)
            if frame is None:
                status.ended = True
                return
            i = position + 1 if table is None else table.index_of.get(frame.pts)
            if i is None or (pts is not None and i > following):
                raise _SeekMissed
            position = max(position, i)
            status.decoded = max(status.decoded, i + 1)
            yield i, frame
    except av.error.FFmpegError:
        status.ended = True
    finally:
        container.close()


def sample_frames(
    path: Path,
    count: int | None,
    convert: Callable = lambda f: f,
    threads: int = 0,
    min_gap: int | None = SEEK_MIN_GAP,
    within: int | None = None,
) -> Sampled:
    """`count` frames evenly spaced over the decodable length (all when None), each passed through `convert`;
    with `within`, over its first `within` frames only (when count is given).

    The header's frame count is checked: decoding goes on to the frame just past it, so a count
    too high (truncated file) or too low is noticed and the sampling redone on the true length.
    """
    n = None if count is None else frame_count(path)
    for _ in range(3):
        status, out = Decoding(), Sampled()
        indices = None if n is None else sample_indices(min(n, within or n), count)
        for i, frame in iter_frames(path, indices, n, status, threads, min_gap):
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
