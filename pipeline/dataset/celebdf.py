"""The Celeb-DF v2 adapter: Celeb-real/, YouTube-real/, Celeb-synthesis/, List_of_testing_videos.txt.

Records: dataset "celebdf", method = the folder, quality "orig", video = the file stem. A fake
`idA_idB_NNNN` of Celeb-synthesis has target `idA_NNNN` (its aligned real in Celeb-real) and source
`idB`; YouTube-real's reals have no fakes. Split "test" when the test list names the video, else
"train" (the dataset's own rule). The list's labels are inverted against this project's: 1 = real,
0 = fake. A list line whose label disagrees with the video's folder, that names no usable video, or
that cannot be read as "<label> <folder>/<file>" is a Problem naming the line; a disagreeing video is
not used (which of the two is wrong is unknown), nor are the fakes made on it (a problem each). Without
the list every video is "train" and there is no test split (a note saying so).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from pipeline.dataset.layout import (
    CELEB_FAKE,
    CELEB_REAL,
    CELEBDF_FOLDERS,
    CELEBDF_NESTED,
    CELEBDF_TEST_LIST,
    YOUTUBE_REAL,
)
from pipeline.dataset.scan import Index, check_targets, list_videos
from pipeline.errors import LrlError
from pipeline.store.records import ORIG, Problem, VideoRecord

NAME = "celebdf"
DATASETS = ("celebdf",)
LOOKED_FOR = f"{', '.join(CELEBDF_FOLDERS)}/ (Celeb-DF)"
TITLE = "Celeb-DF"
REAL_NAME = re.compile(r"^id\d+_\d+$")
YOUTUBE_NAME = re.compile(r"^\d+$")
FAKE_NAME = re.compile(r"^(id\d+)_(id\d+)_(\d+)$")
LIST_LABELS = {"1": 0, "0": 1}  # the test list's label -> this project's (0 real, 1 fake)


def layout_entries(root: Path) -> list[str]:
    """The entries of ROOT that have this layout (folders end with a slash)."""
    return [f"{folder}/" for folder in CELEBDF_FOLDERS if (root / folder).is_dir()]


def detect(root: Path) -> bool:
    """Whether ROOT looks like a Celeb-DF tree."""
    return bool(layout_entries(root))


def parse_name(folder: str, name: str) -> tuple[str, str, str | None] | None:
    """(target, target_method, source) of a video of `folder`, or None when it cannot be parsed."""
    if folder == CELEB_REAL:
        return (name, CELEB_REAL, None) if REAL_NAME.match(name) else None
    if folder == YOUTUBE_REAL:
        return (name, YOUTUBE_REAL, None) if YOUTUBE_NAME.match(name) else None
    m = FAKE_NAME.match(name)
    return (f"{m.group(1)}_{m.group(3)}", CELEB_REAL, m.group(2)) if m else None


def scan(root: Path, split_dir: Path | None = None) -> Index:
    """Index every video under ROOT (`split_dir` is FF++'s and unused). LrlError when ROOT is no Celeb-DF
    tree or its test list cannot be read."""
    if not detect(root):
        raise LrlError(f"{root}: not a Celeb-DF tree (none of {', '.join(CELEBDF_FOLDERS)} inside)")
    index = Index()
    ambiguous: dict[str, set[str]] = defaultdict(set)
    dropped: dict[str, dict[str, str]] = defaultdict(
        dict
    )  # folder -> ids not used -> the file of the problem
    found: dict[tuple[str, str], tuple[Path, tuple[str, str, str | None]]] = {}
    for folder in CELEBDF_FOLDERS:
        for stem, path in list_videos(
            root / folder, index.problems, ambiguous[folder], CELEBDF_NESTED, dropped=dropped[folder]
        ).items():
            parsed = parse_name(folder, stem)
            if parsed is None:
                index.problems.append(
                    Problem(str(path), f"cannot parse the name {stem!r} as a {folder} video")
                )
            else:
                found[(folder, stem)] = (path, parsed)
    tests, refused = read_test_list(root, found, index)
    for (folder, stem), (path, (target, target_method, source)) in sorted(found.items()):
        if (folder, stem) in refused:
            dropped[folder][stem] = str(root / CELEBDF_TEST_LIST)
            continue
        index.records.append(
            VideoRecord(
                dataset=NAME,
                method=folder,
                quality=ORIG,
                video=stem,
                path=str(path),
                label=1 if folder == CELEB_FAKE else 0,
                target=target,
                target_method=target_method,
                source=source,
                mask_path=None,
                split="test" if (folder, stem) in tests else "train",
            )
        )
    check_targets(index, ambiguous, dropped)
    return index


def read_test_list(root: Path, found: dict, index: Index) -> tuple[set, set]:
    """(the (folder, stem) the test list names, those it names with the wrong label); its faulty lines go
    to index.problems. LrlError when the list exists but cannot be read."""
    path = root / CELEBDF_TEST_LIST
    if not path.exists():
        index.notes.append(
            Problem(
                str(path),
                f"missing: every video is in split train; no test split: --evaluate "
                f"--split test will find no {NAME} samples",
            )
        )
        return set(), set()
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LrlError(
            f"{path}: cannot read the test list ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    listed, refused = set(), set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number} {line.strip()!r}"
        parts = line.split()
        if len(parts) != 2 or parts[0] not in LIST_LABELS or Path(parts[1]).parts[0] not in CELEBDF_FOLDERS:
            index.problems.append(
                Problem(
                    str(path),
                    f"{where}: not '<label> <folder>/<file>' with label 1 (real) "
                    f"or 0 (fake) and folder one of {', '.join(CELEBDF_FOLDERS)}",
                )
            )
            continue
        rel = Path(parts[1])
        key = (rel.parts[0], rel.stem)
        if key not in found:
            there = any((root / p).exists() for p in (rel, Path(rel.parts[0], CELEBDF_NESTED, rel.name)))
            why = "names a video not used (see the problem naming it)" if there else "no such file in ROOT"
            index.problems.append(Problem(str(path), f"{where}: {why}"))
            continue
        label, folder_label = LIST_LABELS[parts[0]], int(key[0] == CELEB_FAKE)
        if label != folder_label:
            index.problems.append(
                Problem(
                    str(path),
                    f"{where}: label {parts[0]} means {('real', 'fake')[label]} "
                    f"in this list, but {key[0]} holds {('reals', 'fakes')[folder_label]}: "
                    f"{found[key][0]} not used",
                )
            )
            refused.add(key)
            continue
        listed.add(key)
    return listed, refused
