"""One run per run folder: locked while a run writes it; a folder that holds a run is not silently mixed.

Two `lrl-train --out RUN` started together used to both finish, leaving one run's best.pt beside the
other's config.json, last.pt and log.jsonl. Now the main process holds RUN/.lock (pipeline.store.lock:
a second run exits 75 naming the holder, as `lrl-prep` does on WORK) for the whole run, and a new run
in a folder holding a run's files (RUN_FILES) is refused unless --resume continues it or --overwrite
deletes them first.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from pipeline.errors import LrlError
from pipeline.store.lock import WorkLock

RUN_FILES = ("config.json", "log.jsonl", "last.pt", "best.pt", "curves.png")


@contextlib.contextmanager
def run_folder(run: Path, resume: bool = False, overwrite: bool = False, main: bool = True) -> Iterator[None]:
    """Hold `run`'s lock for the block (in the main process only: other ranks write nothing there).

    Raises WorkLocked when another run holds it, LrlError when it holds a run and neither `resume` nor
    `overwrite` is given (or both are); with `overwrite`, the earlier run's RUN_FILES are deleted."""
    if resume and overwrite:
        raise LrlError("--resume continues the run in --out, --overwrite replaces it: choose one")
    if not main:
        yield
        return
    run = Path(run)
    with WorkLock(run):
        held = [name for name in RUN_FILES if (run / name).exists()]
        if held and not (resume or overwrite):
            raise LrlError(
                f"{run}: already holds a run ({', '.join(held)}): --resume continues it, --overwrite "
                "replaces it (deleting those files), or choose another --out"
            )
        if overwrite:
            for name in held:
                (run / name).unlink()
        yield
