"""What every stage runs with: WORK, its run state, the configuration, how units run, ROOT scanned once.

One WORK holds several datasets side by side (WORK/faces/<dataset>/...), each from its own ROOT. A
scan remembers in the run state where each dataset it yields comes from (SOURCES_META: ROOT and
the scope, its layout resolved), so `status` re-plans every ROOT and `refresh` of one ROOT prunes
only the units of the datasets that ROOT owns (`Context.covered`); index problems are kept per ROOT.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline.dataset.adapters import resolve, scan
from pipeline.dataset.scan import Index
from pipeline.engine.runner import Summary, Task, run_tasks
from pipeline.engine.runstate import RunState, UnitResult
from pipeline.errors import LrlError
from pipeline.params import PrepConfig, RunOptions, Scope
from pipeline.store.layout import WorkLayout
from pipeline.store.records import EXTRACT, PROBLEMS_META, ROOT_META, SOURCES_META, Problem, selection_meta


@dataclass
class Plan:
    """A stage's plan: its tasks per run-state unit name, in run order (the shards stage's extends it).

    `prune`: whether refresh forgets (outputs, then records) the units of this stage no longer planned
    (their input left ROOT) before running it.
    """

    units: dict[str, list[Task]]
    prune: bool = True
    datasets: frozenset[str] | None = (
        None  # the datasets whose units it plans (keys "<dataset>/..."); None: all
    )

    @property
    def empty(self) -> bool:
        return not any(self.units.values())

    def covers(self, key: str) -> bool:
        """Whether the unit `key` is this plan's to keep or prune (another ROOT's dataset is not)."""
        return self.datasets is None or key.split("/", 1)[0] in self.datasets


@dataclass
class Context:
    """One command's view of the world: WORK, its open run state, the configuration (its `run`: the run
    options, RunOptions: jobs, backend, progress, device) and ROOT; `index()` scans ROOT on first use and
    keeps the result. Built by its constructor alone (`open_context` opens the run state for it)."""

    work: Path
    state: RunState
    config: PrepConfig = PrepConfig()
    root: Path | None = None
    _index: Index | None = field(default=None, repr=False)
    _covered: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def run(self) -> RunOptions:
        return self.config.run

    @property
    def layout(self) -> WorkLayout:
        return WorkLayout(Path(self.work))

    def index(self) -> Index:
        """The records of ROOT (every video: a fake's real may lie outside the selection)."""
        if self._index is None:
            if self.root is None:
                raise LrlError(f"{self.work}: no input tree known (run `lrl-prep extract --root ROOT` first)")
            scope, root = self.config.scope, Path(self.root).resolve()
            scope = replace(scope, dataset=resolve(root, scope.dataset))
            self._index = scan(root, scope.dataset, Path(scope.split_dir) if scope.split_dir else None)
            self._covered = remember_source(self.state, root, scope, self._index.datasets)
            save_problems(self.state, self._index.problems, root)
        return self._index

    def covered(self) -> frozenset[str]:
        """The datasets whose units ROOT owns: those its scan yields and those it held before (gone since)."""
        self.index()
        return self._covered

    def run_tasks(
        self,
        stage: str,
        tasks: list[Task],
        fn: Callable[[Any], UnitResult],
        unit: str = "videos",
        item: str = "items",
        count: Callable[[UnitResult], int] = lambda r: 0,
        notes: dict[str, str] | None = None,
    ) -> Summary:
        """The engine's run_tasks with this command's run options (jobs, progress bars, backend)."""
        return run_tasks(
            stage,
            tasks,
            fn,
            self.state,
            jobs=self.run.workers,
            unit=unit,
            item=item,
            count=count,
            progress=self.run.show_progress,
            backend=self.run.backend_spec,
            notes=notes,
        )


def _problems_by_root(state: RunState) -> dict[str, list]:
    saved = state.get_meta(PROBLEMS_META) or {}
    return saved if isinstance(saved, dict) else {state.get_meta(ROOT_META) or "": saved}


def save_problems(state: RunState, problems: list[Problem], root: Path) -> None:
    """Keep ROOT's latest index problems in the run state (`lrl-prep status` lists them), beside other
    ROOTs'."""
    saved = _problems_by_root(state)
    saved[str(root)] = [[p.path, p.reason] for p in problems]
    state.set_meta(PROBLEMS_META, saved)


def saved_problems(state: RunState, root: Path | None = None) -> list[Problem]:
    """The index problems of ROOT (None: of every ROOT of WORK) as the last scan found them."""
    saved = _problems_by_root(state)
    roots = sorted(saved) if root is None else [str(Path(root).resolve())]
    return [Problem(path, reason) for r in roots for path, reason in saved.get(r, [])]


def read_problems(work: Path, root: Path | None = None) -> list[Problem]:
    """The saved index problems of ROOT (None: every ROOT) in WORK's run state (none without a run state)."""
    layout = WorkLayout(Path(work))
    if not layout.state_db.exists():
        return []
    with RunState(layout.state_db) as state:
        return saved_problems(state, root)


def saved_sources(state: RunState) -> dict[str, dict]:
    """{dataset: {"root", "scope"}} of every dataset of WORK. A run state of one ROOT (before several
    datasets could share a WORK) gives its one dataset, read with the FF++ adapter (its only layout)."""
    sources = state.get_meta(SOURCES_META)
    if sources is not None:
        return sources
    root, scope = state.get_meta(ROOT_META), state.get_meta(selection_meta(EXTRACT)) or {}
    if root is None:
        return {}
    return {scope.get("dataset", "ffpp"): {"root": root, "scope": {**scope, "dataset": "ffpp"}}}


def saved_roots(state: RunState) -> list[tuple[Path, Scope]]:
    """Every ROOT of WORK with the scope its datasets were last scanned with, in ROOT order."""
    roots = {}
    for source in saved_sources(state).values():
        roots[source["root"]] = Scope.from_dict(source["scope"])
    return [(Path(root), roots[root]) for root in sorted(roots)]


def remember_source(state: RunState, root: Path, scope: Scope, yielded: set[str]) -> frozenset[str]:
    """Record ROOT (with `scope`) as the source of the datasets it yields; return the datasets it owns:
    those and the ones it was the source of before. A dataset moved from another ROOT is this one's now."""
    sources = saved_sources(state)
    owned = frozenset(yielded | {d for d, s in sources.items() if s["root"] == str(root)})
    sources.update({d: {"root": str(root), "scope": asdict(scope)} for d in sorted(owned)})
    state.set_meta(SOURCES_META, sources)
    return owned


@contextlib.contextmanager
def open_context(
    work: Path, config: PrepConfig = PrepConfig(), root: Path | None = None, create: bool = True
) -> Iterator[Context]:
    """A Context on WORK's run state (LrlError when `create` is False and WORK has none), closed after."""
    layout = WorkLayout(Path(work))
    if not create and not layout.state_db.exists():
        raise LrlError(f"{work}: no run state here (run `lrl-prep extract` first)")
    with RunState(layout.state_db) as state:
        yield Context(Path(work), state, config, Path(root) if root else None)


def run_stage(stage, work: Path, config: PrepConfig = PrepConfig(), root: Path | None = None) -> Summary:
    """`lrl-prep <stage>`: plan a stage module of pipeline.stages (its face: pipeline/stages/__init__.py) on
    WORK (and ROOT, for the stages that read it) with `config` (its run options included) and execute the
    plan; its Summary. LrlError, before anything runs, when WORK has no run state and the stage needs one
    (stage.NEEDS_STATE) or when there is nothing to do (stage.nothing_to_do says why)."""
    with open_context(work, config, root, create=not stage.NEEDS_STATE) as ctx:
        planned = stage.plan(ctx)
        if planned.empty:
            raise LrlError(stage.nothing_to_do(ctx, planned))
        return stage.execute(ctx, planned)
