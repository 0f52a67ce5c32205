"""The face tracks a blend is made on: every frame of a real, face 0 first (the project's MTCNN detection).

Detected once per real with extract's own detection (`detect_video`, every frame, its tracking, smoothing
and gap filling), or read from extract's "detect" record in WORK when `--work` names one made on the very
file blend reads; extract samples frames (32 by default), so its boxes and landmarks are interpolated
linearly between two sampled frames with a face, and frames before the first or after the last such
frame, or between a face and a frame without one, have no face (extract's rule: a box beyond its
detections would be a guess). A frame without a face is left as it is in the fake, its mask 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.engine.threads import worker_threads
from pipeline.errors import LrlError
from pipeline.kernels.blend import Face
from pipeline.kernels.faces import detect_video, detection_device
from pipeline.params import DetectParams
from pipeline.store.records import DETECT, Detection, Record

__all__ = ["DETECT", "FaceTracks", "detect_tracks", "detection_device", "from_detection"]


@dataclass(frozen=True)
class FaceTracks(Record):
    """A real's faces in every frame: per track (face 0 first), per frame, a box [x0, y0, x1, y1] and five
    landmarks [[x, y] x 5] in frame pixels, or None where the track has no face."""

    video: str  # the file the faces are of
    n_frames: int
    width: int
    height: int
    boxes: list[list[list[float] | None]]  # (tracks, n_frames, 4)
    landmarks: list[list[list[list[float]] | None]]  # (tracks, n_frames, 5, 2)
    reused: str = ""  # the extract "detect" unit read, or "" when blend detected itself

    def face(self, track: int, frame: int) -> Face | None:
        box = self.boxes[track][frame] if frame < self.n_frames else None
        return None if box is None else Face.of(box, self.landmarks[track][frame])

    def with_face(self, track: int) -> list[int]:
        """The frames where the track has a face."""
        return [i for i, b in enumerate(self.boxes[track]) if b is not None]

    def median_side(self, track: int = 0) -> float:
        """The track's median box side max(w, h), pixels (0 without any face)."""
        sides = [max(b[2] - b[0], b[3] - b[1]) for b in self.boxes[track] if b is not None]
        return float(np.median(sides)) if sides else 0.0


def _interpolate(frames: list[int], rows: list, n_frames: int) -> list:
    """Per-frame values from values at sampled `frames` (None: no face): each sampled face as it is, and
    linear between two sampled frames that both have one."""
    out: list = [None] * n_frames
    for k, (f0, a) in enumerate(zip(frames, rows, strict=True)):
        if a is None or f0 >= n_frames:
            continue
        out[f0] = np.round(np.asarray(a, float), 2).tolist()
        f1, b = (frames[k + 1], rows[k + 1]) if k + 1 < len(frames) else (f0, None)
        if b is None:
            continue
        a, b = np.asarray(a, float), np.asarray(b, float)
        for f in range(f0 + 1, min(f1, n_frames)):
            out[f] = np.round(a + (b - a) * (f - f0) / (f1 - f0), 2).tolist()
    return out


def from_detection(detection: Detection, reused: str = "") -> FaceTracks:
    """Extract's Detection (sampled frames) as FaceTracks of every frame (interpolated; module docstring)."""
    n, frames = detection.n_frames, list(detection.frames)
    return FaceTracks(
        detection.video,
        n,
        detection.width,
        detection.height,
        [_interpolate(frames, t.boxes, n) for t in detection.tracks],
        [_interpolate(frames, t.landmarks, n) for t in detection.tracks],
        reused,
    )


def detect_tracks(path: Path, params: DetectParams, device: str) -> FaceTracks:
    """MTCNN on every frame of the video, extract's tracking (LrlError when no frame has a face)."""
    detection = Detection.from_faces(detect_video(Path(path), None, params, device, threads=worker_threads()))
    if not detection.tracks:
        raise LrlError(f"{path}: no face track")
    return from_detection(detection)


def reused_detection(data: dict, key: str) -> FaceTracks:
    """FaceTracks from a done extract "detect" record's data."""
    return from_detection(Detection.from_dict(data), reused=key)
