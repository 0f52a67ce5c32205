"""The face tracks of one video: MTCNN on frames sampled evenly over its decodable length.

Frames are downscaled to a short side of about `det_side` pixels for MTCNN (pipeline.kernels.detect);
frames without a confident face are retried at twice the scale, for faces half as small
(DetectParams.retry_min_face_size); the candidates are linked into
tracks (face 0 the heaviest). The caller makes its record of the result (pipeline.store.records
.Detection.from_faces): extract stores it, predict crops from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.devices import device_name
from pipeline.errors import LrlError
from pipeline.kernels.detect import (
    INSTALL_HINT,
    FaceTrack,
    detection_scale,
    get_mtcnn,
    mtcnn_faces,
    shrink,
    track_faces,
)
from pipeline.kernels.video import iter_frames, sample_frames
from pipeline.params import DetectParams


@dataclass
class VideoFaces:
    """The face tracks of one video, per sampled frame (full-frame pixels)."""

    video: str  # the file detection ran on
    n_frames: int  # its decodable length
    width: int  # of the upright full-size frames
    height: int
    frames: list[int]  # sampled frame indices
    tracks: list[FaceTrack]  # face 0 the heaviest
    images: list | None = None  # the full-size sampled frames (n, H, W, 3) uint8, when kept


def detection_device(device: str) -> str:
    """ "cpu" or "cuda" for MTCNN (pipeline.devices.device_name); LrlError when facenet-pytorch is missing."""
    name = device_name(device)
    try:
        import facenet_pytorch  # noqa: F401
    except ImportError:
        raise LrlError(INSTALL_HINT) from None
    return name


def detect_video(
    path: Path,
    count: int | None,
    params: DetectParams,
    device: str = "cpu",
    keep: bool = False,
    threads: int = 0,
    within: int | None = None,
) -> VideoFaces:
    """MTCNN on `count` frames spread over the video, downscaled; missed frames retried at twice the scale
    for smaller faces.

    `keep`: the full-size sampled frames are kept (VideoFaces.images). `threads`: decoding threads.
    `within`: frames are sampled among the first `within` only (the length its fakes share).
    Raises LrlError naming the file when it cannot be decoded or no face is found.
    """
    detector = get_mtcnn(device, params)

    def small(frame):
        return shrink(frame, detection_scale(*frame.shape[:2], params.det_side))

    convert = (lambda f: (small(f), f)) if keep else small
    sampled = sample_frames(path, count, convert, threads, within=within)
    frames = [f for _, f in sampled.frames] if keep else None
    smalls = [s for s, _ in sampled.frames] if keep else sampled.frames
    w, h = sampled.width, sampled.height
    found = mtcnn_faces(detector, smalls, w, h, params.batch, params.pad)
    faces = [f.confident(params.min_score) for f in found]
    missing = [i for i, f in enumerate(faces) if len(f.scores) == 0]
    scale = detection_scale(h, w, params.det_side)
    if params.retry and missing and scale < 1:
        wanted = [sampled.indices[i] for i in missing]
        again = [
            shrink(frame, min(1.0, 2 * scale)) for _, frame in iter_frames(path, wanted, threads=threads)
        ]
        closer = get_mtcnn(device, replace(params, min_face_size=params.retry_min_face_size))
        for i, f in zip(missing, mtcnn_faces(closer, again, w, h, params.batch, params.pad), strict=True):
            faces[i] = f.confident(params.min_score)
    try:
        tracks = track_faces(sampled.indices, faces, params, min(w, h))
    except LrlError as exc:
        raise LrlError(f"{path}: {exc}") from None
    return VideoFaces(str(path), sampled.n_frames, w, h, sampled.indices, tracks, frames)
