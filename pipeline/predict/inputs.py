"""What `lrl-predict INPUT...` means: video files, image files, and folders of either (searched recursively).

A folder gives what `lrl-prep index` would take from a videos folder (pipeline.dataset.scan): a file with
an image suffix or one of VIDEO_EXTS is an input; a file with any other suffix (an animated .gif, .ts,
.mpg, ...) is probed with PyAV and taken when it holds a video stream. Every other entry of a folder is
named with its reason: `skipped` (hidden entries, files PyAV cannot open, which are no fault of the
inputs) or `failed` (a file with an image or video suffix that cannot be read: a broken link, an empty
or unreadable file). A file named on the command line is always an input, whatever its suffix. A URL is
no input (nothing is downloaded): it fails with URL_REASON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.dataset.layout import VIDEO_EXTS
from pipeline.dataset.scan import probe, unusable

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
URL_REASON = "URLs are not read: download the file first"
HIDDEN = "hidden (its name starts with a dot; lrl-prep index skips these too)"


@dataclass
class Inputs:
    """The inputs found: `files` [(file, kind)] to score in order, `failed` [(path, reason)] that should
    have been inputs but cannot be read, `skipped` [(path, reason)] entries of folders that are not inputs."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def kind_of(path: Path) -> str:
    """ "image" for the image suffixes, else "video" (a named file is tried as a video whatever its
    suffix)."""
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"


def expand(inputs) -> Inputs:
    """Files in the order given, folders expanded in sorted order (each file once), with what is left out.

    `inputs`: strings as typed (a URL's "//" intact) or paths. A missing path, a URL, and a folder yielding
    no input are failures (named with the reason).
    """
    out, seen = Inputs(), set()
    for raw in inputs:
        path = Path(raw)
        if URL.match(str(raw)):
            out.failed.append((str(raw), URL_REASON))
            files = []
        elif path.is_dir():
            files: list[Path] = []
            failed = len(out.failed)
            _walk(path, files, out, {path.resolve()})
            if not files and len(out.failed) == failed:
                out.failed.append((str(path), "folder holds no video or image file"))
        elif path.is_file():
            files = [path]
        else:
            out.failed.append((str(path), "no such file or folder"))
            files = []
        for f in files:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                out.files.append((f, kind_of(f)))
    return out


def _walk(folder: Path, files: list[Path], out: Inputs, searched: set[Path]) -> None:
    """The inputs below `folder` into `files`; what is left out into out.failed / out.skipped."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            out.skipped.append((str(entry), HIDDEN))
        elif entry.is_dir():
            if entry.resolve() in searched:
                out.skipped.append((str(entry), f"a link to the folder {entry.resolve()}, already searched"))
                continue
            searched.add(entry.resolve())
            _walk(entry, files, out, searched)
        elif entry.suffix.lower() in IMAGE_SUFFIXES | set(VIDEO_EXTS):
            why = unusable(entry)
            if why:
                out.failed.append((str(entry), why))
            else:
                files.append(entry)
        else:
            why = unusable(entry) or probe(entry)
            if why:
                out.skipped.append((str(entry), why))
            else:
                files.append(entry)
