"""Scan a FaceForensics++ tree into VideoRecords, with every file it skips named and why.

A file of a videos folder is a video when its extension is one of VIDEO_EXTS (no probing: the
scan stays cheap for a cron refresh) or, for any other extension, when PyAV opens it and finds a
video stream. Hidden files (a leading dot: editors' and rsync's partial files) are ignored. Every
other entry is a `Problem` with its true reason (a broken link, a directory, a permission problem,
an empty file, a file PyAV cannot open), and so are two files resolving to one video id: neither is
used, nor the fakes made on it. A fake whose real is not in the tree is a `note`, not a problem: it
is extracted (detected on itself) but gets no difference mask (the masks stage says "no mask").
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter, defaultdict
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
    """The records of a tree, the files it could not use (`problems`) and fakes without their real (`notes`)."""

    records: list[VideoRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    def filter(self, selection: Selection) -> "Index":
        """The records `selection` keeps, with every problem and note."""
        return Index([r for r in self.records if selection.keeps(r)], list(self.problems), list(self.notes))

    def empty_reason(self, root: Path, selection: Selection) -> str:
        """Why no record of ROOT is selected: nothing indexed (naming the first file skipped), or the filters."""
        if self.records:
            return f"{root}: no video matches the chosen methods / qualities / splits"
        first = f"; {len(self.problems)} files skipped, e.g. {self.problems[0]}" if self.problems else ""
        return f"{root}: no video could be indexed{first}"

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


def unusable(path: Path) -> str | None:
    """Why the entry `path` of a videos folder is not a readable video file, or None (cheap checks only)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
        return "vanished while the tree was scanned"
    except PermissionError:
        return "permission denied (cannot reach the file)"
    except OSError as exc:
        return f"cannot stat the file ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "a directory, not a video file"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied (not readable by this user)"
    if st.st_size == 0:
        return "empty file (0 bytes)"
    return None


def probe(path: Path) -> str | None:
    """None when PyAV opens `path` and finds a video stream in it, else why not."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "no video stream in it (PyAV opens it)"
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        return f"not a container PyAV can open ({why})"
    return None


def _videos(folder: Path, problems: list[Problem], ambiguous: set[str] | None = None) -> dict[str, Path]:
    """{video id: file} of a videos folder; skipped entries and ids held by several files go to `problems`
    (those ids also to `ambiguous`)."""
    if not folder.is_dir():
        return {}
    by_id: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        why = unusable(path) or (None if path.suffix.lower() in VIDEO_EXTS else probe(path))
        if why:
            problems.append(Problem(str(path), why))
        else:
            by_id[path.stem].append(path)
    found = {}
    for stem, paths in by_id.items():
        if len(paths) == 1:
            found[stem] = paths[0]
            continue
        if ambiguous is not None:
            ambiguous.add(stem)
        names = ", ".join(p.name for p in paths)
        problems.append(Problem(str(folder / stem), f"{len(paths)} files have the video id {stem!r} ({names}): "
                                                    "none of them is used; keep one"))
    return found


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
    ambiguous: dict[str, set[str]] = defaultdict(set)  # method -> ids held by several files
    for method in REAL_METHODS + FAKE_METHODS:
        masks = _videos(mask_video_dir(root, method), index.problems) if method in FAKE_METHODS else {}
        for quality in QUALITIES:
            for path in _videos(video_dir(root, method, quality), index.problems, ambiguous[method]).values():
                _add(index, dataset, method, quality, path, masks, lookup)
    _check_targets(index, ambiguous)
    return index


def _add(index: Index, dataset, method, quality, path: Path, masks: dict[str, Path], lookup) -> None:
    parsed = parse_name(method, path.stem)
    if parsed is None:
        index.problems.append(Problem(str(path), f"cannot parse the name {path.stem!r} as a {method} video"))
        return
    target, target_method, source = parsed
    label = 0 if method in REAL_METHODS else 1
    mask = masks.get(path.stem)
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
            mask_path=str(mask) if mask else None,
            split=_split_of(method, path.stem, target, lookup),
        )
    )


def _check_targets(index: Index, ambiguous: dict[str, set[str]]) -> None:
    """Fakes on an ambiguous real leave the records (a problem); fakes whose real is absent get a note."""
    reals = {(r.method, r.video) for r in index.records if r.label == 0}
    kept = []
    for r in index.records:
        if r.label == 1 and r.target in ambiguous[r.target_method]:
            index.problems.append(Problem(r.path, f"not used: its real {r.target_method}/{r.target} is held by "
                                                  "several files (see the problem naming them)"))
            continue
        if r.label == 1 and (r.target_method, r.target) not in reals:
            index.notes.append(Problem(r.path, f"its real {r.target_method}/{r.target} is not in ROOT: no "
                                               "difference mask (masks: no mask)"))
        kept.append(r)
    index.records = kept


def counts_table(index: Index) -> str:
    """A plain-text table of video counts per method / quality / split / label."""
    rows = sorted(index.counts().items())
    lines = [f"{'method':<18} {'quality':<7} {'split':<6} {'label':<5} {'videos':>6}"]
    for (method, quality, split, label), n in rows:
        lines.append(f"{method:<18} {quality:<7} {split:<6} {'fake' if label else 'real':<5} {n:>6}")
    lines.append(f"{'total':<40} {len(index.records):>6}")
    return "\n".join(lines)
