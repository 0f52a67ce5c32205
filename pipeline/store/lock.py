"""An exclusive lock on a folder (WORK, a training run's folder), so two runs never write it at once.

`flock` on WORK/.lock: the kernel releases it when the holder dies, so a lock left by a killed run
never blocks the next one. The file holds the holder's pid and start time, for the message.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from pipeline.errors import LrlError
from pipeline.store.space import disk_full, is_disk_full

LOCKED_EXIT = 75  # EX_TEMPFAIL: another run holds WORK; try again later


class WorkLocked(LrlError):
    """Another process holds the lock on the folder."""


class WorkLock:
    def __init__(self, work: Path):
        self.path = Path(work) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> "WorkLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkLocked(
                f"{self.path.parent}: locked by {holder}; this run exits without working"
            ) from None
        holder = f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder, 0)
        except OSError as exc:
            os.close(fd)
            if is_disk_full(exc):
                raise disk_full(self.path, len(holder), "writing the lock") from None
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
