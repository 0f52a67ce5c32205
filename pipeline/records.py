"""Typed records of the dataset index."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class VideoRecord:
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "VideoRecord":
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Problem:
    """Something the index could not use, with the file it concerns."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
