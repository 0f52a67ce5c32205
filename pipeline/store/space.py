"""A full disk, said in one line: the path, the free space it needed, the free space there is.

A full disk shows up as OSError ENOSPC (or EDQUOT, a quota), as SQLite's "database or disk is full",
or inside an HDF5 error ("errno = 28"); HDF5 can also crash natively (measured: a segmentation fault
while writing a shard to a full tmpfs), so a shard's expected size is checked against the free space
before it is written (`ensure_free`). Every such fault becomes `DiskFull`, an LrlError: the CLI prints
it and exits 2. Writes are atomic (pipeline.store.atomic), so nothing partial is left under a final
name, and the run state keeps every unit finished before (a later run goes on from there).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from pipeline.errors import LrlError

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
FULL_TEXTS = ("No space left on device", "database or disk is full", "Disk quota exceeded", "errno = 28")
MARGIN = 256 * 1024  # bytes kept free beyond a file's expected size (file system metadata, logs)


class DiskFull(LrlError):
    """No room left where something had to be written (the message names the path and the space needed)."""


def free_bytes(path: Path) -> int:
    """Bytes free for this user on the file system holding `path` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def size_text(n: int) -> str:
    """Bytes in a short human unit: 512 B, 3.1 KB, 2.0 MB, 1.5 GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the user's quota) is full."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    return any(text in str(exc) for text in FULL_TEXTS)


def disk_full(path: Path, needed: int | None = None, what: str = "writing it") -> DiskFull:
    """The DiskFull error for `path`: `what` needed `needed` bytes free (None: unknown, "more")."""
    need = f"needs {size_text(needed)} free" if needed else "needs more free space"
    return DiskFull(
        f"{path}: disk full: {what} {need}, {size_text(free_bytes(path))} free there; free some "
        "space and run again (what was finished is kept)"
    )


def as_disk_full(exc: BaseException) -> DiskFull:
    """`exc` (a disk-full fault, `is_disk_full`) as DiskFull, naming the file the library named, if any."""
    if isinstance(exc, DiskFull):
        return exc
    filename = getattr(exc, "filename", None)
    if filename:
        return disk_full(Path(filename))
    return DiskFull(
        f"disk full ({str(exc).strip().splitlines()[0][:200]}); free some space and run again "
        "(what was finished is kept)"
    )


def ensure_free(path: Path, needed: int, what: str) -> None:
    """DiskFull unless the file system of `path` has `needed` bytes free, plus MARGIN."""
    if free_bytes(path) < needed + MARGIN:
        raise disk_full(path, needed + MARGIN, what)
