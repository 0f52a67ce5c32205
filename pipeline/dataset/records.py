"""Typed records of the dataset index, and the dict round trip every stage record shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TypeVar

R = TypeVar("R", bound="Record")


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
