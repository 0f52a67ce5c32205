"""Atomic writes: everything goes to a temporary name in the same folder, then `os.replace`.

A full disk while writing becomes DiskFull naming the final path (pipeline.store.space); the
temporary file is removed, so nothing partial is left under a final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

from pipeline.store.space import disk_full, is_disk_full

TMP_MARK = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp's 0600 would hide outputs from other users


@contextlib.contextmanager
def atomic_path(final: Path, needed: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it into place only if the block succeeds.

    A full disk (OSError ENOSPC, or an error saying so) becomes DiskFull naming `final` and `needed`,
    the bytes it needed (None: unknown).
    """
    final = Path(final)
    tmp_path = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_MARK, suffix=final.suffix, dir=final.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        os.chmod(tmp_path, FILE_MODE)
        os.replace(tmp_path, final)
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full(final, needed) from None
        raise
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def write_bytes(final: Path, data: bytes) -> None:
    with atomic_path(final, len(data)) as tmp:
        tmp.write_bytes(data)


def write_json(final: Path, obj) -> None:
    write_bytes(final, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def remove_stale_temps(folder: Path) -> int:
    """Delete temporary files a killed run left behind below `folder`; returns how many."""
    count = 0
    if folder.exists():
        for p in folder.rglob(f"{TMP_MARK}*"):
            p.unlink(missing_ok=True)
            count += 1
    return count
