"""`lrl-prep status`: per stage, units done, failed (with reasons), stale and pending."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import LrlError
from pipeline.layout import WorkLayout
from pipeline.runner import Task
from pipeline.runstate import DONE, RunState

# (stage name, module whose status_tasks(work, state) re-plans it from the saved parameters)
STAGES = (
    ("detect", "pipeline.extract"),
    ("extract", "pipeline.extract"),
    ("masks", "pipeline.masks_stage"),
    ("shards", "pipeline.shards_stage"),
)


@dataclass
class StageStatus:
    stage: str
    done: int = 0
    stale: int = 0
    pending: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.stage:<8} done {self.done:>5}  failed {len(self.failed):>4}  "
            f"stale {self.stale:>4}  pending {self.pending:>4}"
        )


def stage_status(stage: str, tasks: list[Task], state: RunState) -> StageStatus:
    """Compare the planned tasks with the recorded units of one stage."""
    status = StageStatus(stage)
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
        else:
            status.failed.append((key, rec.reason or "unknown reason"))
    status.stale += sum(1 for key in recorded if key not in planned)
    return status


def planned_tasks(module_name: str, stage: str, work: Path, state: RunState) -> list[Task]:
    """The stage's current plan, from the parameters its last run saved."""
    module = importlib.import_module(module_name)
    tasks = module.status_tasks(work, state)
    return tasks[stage] if isinstance(tasks, dict) else tasks


def status_report(work: Path) -> str:
    layout = WorkLayout(Path(work))
    if not layout.state_db.exists():
        raise LrlError(f"{work}: no run state here (no stage has run in this work directory)")
    lines = []
    with RunState(layout.state_db) as state:
        for stage, module_name in STAGES:
            status = stage_status(stage, planned_tasks(module_name, stage, layout.work, state), state)
            lines.append(status.line())
            lines += [f"  failed {key}: {reason}" for key, reason in status.failed]
    return "\n".join(lines)
