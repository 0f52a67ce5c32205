"""`lrl-prep status`: per unit kind, units done, failed (with reasons), no mask (with reasons), stale and
pending; then ROOT's index problems (the files the last scan skipped, with the reason).

What each line shows besides the counts is declared by the stage (pipeline/stages/__init__.py): its NOTES
(a key of its records' counts -> label) are summed over the done units of its STAGE and shown on that
line, e.g. extract's sampled frames without a face (no crop written).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.engine.runner import Task
from pipeline.engine.runstate import DONE, RunState
from pipeline.errors import LrlError
from pipeline.stages.context import Context, saved_problems, saved_roots
from pipeline.store.layout import WorkLayout
from pipeline.store.records import NO_MASK


@dataclass
class StageStatus:
    stage: str
    done: int = 0
    stale: int = 0
    pending: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    no_mask: list[tuple[str, str]] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)  # label -> total over the done units

    def line(self) -> str:
        held = f"  no mask {len(self.no_mask):>4}" if self.no_mask else ""
        noted = "".join(f"  {n} {label}" for label, n in self.notes.items())
        return (
            f"{self.stage:<8} done {self.done:>5}  failed {len(self.failed):>4}{held}  "
            f"stale {self.stale:>4}  pending {self.pending:>4}{noted}"
        )


def stage_status(
    stage: str, tasks: list[Task], state: RunState, notes: dict[str, str] | None = None
) -> StageStatus:
    """Compare the planned tasks with the recorded units of one stage; sum `notes` counts of the done ones."""
    notes = notes or {}
    status = StageStatus(stage, notes={label: 0 for label in notes.values()})
    recorded = {r.key: r for r in state.records(stage)}
    planned = {t.key: t.fingerprint for t in tasks}
    for key, fp in planned.items():
        rec = recorded.get(key)
        if rec is None:
            status.pending += 1
        elif rec.fingerprint != fp:
            status.stale += 1
        elif rec.status == DONE:
            status.done += 1
            for count_key, label in notes.items():
                status.notes[label] += rec.counts.get(count_key, 0)
        elif rec.status == NO_MASK:
            status.no_mask.append((key, rec.reason or "unknown reason"))
        else:
            status.failed.append((key, rec.reason or "unknown reason"))
    status.stale += sum(1 for key in recorded if key not in planned)
    return status


def saved_plan(stage, work: Path, state: RunState) -> dict[str, list[Task]]:
    """A stage module's current plan from the settings its last run saved (no tasks when it never ran).

    A stage that ran on a ROOT is planned on every ROOT of WORK (each with its layout and split files,
    the stage's own filters) and the tasks merged: WORK holds every dataset those ROOTs yield.
    """
    saved = stage.saved_config(state)
    if saved is None:
        return {unit: [] for unit in stage.UNITS}
    config, root = saved
    if root is None:
        return stage.plan(Context(Path(work), state, config, root)).units
    merged: dict[str, dict[str, Task]] = {unit: {} for unit in stage.UNITS}
    for source, scope in saved_roots(state) or [(root, config.scope)]:
        scoped = replace(
            config, scope=replace(config.scope, dataset=scope.dataset, split_dir=scope.split_dir)
        )
        for unit, tasks in stage.plan(Context(Path(work), state, scoped, source)).units.items():
            for task in tasks:
                merged[unit].setdefault(task.key, task)
    return {unit: list(tasks.values()) for unit, tasks in merged.items()}


def status_report(work: Path) -> str:
    from pipeline.stages import STAGES

    layout = WorkLayout(Path(work))
    if not layout.state_db.exists():
        raise LrlError(f"{work}: no run state here (no stage has run in this work directory)")
    lines = []
    with RunState(layout.state_db) as state:
        for stage in STAGES:
            for unit, tasks in saved_plan(stage, layout.work, state).items():
                notes = stage.NOTES if unit == stage.STAGE else {}
                status = stage_status(unit, tasks, state, notes)
                lines.append(status.line())
                lines += [f"  failed {key}: {reason}" for key, reason in status.failed]
                lines += [f"  no mask {key}: {reason}" for key, reason in status.no_mask]
        problems = saved_problems(state)
    lines.append(f"input    problems {len(problems):>4}")
    lines += [f"  problem {problem}" for problem in problems]
    return "\n".join(lines)
