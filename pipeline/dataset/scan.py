"""What every dataset adapter shares: the Index it returns, and listing a folder's videos with every
file it skips named and why.

A file of a videos folder is a video when its extension is one of VIDEO_EXTS (no probing: the
scan stays cheap for a cron refresh) or, for any other extension, when PyAV opens it and finds a
video stream. Hidden files (a leading dot: editors' and rsync's partial files) are ignored. Every
other entry is a `Problem` with its true reason (a broken link, a directory, a permission problem,
an empty file, a file PyAV cannot open), and so are two files resolving to one video id: neither is
used, nor the fakes made on it. So are the fakes of a real that is in the tree but not used because
of a problem (a skipped file, a label its dataset's listing refuses): each says which file's problem.
A fake whose real is not in the tree is a `note`, not a problem: it is extracted (detected on
itself) but gets no difference mask (the masks stage says "no mask").
The adapters (pipeline.dataset.ffpp, .celebdf, .dfdc) and their registry (pipeline.dataset.adapters).
"""

from __future__ import annotations

import os
import stat
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.dataset.layout import VIDEO_EXTS
from pipeline.params import Selection
from pipeline.store.records import Problem, VideoRecord


@dataclass
class Index:
    """The records of a tree, the files it could not use (`problems`) and what is worth knowing but no
    fault (`notes`: fakes without their real, a Celeb-DF copy without its test list)."""

    records: list[VideoRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    def filter(self, selection: Selection) -> "Index":
        """The records `selection` keeps, with every problem and note."""
        return Index([r for r in self.records if selection.keeps(r)], list(self.problems), list(self.notes))

    def empty_reason(self, root: Path, selection: Selection) -> str:
        """Why no record of ROOT is selected: nothing indexed (naming the first file skipped), or the
        filters."""
        if self.records:
            return f"{root}: no video matches the chosen datasets / methods / qualities / splits"
        first = f"; {len(self.problems)} files skipped, e.g. {self.problems[0]}" if self.problems else ""
        return f"{root}: no video could be indexed{first}"

    def counts(self) -> Counter:
        """Number of videos per (dataset, method, quality, split, label)."""
        return Counter((r.dataset, r.method, r.quality, r.split, r.label) for r in self.records)

    @property
    def datasets(self) -> set[str]:
        """The datasets of the records."""
        return {r.dataset for r in self.records}


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

    from pipeline.kernels.video import no_video_reason, video_stream

    try:
        with av.open(str(path)) as container:
            if video_stream(container) is None:
                return f"{no_video_reason(container)} in it (PyAV opens it)"
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        return f"not a container PyAV can open ({why})"
    return None


def list_videos(
    folder: Path,
    problems: list[Problem],
    ambiguous: set[str] | None = None,
    nested: str | None = None,
    skip: tuple[str, ...] = (),
    dropped: dict[str, str] | None = None,
) -> dict[str, Path]:
    """{video id (file stem): file} of a videos folder; skipped entries and ids held by several files go
    to `problems` (those ids also to `ambiguous`, the skipped entries' ids to `dropped`: id -> the file
    its problem names).

    `nested`: the name of a subfolder whose videos count as the folder's own (Celeb-DF's optional
    videos/); `skip`: names of entries that are not videos and not problems (DFDC's metadata.json).
    """
    if not folder.is_dir():
        return {}
    entries = sorted(folder.iterdir())
    if nested and (folder / nested).is_dir():
        entries = [p for p in entries if p.name != nested] + sorted((folder / nested).iterdir())
    by_id: dict[str, list[Path]] = defaultdict(list)
    for path in entries:
        if path.name.startswith(".") or (path.parent == folder and path.name in skip):
            continue
        why = unusable(path) or (None if path.suffix.lower() in VIDEO_EXTS else probe(path))
        if why:
            problems.append(Problem(str(path), why))
            if dropped is not None:
                dropped.setdefault(path.stem, str(path))
        else:
            by_id[path.stem].append(path)
    found = {}
    for stem, paths in by_id.items():
        if len(paths) == 1:
            found[stem] = paths[0]
            continue
        if ambiguous is not None:
            ambiguous.add(stem)
        names = ", ".join(str(p.relative_to(folder)) for p in paths)
        problems.append(
            Problem(
                str(folder / stem),
                f"{len(paths)} files have the video id {stem!r} ({names}): none of them is used; keep one",
            )
        )
    return found


def check_targets(
    index: Index,
    ambiguous: dict[str, set[str]],
    dropped: dict[str, dict[str, str]] | None = None,
    absent: Callable[[VideoRecord], str] | None = None,
) -> None:
    """Fakes whose real is ambiguous (`ambiguous`: method -> ids) or in ROOT but not used because of a
    problem (`dropped`: method -> id -> the file that problem names) leave the records, each a problem;
    fakes whose real is absent get a note (`absent(fake)`: what it says; default "its real M/ID is not
    in ROOT")."""
    reals = {(r.dataset, r.method, r.video) for r in index.records if r.label == 0}
    dropped = dropped or {}
    kept = []
    for r in index.records:
        real = f"{r.target_method}/{r.target}"
        if r.label == 1 and r.target in ambiguous.get(r.target_method, ()):
            index.problems.append(
                Problem(
                    r.path,
                    f"not used: its real {real} is held by several files (see the problem naming them)",
                )
            )
            continue
        if r.label == 1 and (r.dataset, r.target_method, r.target) not in reals:
            where = dropped.get(r.target_method, {}).get(r.target)
            if where:
                index.problems.append(
                    Problem(
                        r.path, f"not used: its real {real} is not used either (see the problem of {where})"
                    )
                )
                continue
            why = absent(r) if absent else f"its real {real} is not in ROOT"
            index.notes.append(Problem(r.path, f"{why}: no difference mask (masks: no mask)"))
        kept.append(r)
    index.records = kept


def counts_table(index: Index) -> str:
    """A plain-text table of video counts per dataset / method / quality / split / label."""
    rows = sorted(index.counts().items())
    lines = [f"{'dataset':<8} {'method':<18} {'quality':<7} {'split':<6} {'label':<5} {'videos':>6}"]
    for (dataset, method, quality, split, label), n in rows:
        lines.append(
            f"{dataset:<8} {method:<18} {quality:<7} {split:<6} {'fake' if label else 'real':<5} {n:>6}"
        )
    lines.append(f"{'total':<49} {len(index.records):>6}")
    return "\n".join(lines)
