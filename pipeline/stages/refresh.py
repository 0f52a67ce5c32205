"""`lrl-prep refresh`: bring every stage of `STAGES` up to date with the input tree, from cron.

Under an exclusive lock on WORK. ROOT is scanned once and each stage planned once, in order; a new or
changed video (size, mtime) is processed, a deleted one has its crops, masks and records removed (its
shard is then rewritten without it), and a changed stage parameter makes everything downstream stale
through the chained fingerprints. WORK may hold other datasets, from other ROOTs: their units are
left alone (pipeline.stages.context), and the shards hold every dataset of WORK. Every output is written under
a temporary name and renamed, and a unit is recorded done only after its outputs are in place, so a run killed
at any moment is completed by the next one.

ROOT's index problems (files it skips, with the reason: pipeline.dataset.scan) are counted in the
summary line, written to the log and make the exit code 1, like a failed unit; fakes whose real is
not in ROOT are notes (logged) and their masks units "no mask" (counted, not failures).

Exit codes: 0 everything up to date, 1 some unit failed or some input file is unusable (listed), 2
error (bad input, full disk, permissions), 75 another run holds WORK.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.engine.runner import Summary, prune
from pipeline.engine.runstate import RunState
from pipeline.errors import LrlError
from pipeline.params import PrepConfig
from pipeline.stages.context import Context
from pipeline.store.layout import WorkLayout
from pipeline.store.lock import WorkLock
from pipeline.store.records import DETECT, EXTRACT, SHARDS, Problem
from pipeline.store.space import disk_full, is_disk_full


@dataclass
class RefreshReport:
    summaries: list[Summary] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # units of videos an input problem excludes: not pruned
    problems: list[Problem] = field(default_factory=list)  # ROOT's files the index could not use
    seconds: float = 0.0
    log: Path | None = None

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.summaries)

    @property
    def exit_code(self) -> int:
        """0 when nothing failed and every input file was usable, else 1."""
        return 1 if self.failed or self.problems else 0

    def left_out(self) -> Counter:
        """Videos the shards left out, counted per reason (e.g. a crop size unlike the shard set's: a refresh
        of one ROOT with another --size leaves the other datasets of WORK out)."""
        return Counter(reason for s in self.summaries if s.stage == SHARDS for _, reason in s.held)

    @property
    def changed(self) -> int:
        return sum(s.done + s.failed for s in self.summaries) + len(self.removed)

    def line(self) -> str:
        parts = [
            f"{s.stage} {s.done} done / {s.skipped} skipped / {s.failed} failed{s.held_part}"
            for s in self.summaries
        ]
        state = "up to date" if not self.changed else f"{self.failed} failed" if self.failed else "updated"
        problems = f"; {len(self.problems)} input problems" if self.problems else ""
        problems += f" ({len(self.kept)} units kept as they were)" if self.kept else ""
        removed = f"; {len(self.removed)} removed" if self.removed else ""
        return f"refresh: {state}{problems}; " + "; ".join(parts) + f"{removed}; {self.seconds:.1f} s"

    def lines(self) -> list[str]:
        """What `lrl-prep refresh` prints: the summary line, each stage's failures and notes (named by stage),
        ROOT's input problems, the videos left out of the shards (counted per reason) and the log."""
        out = [self.line()]
        for s in self.summaries:
            out += s.lines(f"{s.stage}: ", held=False)[1:]
        out += [f"problem: {problem}" for problem in self.problems]
        out += [f"left out of the shards: {n} videos: {reason}" for reason, n in self.left_out().items()]
        return out + [f"log: {self.log}"]


class RunLog:
    """Plain-text log of one refresh under WORK/logs."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"refresh-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self._file = open(self.path, "a", buffering=1)

    def write(self, line: str) -> None:
        text = f"{time.strftime('%H:%M:%S')} {line}\n"
        try:
            self._file.write(text)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full(self.path, len(text), "writing the refresh log") from None
            raise

    def close(self) -> None:
        self._file.close()


def refresh(root: Path, work: Path, cfg: PrepConfig = PrepConfig()) -> RefreshReport:
    """Run every stage on whatever is new, changed or stale; raises WorkLocked when WORK is busy."""
    root, work = Path(root).resolve(), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with WorkLock(work):
        log = RunLog(WorkLayout(work).logs)
        try:
            with RunState(WorkLayout(work).state_db) as state:
                report = _stages(root, work, cfg, state, log)
        except Exception as exc:
            with contextlib.suppress(OSError, LrlError):  # the log may be on the full disk
                log.write(f"error: {exc}")
            raise
        finally:
            with contextlib.suppress(OSError):
                log.close()
    report.seconds = time.perf_counter() - start
    report.log = log.path
    return report


def _stages(root: Path, work: Path, cfg: PrepConfig, state: RunState, log: RunLog) -> RefreshReport:
    from pipeline.stages import STAGES

    ctx = Context(work, state, cfg, root)
    report = RefreshReport()
    log.write(f"refresh {root} -> {work}")
    for stage in STAGES:
        planned = stage.plan(ctx)
        if stage is STAGES[0]:
            report.problems = _index_problems(ctx, log)
            if planned.empty:
                raise LrlError(ctx.index().empty_reason(root, ctx.config.scope.selection))
            kept = {key for key in kept_by_problems(ctx, state) if planned.covers(key)}  # this ROOT's only
        for unit, tasks in planned.units.items() if planned.prune else ():
            held = kept - {t.key for t in tasks}
            for key in sorted(held - set(report.kept)):
                report.kept.append(key)
                log.write(
                    f"kept {key}: its video is still in ROOT but not indexed now (see the problems): "
                    "outputs kept as they were"
                )
            for key in prune(unit, {t.key for t in tasks} | held, state, planned.covers):
                report.removed.append(key)
                log.write(f"removed {key} (its input is gone)")
        summary = stage.execute(ctx, planned) if not planned.empty else Summary(stage.UNITS[-1])
        report.summaries.append(summary)
        for line in summary.lines():
            log.write(line)
    return report


def kept_by_problems(ctx, state: RunState) -> set[str]:
    """Keys of the detect and extract (and so masks) units whose video is still in ROOT although the index no
    longer yields it: an input problem excludes it (an unreadable metadata.json, a contradicting test-list
    label). Their outputs stay as last made, never pruned, until the problem is fixed or the file is gone:
    a bad side file must not cost the crops of every video it describes."""
    indexed = {r.path for r in ctx.index().records}
    paths = [(r.key, r.data.get("video")) for r in state.records(DETECT)]
    paths += [(r.key, (r.data.get("record") or {}).get("path")) for r in state.records(EXTRACT)]
    return {key for key, path in paths if path and path not in indexed and Path(path).exists()}


def _index_problems(ctx, log: RunLog) -> list[Problem]:
    """ROOT's problems and notes (the run state keeps them for `lrl-prep status`), written to the log."""
    index = ctx.index()
    for problem in index.problems:
        log.write(f"problem: {problem}")
    for note in index.notes:
        log.write(f"note: {note}")
    return list(index.problems)
