"""The run state's vocabulary: the typed records every stage writes or reads, unit names, meta keys.

The run state (pipeline.engine.runstate) keeps one row per unit of work, keyed by its unit name
(`stage` column) and key, its record in `data` as a JSON dict (`Record.to_dict` / `from_dict`), and
a small table of meta values. Records: the index's `VideoRecord` and `Problem` (pipeline.dataset
makes them), a detect unit's `Detection` (its `Track`s), an extract unit's `CropsRecord`, a masks
unit's `MasksRecord` (or its status NO_MASK); a shards unit's record is its index entry
(pipeline.store.index.ShardEntry). Every name here is on disk in WORK folders: never rename one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TypeVar

R = TypeVar("R", bound="Record")

ORIG = (
    "orig"  # the one quality of a dataset distributed at one quality (Celeb-DF, DFDC), in records and shards
)

# Unit names (the run state's `stage` column), in run order.
DETECT = "detect"  # one per real video id: its face tracks (Detection)
EXTRACT = "extract"  # one per video: its crops (CropsRecord)
MASKS = "masks"  # one per fake video: its masks (MasksRecord)
SHARDS = "shards"  # one per shard file (pipeline.store.index.ShardEntry)

NO_MASK = "no_mask"  # a masks unit's status: a fake whose real is not in ROOT; settled, shown, not a failure

# Run-state meta keys.
ROOT_META = "root"  # the ROOT the last stage ran on
PROBLEMS_META = "index:problems"  # {ROOT: [[path, reason], ...]}; a plain list in run states of one ROOT
SOURCES_META = "index:sources"  # {dataset: {"root": ROOT, "scope": Scope as a dict}}
BUCKETS_META = "shards:buckets"  # {split: bucket count} (pipeline.stages.shards)
FRAME_COUNTS_META = "extract:frame_counts"  # {path: [size, mtime_ns, header frame count or None]} (a memo)


def params_meta(unit: str) -> str:
    """The meta key of the parameters a stage last ran with (asdict of its params dataclass)."""
    return f"params:{unit}"


def selection_meta(unit: str) -> str:
    """The meta key of the selection (Scope or Selection as a dict) a stage last ran with."""
    return f"selection:{unit}"


class Record:
    """A dataclass stored as a JSON-able dict (the run state's `data`): `to_dict` / `from_dict`."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[R], d: dict) -> R:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class VideoRecord(Record):
    """One video of a FaceForensics++-style tree."""

    dataset: str
    method: str
    quality: str
    video: str
    path: str
    label: int  # 0 real, 1 fake
    target: str  # the real video whose frames this one shares (itself for a real)
    target_method: str  # "youtube" or "actors"
    source: str | None  # the face donor of a fake
    mask_path: str | None  # official mask video of a fake, when present
    split: str  # train / val / test / none

    @property
    def key(self) -> str:
        """Unique key of the video across datasets, methods and qualities."""
        return f"{self.dataset}/{self.method}/{self.quality}/{self.video}"

    @property
    def is_fake(self) -> bool:
        return self.label == 1


@dataclass(frozen=True)
class Problem:
    """Something the index could not use, with the file it concerns."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Track(Record):
    """One face track of a detection, per sampled frame (full-frame pixels)."""

    boxes: list[list[float] | None]  # (n, 4) x0, y0, x1, y1; None where there is no face
    landmarks: list[list[list[float]] | None]  # (n, 5, 2) x, y; None where there is no face
    scores: list[float]  # (n,), 0 where interpolated or no face
    interpolated: list[bool]  # (n,) the box was interpolated between two detections (DetectParams.max_gap)
    no_face: list[bool]  # (n,) no detection and no gap to fill: no crop


@dataclass(frozen=True)
class Detection(Record):
    """A "detect" unit's record: the face tracks of one video (face id = position, 0 the heaviest)."""

    video: str  # the file detection ran on
    n_frames: int  # its decodable length
    width: int
    height: int
    frames: list[int]  # sampled frame indices
    tracks: list[Track]

    @classmethod
    def from_dict(cls, d: dict) -> "Detection":
        return super().from_dict({**d, "tracks": [Track.from_dict(t) for t in d["tracks"]]})

    @classmethod
    def from_faces(cls, faces) -> "Detection":
        """The record of `pipeline.kernels.faces.detect_video`'s result: boxes and landmarks rounded to
        0.01 px, scores to 1e-4 (what crops are made from, in extract and predict alike)."""
        tracks = [
            Track(
                boxes=_rows(t.boxes, t.no_face),
                landmarks=_rows(t.landmarks, t.no_face),
                scores=t.scores.round(4).tolist(),
                interpolated=t.interpolated.tolist(),
                no_face=t.no_face.tolist(),
            )
            for t in faces.tracks
        ]
        return cls(faces.video, faces.n_frames, faces.width, faces.height, list(faces.frames), tracks)


def _rows(values, absent) -> list:
    """Rows of an array rounded to 0.01, None where `absent`."""
    return [
        None if gone else row for row, gone in zip(values.round(2).tolist(), absent.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class CropsRecord(Record):
    """An "extract" unit's record, what the masks and shards stages read: one video's crops in WORK.

    One flat list of crops: crop c is frame frames[c] of face faces[c] (PNG `frame_name(frame, face)`).
    """

    record: VideoRecord
    frames: list[int]  # per crop, the frame index
    faces: list[int]  # per crop, the face id (track of the detection)
    interpolated: list[bool]  # per crop, as the detection flagged it
    no_face: list[int]  # decoded sampled frames where a kept face has no box: no crop written ...
    no_face_faces: list[int]  # ... of this face, per entry of no_face
    size: int  # crop side, pixels
    transforms: list[list[list[float]]]  # per crop, the 2x3 full frame (of the video detected on) -> crop
    detect_key: str  # the "detect" unit whose boxes were used
    differences: list[float | None]  # per track of the detection: mean |fake - real| in its box, levels
    # (a fake whose real has several tracks; [] otherwise; None: the track had no box in a decoded frame)
    offset: list[int]  # [x, y]: pixel (x, y) of this video is pixel (x + ox, y + oy) of the video detected
    # on; [0, 0] unless its frames are another size (a fake cropped or padded: pipeline.kernels.align),
    # then read as frames of that video's size and cropped with its boxes and transforms

    @classmethod
    def from_dict(cls, d: dict) -> "CropsRecord":
        # older records: no `no_face` (every sampled frame cropped), one face (0), no differences, no offset
        n, absent = len(d["frames"]), len(d.get("no_face", []))
        defaults = {
            "no_face": [],
            "faces": [0] * n,
            "no_face_faces": [0] * absent,
            "differences": [],
            "offset": [0, 0],
        }
        return super().from_dict({**defaults, **d, "record": VideoRecord.from_dict(d["record"])})

    @property
    def crops(self) -> list[tuple[int, int]]:
        """(frame, face) of every crop."""
        return list(zip(self.frames, self.faces, strict=True))


def has_real(video: VideoRecord, detect_key: str) -> bool:
    """Whether a video is a fake cropped with its real's detection (its real is in ROOT); a fake whose real is
    absent was detected on itself (pipeline.stages.extract.detect_sources)."""
    return video.is_fake and detect_key == f"{video.dataset}/{video.target_method}/{video.target}"


@dataclass(frozen=True)
class MasksRecord(Record):
    """A "masks" unit's record: one fake's masks in WORK and their quality figures (a unit without a mask
    has status NO_MASK and no record)."""

    frames: list[int]  # per mask PNG (`frame_name(frame, face)`), the frame: the fake's crops ...
    faces: list[int]  # ... and the face
    reference_quality: str  # the quality of the pair the masks come from, or "official"
    source: str  # diff or official
    mean_area: float  # mean forged fraction of a mask
    mean_components: float  # mean number of connected forged regions
    empty_frames: list[int]  # frames whose mask is empty

    @classmethod
    def from_dict(cls, d: dict) -> "MasksRecord":
        return super().from_dict({"faces": [0] * len(d["frames"]), **d})  # older records: face 0
