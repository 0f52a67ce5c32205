"""Progress for the steps that are not a stage's units (the demo trees' writes): the CLI says once whether
bars are shown (`showing`, from `--progress/--no-progress`, default: stderr is a terminal) and `parallel`
draws one tqdm bar per step, on stderr; a stage's own units draw theirs in pipeline.engine.runner."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Callable, Iterator

_SHOWN: ContextVar[bool] = ContextVar("progress", default=False)


@contextlib.contextmanager
def showing(flag: bool) -> Iterator[None]:
    """Within the block, `shown()` is `flag`."""
    token = _SHOWN.set(bool(flag))
    try:
        yield
    finally:
        _SHOWN.reset(token)


def shown() -> bool:
    """Whether progress bars are shown (False outside `showing`: library calls and tests stay quiet)."""
    return _SHOWN.get()


def _call(fn: Callable, args: tuple):
    from pipeline.errors import route_warnings

    route_warnings()  # in the worker process too
    return fn(*args)


def parallel(calls: list[tuple[Callable, tuple]], n_jobs: int, desc: str, unit: str) -> list[Any]:
    """joblib.Parallel over `calls` [(function, args)], results in order, with a bar of `desc` when shown."""
    from joblib import Parallel, delayed
    from tqdm import tqdm

    out = []
    with tqdm(total=len(calls), desc=desc, unit=unit, disable=not shown(), leave=False) as bar:
        for result in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_call)(f, a) for f, a in calls):
            out.append(result)
            bar.update(1)
    return out
