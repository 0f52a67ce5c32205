"""`lrl-prep refresh`: bring extract -> masks -> shards up to date with the input tree, from cron.

Under an exclusive lock on WORK. A new or changed video (size, mtime) is processed, a deleted one has
its crops, masks and records removed (its shard is then rewritten without it), and a changed stage
parameter makes everything downstream stale through the chained fingerprints. Every output is
written under a temporary name and renamed, and a unit is recorded done only after its outputs are in
place, so a run killed at any moment is completed by the next one.

Exit codes: 0 everything up to date, 1 some unit failed (listed), 2 error (bad input, full disk,
permissions), 75 another run holds WORK.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.backends import Backend
from pipeline.extract import ExtractParams, Scope
from pipeline.layout import WorkLayout
from pipeline.lock import WorkLock
from pipeline.masks_stage import MasksParams
from pipeline.runner import Summary, prune
from pipeline.runstate import RunState
from pipeline.shards import ShardsParams


@dataclass(frozen=True)
class RefreshConfig:
    extract: ExtractParams = ExtractParams()
    masks: MasksParams = MasksParams()
    shards: ShardsParams = ShardsParams()
    scope: Scope = Scope()
    jobs: int | None = None
    device: str = "auto"
    backend: Backend = Backend()


@dataclass
class RefreshReport:
    summaries: list[Summary] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: Path | None = None

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.summaries)

    @property
    def changed(self) -> int:
        return sum(s.done + s.failed for s in self.summaries) + len(self.removed)

    def line(self) -> str:
        parts = [f"{s.stage} {s.done} done / {s.skipped} skipped / {s.failed} failed" for s in self.summaries]
        state = "up to date" if not self.changed else f"{self.failed} failed" if self.failed else "updated"
        removed = f"; {len(self.removed)} removed" if self.removed else ""
        return f"refresh: {state}; " + "; ".join(parts) + f"{removed}; {self.seconds:.1f} s"


class RunLog:
    """Plain-text log of one refresh under WORK/logs."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"refresh-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self._file = open(self.path, "a", buffering=1)

    def write(self, line: str) -> None:
        self._file.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def close(self) -> None:
        self._file.close()


def refresh(root: Path, work: Path, cfg: RefreshConfig = RefreshConfig(), progress: bool = True) -> RefreshReport:
    """Run every stage on whatever is new, changed or stale; raises WorkLocked when WORK is busy."""
    root, work = Path(root).resolve(), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with WorkLock(work):
        log = RunLog(WorkLayout(work).logs)
        try:
            report = _stages(root, work, cfg, progress, log)
        except Exception as exc:
            log.write(f"error: {exc}")
            raise
        finally:
            log.close()
    report.seconds = time.perf_counter() - start
    report.log = log.path
    return report


def _stages(root: Path, work: Path, cfg: RefreshConfig, progress: bool, log: RunLog) -> RefreshReport:
    from pipeline import extract, masks_stage, shards_stage

    report = RefreshReport()
    log.write(f"refresh {root} -> {work}")
    report.removed += _prune_deleted(root, work, cfg)
    for key in report.removed:
        log.write(f"removed {key} (its input is gone)")
    stages = (
        ("extract", lambda: True,
         lambda: extract.run(root, work, cfg.extract, cfg.scope, cfg.jobs, cfg.device, progress, cfg.backend)),
        ("masks", lambda: _has_work(work, lambda state: masks_stage.plan(
            work, state, cfg.masks, masks_stage.Selection(), root)),
         lambda: masks_stage.run(root, work, cfg.masks, jobs=cfg.jobs, progress=progress, backend=cfg.backend)),
        ("shards", lambda: _has_work(work, lambda state: [r for r in state.records(extract.STAGE) if r.ok]),
         lambda: shards_stage.run(work, cfg.shards, jobs=cfg.jobs or 2, progress=progress, backend=cfg.backend)),
    )
    for name, has_work, run_stage in stages:
        summary = run_stage() if has_work() else Summary(name)
        report.summaries.append(summary)
        log.write(summary.line())
        for key, reason in summary.failures:
            log.write(f"failed: {key}: {reason}")
    return report


def _has_work(work: Path, units) -> bool:
    """Whether a stage has any unit to plan (a tree of reals only has no masks to make)."""
    with RunState(WorkLayout(work).state_db) as state:
        return bool(units(state))


def _prune_deleted(root: Path, work: Path, cfg: RefreshConfig) -> list[str]:
    """Remove the outputs and records of videos that left the input tree."""
    from pipeline import extract, masks_stage

    layout = WorkLayout(work)
    if not layout.state_db.exists():
        return []
    with RunState(layout.state_db) as state:
        tasks = extract.plan(root, work, state, cfg.extract, cfg.scope)
        removed = prune(extract.DETECT, {t.key for t in tasks[extract.DETECT]}, state)
        removed += prune(extract.STAGE, {t.key for t in tasks[extract.STAGE]}, state)
        planned = {t.key for t in masks_stage.plan(work, state, cfg.masks, masks_stage.Selection(), root)}
        removed += prune(masks_stage.STAGE, planned, state)
    return removed
