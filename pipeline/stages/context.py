"""What every stage runs with: WORK, its run state, the configuration, how units run, ROOT scanned once."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline.dataset.records import Problem
from pipeline.dataset.scan import Index, scan
from pipeline.engine.runner import Summary, Task, run_tasks
from pipeline.engine.runstate import RunState, UnitResult
from pipeline.errors import LrlError
from pipeline.params import Backend, PrepConfig, RunOptions
from pipeline.store.layout import WorkLayout

PROBLEMS_META = "index:problems"


@dataclass
class Plan:
    """A stage's plan: its tasks per run-state unit name, in run order.

    `prune`: whether refresh forgets (outputs, then records) the units of this stage no longer planned
    (their input left ROOT) before running it.
    """

    units: dict[str, list[Task]]
    prune: bool = True

    @property
    def empty(self) -> bool:
        return not any(self.units.values())


@dataclass
class Context:
    """One command's view of the world; `index()` scans ROOT on first use and keeps the result."""

    work: Path
    state: RunState
    config: PrepConfig = PrepConfig()
    root: Path | None = None
    jobs: int = 1
    progress: bool = False
    backend: Backend = Backend()
    device: str = "auto"
    _index: Index | None = field(default=None, repr=False)

    @property
    def layout(self) -> WorkLayout:
        return WorkLayout(Path(self.work))

    def index(self) -> Index:
        """The records of ROOT (every video: a fake's real may lie outside the selection)."""
        if self._index is None:
            if self.root is None:
                raise LrlError(f"{self.work}: no input tree known (run `lrl-prep extract --root ROOT` first)")
            scope = self.config.scope
            self._index = scan(self.root, scope.dataset, Path(scope.split_dir) if scope.split_dir else None)
            save_problems(self.state, self._index.problems)
        return self._index

    def run_tasks(self, stage: str, tasks: list[Task], fn: Callable[[Any], UnitResult], unit: str = "videos",
                  item: str = "items", count: Callable[[UnitResult], int] = lambda r: 0,
                  notes: dict[str, str] | None = None) -> Summary:
        """The engine's run_tasks with this command's jobs, progress bars and backend."""
        return run_tasks(stage, tasks, fn, self.state, jobs=self.jobs, unit=unit, item=item, count=count,
                         progress=self.progress, backend=self.backend, notes=notes)


def save_problems(state: RunState, problems: list[Problem]) -> None:
    """Keep ROOT's latest index problems in the run state (`lrl-prep status` lists them)."""
    state.set_meta(PROBLEMS_META, [[p.path, p.reason] for p in problems])


def saved_problems(state: RunState) -> list[Problem]:
    """ROOT's index problems as the last scan found them."""
    return [Problem(path, reason) for path, reason in state.get_meta(PROBLEMS_META, []) or []]


def read_problems(work: Path) -> list[Problem]:
    """The saved index problems of WORK's run state (none when it has no run state)."""
    layout = WorkLayout(Path(work))
    if not layout.state_db.exists():
        return []
    with RunState(layout.state_db) as state:
        return saved_problems(state)


@contextlib.contextmanager
def open_context(work: Path, config: PrepConfig, root: Path | None = None, jobs: int | None = None,
                 progress: bool = True, backend: Backend | None = None, device: str = "auto",
                 create: bool = True) -> Iterator[Context]:
    """A Context on WORK's run state (LrlError when `create` is False and WORK has none), closed after."""
    layout = WorkLayout(Path(work))
    if not create and not layout.state_db.exists():
        raise LrlError(f"{work}: no run state here (run `lrl-prep extract` first)")
    with RunState(layout.state_db) as state:
        yield Context(Path(work), state, config, Path(root) if root else None, jobs or os.cpu_count() or 1,
                      progress, backend or Backend(), device)


def options_context(work: Path, config: PrepConfig, root: Path | None, state: RunState) -> Context:
    """A Context from the CLI's RunOptions (config.run) on an open run state."""
    opts: RunOptions = config.run
    return Context(Path(work), state, config, Path(root) if root else None, opts.workers, opts.show_progress,
                   opts.backend_spec, opts.device)
