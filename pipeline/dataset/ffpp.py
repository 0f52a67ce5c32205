"""The FaceForensics++ adapter: `original_sequences/` and `manipulated_sequences/` (pipeline.dataset.layout).

Records: dataset "ffpp" for youtube and the FF++ methods, with the official split of their pair
(pipeline.dataset.splits; "none" when the split files do not list them); dataset "dfd" for its
DeepFakeDetection part (actors, DeepFakeDetection), split "test": DFD is in no official split, it is
evaluation data with its own Table-3 row. A fake `AAA_BBB` (DFD: `T_S__scene__XXXXXXXX`) has target
`AAA` (`T__scene`), source `BBB` (`S`) and its official mask video when present.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from pipeline.dataset.layout import (
    DFD_METHODS,
    FAKE_DIR,
    FAKE_METHODS,
    FFPP_QUALITIES,
    REAL_DIR,
    REAL_METHODS,
    mask_video_dir,
    video_dir,
)
from pipeline.dataset.scan import Index, check_targets, list_videos
from pipeline.dataset.splits import default_split_dir, load_pairs, split_lookup
from pipeline.errors import LrlError
from pipeline.store.records import Problem, VideoRecord

NAME = "ffpp"
DATASETS = ("ffpp", "dfd")  # the datasets its records carry
FFPP_REAL = re.compile(r"^\d{3}$")
FFPP_FAKE = re.compile(r"^(\d{3})_(\d{3})$")
DFD_REAL = re.compile(r"^(\d{2})__([A-Za-z0-9_-]+)$")
DFD_FAKE = re.compile(r"^(\d{2})_(\d{2})__([A-Za-z0-9_-]+?)__([A-Za-z0-9]{8})$")


LOOKED_FOR = f"{REAL_DIR}/ or {FAKE_DIR}/ (FaceForensics++)"
TITLE = "FaceForensics++"


def layout_entries(root: Path) -> list[str]:
    """The entries of ROOT that have this layout (folders end with a slash)."""
    return [f"{name}/" for name in (REAL_DIR, FAKE_DIR) if (root / name).is_dir()]


def detect(root: Path) -> bool:
    """Whether ROOT looks like a FaceForensics++ tree."""
    return bool(layout_entries(root))


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


def scan(root: Path, split_dir: Path | None = None) -> Index:
    """Index every video under ROOT. Raises LrlError when ROOT is not a FaceForensics++ tree."""
    if not detect(root):
        raise LrlError(f"{root}: not a FaceForensics++ tree (no {REAL_DIR}/ or {FAKE_DIR}/ inside)")
    lookup = split_lookup(load_pairs(split_dir or default_split_dir(root)))
    index = Index()
    ambiguous: dict[str, set[str]] = defaultdict(set)  # method -> ids held by several files
    dropped: dict[str, dict[str, str]] = defaultdict(dict)  # method -> ids of skipped files -> the file
    for method in REAL_METHODS + FAKE_METHODS:
        masks = list_videos(mask_video_dir(root, method), index.problems) if method in FAKE_METHODS else {}
        for quality in FFPP_QUALITIES:
            for path in list_videos(
                video_dir(root, method, quality), index.problems, ambiguous[method], dropped=dropped[method]
            ).values():
                _add(index, method, quality, path, masks, lookup)
    check_targets(index, ambiguous, dropped)
    return index


def _add(index: Index, method, quality, path: Path, masks: dict[str, Path], lookup: dict[str, str]) -> None:
    parsed = parse_name(method, path.stem)
    if parsed is None:
        index.problems.append(Problem(str(path), f"cannot parse the name {path.stem!r} as a {method} video"))
        return
    target, target_method, source = parsed
    dfd = method in DFD_METHODS
    mask = masks.get(path.stem)
    index.records.append(
        VideoRecord(
            dataset="dfd" if dfd else "ffpp",
            method=method,
            quality=quality,
            video=path.stem,
            path=str(path),
            label=0 if method in REAL_METHODS else 1,
            target=target,
            target_method=target_method,
            source=source,
            mask_path=str(mask) if mask else None,
            split="test" if dfd else lookup.get(path.stem) or lookup.get(target) or "none",
        )
    )
