"""Scan a FaceForensics++ tree into VideoRecords, with the problems found on the way."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.dataset.layout import (
    FAKE_DIR,
    FAKE_METHODS,
    QUALITIES,
    REAL_DIR,
    REAL_METHODS,
    VIDEO_EXTS,
    mask_video_dir,
    video_dir,
)
from pipeline.dataset.records import Problem, VideoRecord
from pipeline.dataset.splits import default_split_dir, load_pairs, split_lookup
from pipeline.errors import LrlError
from pipeline.params import Selection

FFPP_REAL = re.compile(r"^\d{3}$")
FFPP_FAKE = re.compile(r"^(\d{3})_(\d{3})$")
DFD_REAL = re.compile(r"^(\d{2})__([A-Za-z0-9_-]+)$")
DFD_FAKE = re.compile(r"^(\d{2})_(\d{2})__([A-Za-z0-9_-]+?)__([A-Za-z0-9]{8})$")


@dataclass
class Index:
    """The records of a tree and the problems met while scanning it."""

    records: list[VideoRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def filter(self, selection: Selection) -> "Index":
        """The records `selection` keeps, with every problem."""
        return Index([r for r in self.records if selection.keeps(r)], list(self.problems))

    def counts(self) -> Counter:
        """Number of videos per (method, quality, split, label)."""
        return Counter((r.method, r.quality, r.split, r.label) for r in self.records)


def parse_name(method: str, name: str) -> tuple[str, str, str | None] | None:
    """(target, target_method, source) of a video name, or None when it cannot be parsed."""
    if method == "youtube":
        return (name, "youtube", None) if FFPP_REAL.match(name) else None
    if method == "actors":
        return (name, "actors", None) if DFD_REAL.match(name) else None
    if method == "DeepFakeDetection":
        m = DFD_FAKE.match(name)
        return (f"{m.group(1)}__{m.group(3)}", "actors", m.group(2)) if m else None
    m = FFPP_FAKE.match(name)
    return (m.group(1), "youtube", m.group(2)) if m else None


def _videos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTS and not p.name.startswith("."))


def _mask_paths(root: Path, method: str) -> dict[str, str]:
    return {p.stem: str(p) for p in _videos(mask_video_dir(root, method))}


def _split_of(method: str, name: str, target: str, lookup: dict[str, str]) -> str:
    if method in ("actors", "DeepFakeDetection"):
        return "none"
    return lookup.get(name) or lookup.get(target) or "none"


def scan(root: Path, dataset: str = "ffpp", split_dir: Path | None = None) -> Index:
    """Index every video under ROOT. Raises LrlError when ROOT is not a FaceForensics++ tree."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise LrlError(f"{root}: no such folder")
    if not (root / REAL_DIR).is_dir() and not (root / FAKE_DIR).is_dir():
        raise LrlError(f"{root}: not a FaceForensics++ tree (no {REAL_DIR}/ or {FAKE_DIR}/ inside)")
    lookup = split_lookup(load_pairs(split_dir or default_split_dir(root)))
    index = Index()
    for method in REAL_METHODS + FAKE_METHODS:
        masks = _mask_paths(root, method) if method in FAKE_METHODS else {}
        for quality in QUALITIES:
            for path in _videos(video_dir(root, method, quality)):
                _add(index, dataset, method, quality, path, masks, lookup)
    _check_targets(index)
    return index


def _add(index: Index, dataset, method, quality, path: Path, masks, lookup) -> None:
    parsed = parse_name(method, path.stem)
    if parsed is None:
        index.problems.append(Problem(str(path), f"cannot parse the name {path.stem!r} as a {method} video"))
        return
    if not os.access(path, os.R_OK):
        index.problems.append(Problem(str(path), "unreadable file (permission denied)"))
        return
    target, target_method, source = parsed
    label = 0 if method in REAL_METHODS else 1
    index.records.append(
        VideoRecord(
            dataset=dataset,
            method=method,
            quality=quality,
            video=path.stem,
            path=str(path),
            label=label,
            target=target,
            target_method=target_method,
            source=source,
            mask_path=masks.get(path.stem),
            split=_split_of(method, path.stem, target, lookup),
        )
    )


def _check_targets(index: Index) -> None:
    reals = {(r.method, r.video) for r in index.records if r.label == 0}
    for r in index.records:
        if r.label == 1 and (r.target_method, r.target) not in reals:
            index.problems.append(Problem(r.path, f"its real video {r.target_method}/{r.target} is missing"))


def counts_table(index: Index) -> str:
    """A plain-text table of video counts per method / quality / split / label."""
    rows = sorted(index.counts().items())
    lines = [f"{'method':<18} {'quality':<7} {'split':<6} {'label':<5} {'videos':>6}"]
    for (method, quality, split, label), n in rows:
        lines.append(f"{method:<18} {quality:<7} {split:<6} {'fake' if label else 'real':<5} {n:>6}")
    lines.append(f"{'total':<40} {len(index.records):>6}")
    return "\n".join(lines)
