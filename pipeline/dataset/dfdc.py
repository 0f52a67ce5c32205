"""The DFDC adapter: training parts `dfdc_train_part_<N>/` with a metadata.json each, and the public test
set, a folder of videos with labels.csv (ROOT itself or a folder inside it).

Records: dataset "dfdc", method "real" / "fake", quality "orig", video = the file stem (unique across
the parts: two files with one stem are a problem, neither is used). A fake's target is the stem of its
`original` (target_method "real"), looked up in every part's metadata merged first, since the original
may sit in another part; a fake whose original is in no part gets a note ("original X is in no part":
no difference mask), as in FF++; a fake named without an original (the test set's) is its own
target, with a note. Split: the metadata's (DFDC says "train") for the parts, "test" for the test set.

Never silently dropped, each one Problem: an unreadable or invalid metadata.json or labels.csv (its
videos are not used), an entry naming a file that does not exist, an entry with an unknown label or
split (that entry's video is not used), a video its folder's metadata.json or labels.csv does not list
(label unknown, not used), and a fake whose original is one of those videos not used.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.dataset.layout import DFDC_FAKE, DFDC_LABELS, DFDC_METADATA, DFDC_PART, DFDC_REAL, SPLITS
from pipeline.dataset.scan import Index, check_targets, list_videos
from pipeline.errors import LrlError
from pipeline.store.records import ORIG, Problem, VideoRecord

NAME = "dfdc"
DATASETS = ("dfdc",)
LOOKED_FOR = f"dfdc_train_part_<N>/ or {DFDC_LABELS} (DFDC)"
TITLE = "DFDC"
METADATA_LABELS = {"REAL": 0, "FAKE": 1}
CSV_LABELS = {"0": 0, "1": 1}  # labels.csv: 1 = fake


@dataclass(frozen=True)
class Entry:
    """What a metadata.json or labels.csv says about one video file."""

    label: int
    split: str
    original: str | None  # file name of a fake's original, None when not given


def parts(root: Path) -> list[Path]:
    """The training parts of ROOT, in name order."""
    return (
        sorted(p for p in root.iterdir() if p.is_dir() and DFDC_PART.match(p.name)) if root.is_dir() else []
    )


def test_folders(root: Path) -> list[Path]:
    """ROOT and the folders inside it (not training parts) that hold a labels.csv."""
    inside = (
        [p for p in sorted(root.iterdir()) if p.is_dir() and not DFDC_PART.match(p.name)]
        if root.is_dir()
        else []
    )
    return [f for f in [root, *inside] if (f / DFDC_LABELS).is_file()]


def layout_entries(root: Path) -> list[str]:
    """The entries of ROOT that have this layout (folders end with a slash)."""
    return [f"{f.name}/" if f != root else DFDC_LABELS for f in parts(root) + test_folders(root)]


def detect(root: Path) -> bool:
    """Whether ROOT looks like a DFDC tree."""
    return bool(layout_entries(root))


def scan(root: Path, split_dir: Path | None = None) -> Index:
    """Index every video under ROOT (`split_dir` is FF++'s and unused). LrlError when ROOT is no DFDC tree."""
    if not detect(root):
        raise LrlError(f"{root}: not a DFDC tree (no dfdc_train_part_<N>/ folder nor {DFDC_LABELS} inside)")
    index = Index()
    labelled: dict[str, list[tuple[Path, Entry]]] = {}  # stem -> every (file, entry) with that stem
    sources = [(p, DFDC_METADATA, read_metadata(p, index)) for p in parts(root)]
    sources += [(f, DFDC_LABELS, read_labels(f, index)) for f in test_folders(root)]
    inner = tuple(
        folder.name for folder, _, _ in sources if folder != root
    )  # not videos of a test set in ROOT
    dropped: dict[str, str] = {}  # ids of videos not used because of a problem -> the file it names
    for folder, listing, entries in sources:
        skip = (listing, *inner) if folder == root else (listing,)
        for path, entry in _match(folder, listing, entries, index, skip, dropped):
            labelled.setdefault(path.stem, []).append((path, entry))
    ambiguous = {DFDC_REAL: set()}
    originals = {}  # fake id -> the original its metadata names
    unknown = []
    for stem, found in sorted(labelled.items()):
        if len(found) > 1:
            ambiguous[DFDC_REAL].add(stem)
            names = ", ".join(str(p) for p, _ in found)
            index.problems.append(
                Problem(
                    str(found[0][0]),
                    f"{len(found)} files have the video id {stem!r} ({names}): "
                    "none of them is used; keep one",
                )
            )
            continue
        path, entry = found[0]
        target = Path(entry.original).stem if entry.original else stem
        if entry.original:
            originals[stem] = entry.original
        record = VideoRecord(
            dataset=NAME,
            method=(DFDC_REAL, DFDC_FAKE)[entry.label],
            quality=ORIG,
            video=stem,
            path=str(path),
            label=entry.label,
            target=target,
            target_method=DFDC_REAL,
            source=None,
            mask_path=None,
            split=entry.split,
        )
        (unknown if entry.label == 1 and not entry.original else index.records).append(record)
    check_targets(
        index, ambiguous, {DFDC_REAL: dropped}, lambda r: f"original {originals[r.video]} is in no part"
    )
    index.notes += [
        Problem(r.path, "no original named for this fake: no difference mask (masks: no mask)")
        for r in unknown
    ]
    index.records += unknown
    return index


def _match(
    folder: Path,
    listing: str,
    entries: dict[str, Entry | None] | None,
    index: Index,
    skip: tuple[str, ...],
    dropped: dict[str, str],
) -> list[tuple[Path, Entry]]:
    """(file, entry) of every video of `folder` its `listing` (metadata.json, labels.csv) names; the rest,
    both ways, are problems. `skip`: entries of the folder that are not its videos; `dropped` gets the id
    of every video not used, with the file its problem names."""
    videos = {p.name: p for p in list_videos(folder, index.problems, skip=skip, dropped=dropped).values()}
    if entries is None:  # the labels file is unusable: one problem already names it and counts its videos
        dropped.update({p.stem: str(folder / listing) for p in videos.values()})
        return []
    files = {p.name for p in folder.iterdir()}
    matched = []
    for name, entry in sorted(entries.items()):
        if entry is None:  # a refused entry (unknown label or split): its problem names it
            if name in videos:
                dropped.setdefault(videos[name].stem, str(folder / listing))
        elif name in videos:
            matched.append((videos[name], entry))
        else:
            why = "not usable (see the problem naming it)" if name in files else "no such file"
            index.problems.append(Problem(str(folder / listing), f"lists {name}, {why}"))
    for name, path in sorted(videos.items()):
        if name not in entries:
            index.problems.append(
                Problem(str(path), f"not in {folder.name}/{listing}: label unknown, not used")
            )
            dropped.setdefault(path.stem, str(path))
    return matched


def _unusable_listing(path: Path, why: str, index: Index) -> None:
    videos = sum(1 for p in path.parent.iterdir() if p.name != path.name and not p.name.startswith("."))
    others = "the other file of {}/ is" if videos == 1 else f"the {videos} other files of {{}}/ are"
    index.problems.append(Problem(str(path), f"{why}: {others.format(path.parent.name)} not used"))


def read_metadata(part: Path, index: Index) -> dict[str, Entry | None] | None:
    """{file name: Entry} of a part's metadata.json; None (and a problem) when it is missing or invalid.
    Entries with an unknown label or split are problems, their Entry None (listed, not used)."""
    path = part / DFDC_METADATA
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        _unusable_listing(path, "missing", index)
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _unusable_listing(path, f"cannot read it as JSON ({getattr(exc, 'strerror', None) or exc})", index)
        return None
    if not isinstance(data, dict):
        _unusable_listing(path, "not a JSON object of file name -> {label, split, original}", index)
        return None
    entries: dict[str, Entry | None] = {}
    for name, info in data.items():
        info = info if isinstance(info, dict) else {}
        label, split, original = info.get("label"), info.get("split", "train"), info.get("original")
        if label not in METADATA_LABELS:
            index.problems.append(
                Problem(str(path), f"entry {name}: label {label!r} is neither REAL nor FAKE: not used")
            )
            entries[name] = None
        elif split not in SPLITS:
            index.problems.append(
                Problem(str(path), f"entry {name}: split {split!r} is none of {', '.join(SPLITS)}: not used")
            )
            entries[name] = None
        else:
            fake = METADATA_LABELS[label]
            entries[name] = Entry(fake, split, str(original) if fake and original else None)
    return entries


def read_labels(folder: Path, index: Index) -> dict[str, Entry | None] | None:
    """{file name: Entry} of a test set's labels.csv (split "test"); None (and a problem) when it is invalid.
    A line without a known label is a problem, its file's Entry None (listed, not used)."""
    path = folder / DFDC_LABELS
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        _unusable_listing(path, f"cannot read it ({getattr(exc, 'strerror', None) or exc})", index)
        return None
    if not rows or [c.strip() for c in rows[0][:2]] != ["filename", "label"]:
        _unusable_listing(path, "its first line is not the header 'filename,label'", index)
        return None
    entries: dict[str, Entry | None] = {}
    for number, row in enumerate(rows[1:], 2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or row[1].strip() not in CSV_LABELS:
            index.problems.append(
                Problem(
                    str(path),
                    f"line {number} {','.join(row)!r}: not '<file>,<label>' with "
                    "label 1 (fake) or 0 (real): not used",
                )
            )
            if row[0].strip():
                entries[row[0].strip()] = None
            continue
        entries[row[0].strip()] = Entry(CSV_LABELS[row[1].strip()], "test", None)
    return entries
