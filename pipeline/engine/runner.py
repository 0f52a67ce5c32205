"""Run a stage's units of work in parallel (joblib), record each result, print one summary line.

The shape follows img2dataset: a planner lists Tasks (key, fingerprint, payload), workers take
payloads (paths and small parameters) and return small UnitResults, and only this coordinating
process writes the run state, as results arrive, so a killed run keeps every finished unit.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pipeline.engine.backends import backend_context, ray_unordered
from pipeline.engine.load import default_jobs
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult
from pipeline.engine.threads import enter_worker, thread_budget
from pipeline.errors import one_line
from pipeline.params import Backend
from pipeline.store.space import as_disk_full, is_disk_full

LOCAL = Backend()


@dataclass(frozen=True)
class Task:
    key: str
    fingerprint: str
    payload: Any


@dataclass
class Summary:
    """Counts of one stage run, printed as a single line.

    `held`: (key, reason) of the units settled without output, which are not failures (the masks
    stage's no_mask fakes, the shards stage's left-out videos), shown as `held_label` with their count.
    """

    stage: str
    unit: str = "videos"
    item: str = "items"
    done: int = 0
    skipped: int = 0
    failed: int = 0
    items: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    held_label: str = "no mask"
    notes: dict[str, int] = field(default_factory=dict)  # label -> total, e.g. frames without a face
    remarks: list[tuple[str, str]] = field(
        default_factory=list
    )  # (key, data["note"]) of done units that have one

    @property
    def held_part(self) -> str:
        """ " / <label> <count>" when some unit is held, else ""."""
        return f" / {self.held_label} {len(self.held)}" if self.held else ""

    def line(self) -> str:
        rate = self.items / self.seconds if self.seconds > 0 else 0.0
        noted = "".join(f", {n} {label}" for label, n in self.notes.items())
        return (
            f"{self.stage}: {self.unit} done {self.done} / skipped {self.skipped} / failed {self.failed}"
            f"{self.held_part}, {self.items} {self.item}{noted}, "
            f"{self.seconds:.1f} s ({rate:.1f} {self.item}/s)"
        )

    def lines(self, prefix: str = "", held: bool = True) -> list[str]:
        """What a command prints of this run: the summary line, then one line per failure, held unit (as
        `held_label`, unless `held` is False) and remark ("note"), each key after `prefix` (the stage)."""
        out = [self.line()] + [f"failed: {prefix}{key}: {reason}" for key, reason in self.failures]
        out += [f"{self.held_label}: {prefix}{key}: {reason}" for key, reason in self.held] if held else []
        return out + [f"note: {prefix}{key}: {remark}" for key, remark in self.remarks]

    def merge(self, other: "Summary") -> None:
        self.done += other.done
        self.skipped += other.skipped
        self.failed += other.failed
        self.items += other.items
        self.seconds += other.seconds
        self.failures += other.failures
        self.held += other.held
        self.remarks += other.remarks
        for label, n in other.notes.items():
            self.notes[label] = self.notes.get(label, 0) + n

    def tally(self, result: UnitResult, count: Callable[[UnitResult], int], notes: dict[str, str]) -> None:
        """Count one finished unit; `notes` maps a key of result.counts to its label in the line."""
        if result.status == DONE:
            self.done += 1
            self.items += count(result)
            for key, label in notes.items():
                self.notes[label] = self.notes.get(label, 0) + result.counts.get(key, 0)
            if result.data.get("note"):
                self.remarks.append((result.key, result.data["note"]))
        elif result.status != FAILED:  # a held unit (e.g. no_mask)
            self.held.append((result.key, result.reason or "unknown reason"))
        else:
            self.failed += 1
            self.failures.append((result.key, result.reason or "unknown reason"))


def safe_call(fn: Callable[[Any], UnitResult], task: Task) -> UnitResult:
    """Run one unit; any exception becomes a failed result with a one-line reason, except a full disk
    (DiskFull: every later unit would fail too), which stops the run."""
    try:
        result = fn(task.payload)
    except Exception as exc:  # noqa: BLE001 - a worker must never take the run down
        if is_disk_full(exc):
            raise as_disk_full(exc) from None
        return UnitResult(task.key, task.fingerprint, FAILED, one_line(exc))
    result.key, result.fingerprint = task.key, task.fingerprint
    return result


def _call(fn, task, jobs: int):
    """A unit in a worker process: the worker's thread budget (set once per process), then the unit."""
    enter_worker(jobs)
    return safe_call(fn, task)


def run_tasks(
    stage: str,
    tasks: list[Task],
    fn: Callable[[Any], UnitResult],
    state: RunState,
    jobs: int | None = 1,
    unit: str = "videos",
    item: str = "items",
    count: Callable[[UnitResult], int] = lambda r: 0,
    progress: bool = True,
    backend: Backend = LOCAL,
    notes: dict[str, str] | None = None,
) -> Summary:
    """Run every task whose fingerprint is not recorded as settled; record results as they arrive.

    A settled no_mask unit is not run again: it joins summary.held (with its recorded reason).
    jobs None: `default_jobs` for the units to run (the idle cores, at most one per unit).
    Every worker process limits its threads to max(1, cores // workers) (pipeline.engine.threads); so does
    this process, for the duration of the run, when it does the work itself (jobs == 1, loky).
    """
    notes = notes or {}
    summary = Summary(stage, unit, item, notes={label: 0 for label in notes.values()})
    todo = []
    for t in tasks:
        status = state.settled(stage, t.key, t.fingerprint)
        if status is None:
            todo.append(t)
        elif status != DONE:  # settled as held (e.g. no_mask)
            summary.held.append((t.key, state.get(stage, t.key).reason or "unknown reason"))
    summary.skipped = len(tasks) - len(todo) - len(summary.held)
    start = time.perf_counter()
    if todo:
        if jobs is None:
            jobs = 1 if backend.remote else default_jobs(len(todo))
        serial = jobs == 1 and not backend.remote
        with backend_context(backend), thread_budget(1) if serial else contextlib.nullcontext():
            _consume(summary, stage, todo, fn, state, jobs, backend, (count, notes), progress, start)
    summary.seconds = time.perf_counter() - start
    return summary


def _results(todo: list[Task], fn, jobs: int, backend: Backend):
    from joblib import Parallel, delayed

    if jobs == 1 and not backend.remote:
        return (safe_call(fn, t) for t in todo)
    workers = backend.workers if backend.remote else jobs
    if backend.name == "ray":
        return ray_unordered(_call, ((fn, t, workers) for t in todo))
    n_jobs = -1 if backend.remote else jobs
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_call)(fn, t, workers) for t in todo
    )


def _consume(summary: Summary, stage, todo, fn, state, jobs, backend, counting, progress, start) -> None:
    from tqdm import tqdm

    unit = summary.unit[:-1] if summary.unit.endswith("s") else summary.unit
    bar = tqdm(total=len(todo), desc=stage, unit=unit, disable=not progress, leave=False)
    for result in _results(todo, fn, jobs, backend):
        state.record(stage, result)
        summary.tally(result, *counting)
        bar.update(1)
        bar.set_postfix_str(f"{summary.items / max(time.perf_counter() - start, 1e-9):.1f} {summary.item}/s")
    bar.close()


def prune(
    stage: str, planned: set[str], state: RunState, covers: Callable[[str], bool] = lambda key: True
) -> list[str]:
    """Forget units no longer planned (their input was deleted): outputs first, then the record. Only the
    units `covers` admits are the plan's to forget (another input tree's are not)."""
    import shutil
    from pathlib import Path

    removed = []
    for rec in state.records(stage):
        if rec.key in planned or not covers(rec.key):
            continue
        for out in map(Path, rec.outputs):
            if out.is_dir():
                shutil.rmtree(out)
            else:
                out.unlink(missing_ok=True)
        state.delete(stage, rec.key)
        removed.append(rec.key)
    return removed
