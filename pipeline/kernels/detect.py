"""Face detection (facenet-pytorch MTCNN on downscaled frames) and the face tracks of a video.

MTCNN runs on frames whose short side is about `det_side` pixels; boxes and landmarks are scaled
back to full resolution. The candidates of all sampled frames are linked into tracks; the heaviest
track (confident, large and consistent: face 0) and every other track seen often enough, confident
and large enough (DetectParams.min_track_*) are kept, each smoothed over time. A frame where a face
was not found gets a box interpolated from its neighbours (flagged) only inside a short gap between
two of its detections (DetectParams.max_gap); frames before its first detection, after its last, or
in a longer gap have no face: recorded as such, never given a box from another frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import LrlError
from pipeline.params import DetectParams

DUPLICATE_IOU = 0.3  # a candidate overlapping a kept one of its frame this much is the same face (MTCNN's
# last NMS suppresses only boxes overlapping by more than 0.7 of the smaller one)
INSTALL_HINT = (
    "facenet-pytorch is not installed: install it with: pip install --no-deps facenet-pytorch==2.6.0"
)


@dataclass
class FrameFaces:
    """Face candidates of one frame, full-resolution pixels."""

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # (k, 4) x0, y0, x1, y1
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (k,)
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((0, 5, 2)))  # (k, 5, 2) x, y

    def confident(self, min_score: float) -> "FrameFaces":
        keep = self.scores >= min_score
        return FrameFaces(self.boxes[keep], self.scores[keep], self.landmarks[keep])


@dataclass
class FaceTrack:
    """One kept face in each sampled frame (boxes and landmarks NaN where there is none)."""

    boxes: np.ndarray  # (n, 4)
    landmarks: np.ndarray  # (n, 5, 2)
    scores: np.ndarray  # (n,), 0 where interpolated or no face
    interpolated: np.ndarray  # (n,) bool: box filled in a short gap between two detections
    no_face: np.ndarray  # (n,) bool: no detection and no gap to fill


# --- MTCNN -------------------------------------------------------------------------------------

_DETECTORS: dict = {}


def get_mtcnn(device: str, params: DetectParams):
    """One MTCNN per process and setting, created on first use.

    Its networks run in channels-last memory format: torch's CPU max-pooling is ~4x faster there,
    which makes MTCNN 1.6x faster (measured on the demo and FF++ 004), with the same boxes (1e-4 px).
    """
    key = (device, params.min_face_size, params.thresholds)
    if key not in _DETECTORS:
        try:
            import torch
            from facenet_pytorch import MTCNN
        except ImportError:
            raise LrlError(INSTALL_HINT) from None
        detector = MTCNN(
            keep_all=True,
            min_face_size=params.min_face_size,
            thresholds=list(params.thresholds),
            device=device,
        )
        _DETECTORS[key] = detector.to(memory_format=torch.channels_last)
    return _DETECTORS[key]


def detection_scale(height: int, width: int, det_side: int) -> float:
    """Downscale factor bringing the short side to `det_side` (never upscales)."""
    return min(1.0, det_side / min(height, width))


def shrink(frame: np.ndarray, scale: float) -> np.ndarray:
    """The frame downscaled by `scale` (area interpolation); the frame itself when scale >= 1."""
    import cv2

    if scale >= 1:
        return frame
    h, w = frame.shape[:2]
    return cv2.resize(
        frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )


def mtcnn_faces(
    detector, small: list[np.ndarray], width: int, height: int, batch: int, pad: float = 0.0
) -> list[FrameFaces]:
    """Detect faces on same-size downscaled frames, in batches; results in full-resolution pixels.

    The frames get a black border of `pad` times their short side first (see DetectParams).
    `detector` is a facenet_pytorch.MTCNN, run through pipeline.kernels.mtcnn_batched.detect (same boxes
    as its own `detect`, resampling batched).
    """
    import cv2

    from pipeline.kernels.mtcnn_batched import detect

    if not small:
        return []
    h, w = small[0].shape[:2]
    border = round(pad * min(h, w))
    factor = np.array([width / w, height / h])
    out: list[FrameFaces] = []
    for start in range(0, len(small), batch):
        chunk = [
            cv2.copyMakeBorder(f, border, border, border, border, cv2.BORDER_CONSTANT) if border else f
            for f in small[start : start + batch]
        ]
        out += [_rescale(b, p, pts, border, factor) for b, p, pts in detect(detector, np.stack(chunk))]
    return out


def _rescale(
    boxes: np.ndarray, probs: np.ndarray, points: np.ndarray, border: int, factor: np.ndarray
) -> FrameFaces:
    boxes = (boxes.reshape(-1, 4) - border) * np.tile(factor, 2)
    points = (points.reshape(-1, 5, 2) - border) * factor
    return FrameFaces(boxes, probs.reshape(-1), points)


# --- tracking (pure) ---------------------------------------------------------------------------


def box_area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x0, y0, x1, y1 boxes."""
    inter = box_area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def side(box: np.ndarray) -> float:
    """The longer side of a x0, y0, x1, y1 box."""
    return float(max(box[2] - box[0], box[3] - box[1]))


def same_face(prev: np.ndarray, box: np.ndarray, distance: float, zoom: float) -> float | None:
    """Centre distance over the larger box's side when `box` can continue a track whose last box is `prev`,
    else None: it moved at most `distance` face sides and its side changed at most `zoom` times.

    Sampled frames can be a second apart: a head turn, a zoom or a pan moves a face by about its size
    between them (DetectParams.link_distance).
    """
    big, small = max(side(prev), side(box)), min(side(prev), side(box))
    dist = float(np.hypot(*((box[:2] + box[2:]) / 2 - (prev[:2] + prev[2:]) / 2))) / max(big, 1e-9)
    return dist if dist <= distance and big <= zoom * small else None


def link_tracks(
    faces: list[FrameFaces], distance: float = 1.5, zoom: float = 2.0
) -> list[list[tuple[int, int]]]:
    """Candidates linked across frames into tracks of (frame position, candidate index).

    Frame by frame, every (track, candidate) pair that `same_face` allows is taken closest first, each
    track and candidate once; a track is continued from its last detection (across frames where it was
    not seen); a candidate left over starts a new track (most confident first), unless it overlaps a
    candidate of its frame already placed by DUPLICATE_IOU or more: a second box on the same face.
    """
    tracks: list[list[tuple[int, int]]] = []
    for t, frame in enumerate(faces):
        pairs = []
        for k, track in enumerate(tracks):
            last = faces[track[-1][0]].boxes[track[-1][1]]
            for j, box in enumerate(frame.boxes):
                d = same_face(last, box, distance, zoom)
                if d is not None:
                    pairs.append((d, k, j))
        used_tracks, used = set(), set()
        for _, k, j in sorted(pairs):
            if k not in used_tracks and j not in used:
                tracks[k].append((t, j))
                used_tracks.add(k)
                used.add(j)
        for j in np.argsort(-frame.scores, kind="stable"):
            if not any(iou(frame.boxes[j], frame.boxes[k]) >= DUPLICATE_IOU for k in used):
                tracks.append([(t, int(j))])
            used.add(int(j))
    return tracks


def track_weight(faces: list[FrameFaces], track: list[tuple[int, int]]) -> float:
    """Confidence x size summed over the frames where the track is seen: favours the large, consistent
    face."""
    return sum(faces[t].scores[j] * np.sqrt(box_area(faces[t].boxes[j])) for t, j in track)


def smooth_over_time(frames: np.ndarray, values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted average over time (frame-index distance), per value; sigma 0 returns the input."""
    if sigma <= 0 or len(frames) < 2:
        return values.copy()
    d = frames[:, None].astype(float) - frames[None, :]
    w = np.exp(-0.5 * (d / sigma) ** 2)
    flat = values.reshape(len(values), -1)
    return ((w @ flat) / w.sum(axis=1, keepdims=True)).reshape(values.shape)


def fillable(known: np.ndarray, max_gap: int) -> np.ndarray:
    """(n,) bool: the unknown positions inside a run of at most `max_gap` unknowns between two known ones.

    Positions are sampled frames in order; a run touching either end is never fillable.
    """
    out = np.zeros(len(known), bool)
    seen = np.flatnonzero(known)
    for a, b in zip(seen[:-1], seen[1:], strict=True):
        if 0 < b - a - 1 <= max_gap:
            out[a + 1 : b] = True
    return out


def fill_gaps(frames: np.ndarray, known: np.ndarray, values: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Rows where `fill` is True linearly interpolated over frame index from the `known` rows; others NaN.

    `fill` marks rows between two known rows (see `fillable`); known rows are returned as they are.
    """
    flat = values.reshape(len(values), -1).astype(float)
    out = np.full_like(flat, np.nan)
    out[known] = flat[known]
    for c in range(flat.shape[1]):
        out[fill, c] = np.interp(frames[fill], frames[known], flat[known, c])
    return out.reshape(values.shape)


def track_stats(
    faces: list[FrameFaces], track: list[tuple[int, int]], short_side: int
) -> tuple[float, float, float]:
    """(fraction of the sampled frames it is seen in, mean detector score, median box side / frame short
    side)."""
    sides = [side(faces[t].boxes[j]) for t, j in track]
    return (
        len(track) / len(faces),
        float(np.mean([faces[t].scores[j] for t, j in track])),
        float(np.median(sides)) / short_side,
    )


def kept_tracks(
    faces: list[FrameFaces], params: DetectParams, short_side: int
) -> list[list[tuple[int, int]]]:
    """The linked tracks kept as faces, heaviest first (face 0: the one face a one-face video has).

    The heaviest track is always kept; every other one when it is seen in at least
    params.min_track_seen of the sampled frames, with a mean score of at least params.min_track_score
    and a median side of at least params.min_track_side of the frame's short side.
    """
    linked = link_tracks(faces, params.link_distance, params.link_zoom)
    tracks = sorted(linked, key=lambda tr: -track_weight(faces, tr))
    kept = tracks[:1]
    for track in tracks[1:]:
        seen, score, side = track_stats(faces, track, short_side)
        if (
            seen >= params.min_track_seen
            and score >= params.min_track_score
            and side >= params.min_track_side
        ):
            kept.append(track)
    return kept


def build_track(
    frame_indices: list[int],
    faces: list[FrameFaces],
    track: list[tuple[int, int]],
    sigma: float,
    max_gap: int,
) -> FaceTrack:
    """One linked track in every sampled frame: smoothed, gaps of at most `max_gap` frames filled."""
    n = len(faces)
    frames = np.asarray(frame_indices)
    known = np.zeros(n, bool)
    boxes, marks, scores = np.zeros((n, 4)), np.zeros((n, 5, 2)), np.zeros(n)
    for t, j in track:
        known[t] = True
        boxes[t], marks[t], scores[t] = faces[t].boxes[j], faces[t].landmarks[j], faces[t].scores[j]
    boxes[known] = smooth_over_time(frames[known], boxes[known], sigma)
    marks[known] = smooth_over_time(frames[known], marks[known], sigma)
    fill = fillable(known, max_gap)
    return FaceTrack(
        fill_gaps(frames, known, boxes, fill),
        fill_gaps(frames, known, marks, fill),
        scores,
        fill,
        ~known & ~fill,
    )


def track_faces(
    frame_indices: list[int], faces: list[FrameFaces], params: DetectParams, short_side: int
) -> list[FaceTrack]:
    """Every kept face (`kept_tracks`, face 0 first) in every sampled frame of a video whose short side is
    `short_side` pixels, each smoothed (params.smooth_sigma) and gap-filled (params.max_gap).

    Raises LrlError when no frame has a face.
    """
    tracks = kept_tracks(faces, params, short_side)
    if not tracks:
        raise LrlError(f"no face detected in any of the {len(faces)} sampled frames")
    return [build_track(frame_indices, faces, tr, params.smooth_sigma, params.max_gap) for tr in tracks]
