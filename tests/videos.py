"""Small test videos written with PyAV: a real face photograph (skimage's astronaut) moving over a
faceless photograph (skimage's coffee), with its true face box per frame, plus broken files."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage.data import astronaut, camera, coffee

# The astronaut patch pasted into frames, and MTCNN's face box on it (full-size detection on the
# whole photograph: [181, 62, 268, 172], shifted by the patch origin).
PATCH = (slice(30, 230), slice(130, 320))
PATCH_FACE = np.array([51.0, 32.0, 138.0, 142.0])
# The same for the cameraman (skimage's camera, face at [199, 121, 254, 193]): face 0.46 of the patch width.
CAMERA_PATCH = (slice(90, 230), slice(170, 290))


@dataclass
class Clip:
    frames: list[np.ndarray]  # RGB
    boxes: np.ndarray  # (n, 4) true face box per frame, x0 y0 x1 y1


def background(width: int, height: int) -> np.ndarray:
    return cv2.resize(coffee(), (width, height), interpolation=cv2.INTER_AREA)


def paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    frame[y : y + patch.shape[0], x : x + patch.shape[1]] = patch


def face_clip(
    n: int,
    width: int = 640,
    height: int = 480,
    face: int = 120,
    step: int = 3,
    second: int = 0,
    plain: bool = False,
) -> Clip:
    """`n` frames of the astronaut (a patch `face` px wide; her face box is 0.46 of it) moving `step` px
    a frame. `second` > 0 adds a still second face (the cameraman), a patch that wide, at the top left.
    `plain` puts it on flat grey instead of the photograph (cheaper for MTCNN: fewer candidates).
    """
    src = astronaut()[PATCH]
    k = face / src.shape[1]
    patch = cv2.resize(src, (face, round(src.shape[0] * k)), interpolation=cv2.INTER_AREA)
    frames, boxes = [], []
    for i in range(n):
        frame = np.full((height, width, 3), 128, np.uint8) if plain else background(width, height)
        if second:
            other = camera()[CAMERA_PATCH]
            other = cv2.resize(
                other, (second, round(second * other.shape[0] / other.shape[1])), interpolation=cv2.INTER_AREA
            )
            paste(frame, cv2.cvtColor(other, cv2.COLOR_GRAY2RGB), 10, 10)
        x, y = width // 2 - face // 2 + step * i - step * n // 2, height // 3 - patch.shape[0] // 3
        paste(frame, patch, x, y)
        frames.append(frame)
        boxes.append(PATCH_FACE * k + [x, y, x, y])
    return Clip(frames, np.array(boxes))


def face_at_right_edge(gap: int, width: int = 640, height: int = 480, face: int = 300):
    """One frame whose face box ends `gap` px from the right edge (the patch is cut there); (frame, box)."""
    src = astronaut()[PATCH]
    k = face / src.shape[1]
    patch = cv2.resize(src, (face, round(src.shape[0] * k)), interpolation=cv2.INTER_AREA)
    frame = background(width, height)
    x, y = int(width - gap - PATCH_FACE[2] * k), 100
    frame[y : y + patch.shape[0], x:] = patch[:, : width - x]
    return frame, PATCH_FACE * k + [x, y, x, y]


def forge(clip: Clip, value: int = 60) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A fake of the clip: the centre of each face box brightened; (frames, 0/255 masks of the change)."""
    frames, masks = [], []
    for frame, box in zip(clip.frames, clip.boxes, strict=True):
        x0, y0, x1, y1 = box.round().astype(int)
        w, h = x1 - x0, y1 - y0
        region = (slice(y0 + h // 3, y1 - h // 6), slice(x0 + w // 4, x1 - w // 4))
        fake = frame.copy()
        fake[region] = np.clip(fake[region].astype(int) + value, 0, 255).astype(np.uint8)
        mask = np.zeros(frame.shape[:2], np.uint8)
        mask[region] = 255
        frames.append(fake)
        masks.append(mask)
    return frames, masks


def write_video(
    path: Path,
    frames: list[np.ndarray],
    crf: int = 0,
    rotation: int = 0,
    pts: list[int] | None = None,
    faststart: bool = False,
    fps: int = 25,
    gop: int | None = None,
    preset: str = "ultrafast",
) -> Path:
    """H.264 video of RGB frames (crf 0: lossless luma), optional display rotation and explicit pts; `gop`:
    a keyframe every `gop` frames (x264's default: 250); preset "veryfast" has B-frames, "ultrafast" none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    x264 = {"crf": str(crf), "preset": preset} | ({"g": str(gop), "keyint_min": str(gop)} if gop else {})
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps, options=x264)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = pts[i] if pts is not None else round(i * 1000 / fps)
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def grey_frames(n: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """Flat frames whose grey level (8 * i + 20) identifies the frame index i."""
    return [np.full((height, width, 3), 8 * i + 20, np.uint8) for i in range(n)]


def frame_id(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 20) / 8)


def truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def transcode(src: Path, dst: Path, codec: str = "libvpx-vp9") -> Path:
    """Re-encode a video's frames with another codec, into the container `dst`'s extension names."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.video[0]
        stream = out.add_stream(codec, rate=int(source.average_rate or 25))
        stream.width, stream.height, stream.pix_fmt = source.width, source.height, "yuv420p"
        for i, frame in enumerate(inp.decode(source)):
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, int(source.average_rate or 25))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def with_cover(src: Path, dst: Path) -> Path:
    """`src`'s video remuxed (not re-encoded) into an MP4 whose stream 0 is a cover picture: an mjpeg still
    with disposition attached_pic, as taggers embed album art. FFmpeg writes a cover into moov/udta and
    reads it back as the last stream; a tagger that puts udta before the tracks makes it stream 0, so udta
    is moved to the front of moov here (same bytes, same sizes: the sample offsets stay valid)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        source = inp.streams.video[0]
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 160, 120, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        video = out.add_stream_from_template(source)
        still = av.VideoFrame.from_ndarray(cv2.resize(camera(), (160, 120)), format="gray").reformat(
            format="yuvj420p"
        )
        for packet in [*cover.encode(still), *cover.encode()]:
            out.mux(packet)
        for packet in inp.demux(source):
            if packet.dts is not None:
                packet.stream = video
                out.mux(packet)
    data = dst.read_bytes()
    start, size = next((i, n) for kind, i, n in _boxes(data, 0, len(data)) if kind == b"moov")
    kids = _boxes(data, start + 8, start + size)
    order = sorted(kids, key=lambda box: box[0] != b"udta")
    dst.write_bytes(data[: start + 8] + b"".join(data[i : i + n] for _, i, n in order) + data[start + size :])
    return dst


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the ISO-BMFF boxes between two offsets (32-bit sizes: FFmpeg's, here)."""
    out = []
    while start < end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        out.append((kind, start, size))
        start += size
    return out
