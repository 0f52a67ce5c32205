"""Where the workers run: joblib's loky processes here, a Dask cluster, or a Ray cluster.

Loky and Dask run the stage code through joblib's backend mechanism; Ray through its own tasks
(its joblib backend cannot hand results back as they finish). Workers take paths and return small
records; they write arrays to the shared WORK folder themselves; only the coordinating process
writes the run state. Dask and Ray are optional extras.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterable, Iterator

from pipeline.errors import LrlError
from pipeline.params import Backend

_ACTIVE: list["Backend"] = []  # backends whose context is open in this process, innermost last


@contextlib.contextmanager
def backend_context(backend: Backend) -> Iterator[None]:
    """Make the chosen backend available for the duration of the block.

    Nested blocks of the same backend reuse the outer one's cluster (so several stages can share it).
    """
    if backend.name == "loky" or (_ACTIVE and _ACTIVE[-1] == backend):
        yield
        return
    opened = _dask_client(backend) if backend.name == "dask" else _ray(backend)
    with opened, _parallel(backend.name):
        _ACTIVE.append(backend)
        try:
            yield
        finally:
            _ACTIVE.pop()


def _parallel(name: str):
    from joblib import parallel_config

    return parallel_config(backend=name) if name == "dask" else contextlib.nullcontext()


@contextlib.contextmanager
def _dask_client(backend: Backend):
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise LrlError(
            "the dask backend needs Dask: pip install 'dask[distributed]' (or lrl[dask])"
        ) from None
    if backend.address:
        with Client(backend.address):
            yield
        return
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which makes every large array a fresh
    # mmap: detection ran ~2x slower than in loky workers (benchmarks/scale.py). Workers keep glibc's default.
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}),
        LocalCluster(
            n_workers=backend.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster),
    ):
        yield


@contextlib.contextmanager
def _ray(backend: Backend):
    try:
        import ray
    except ImportError:
        raise LrlError("the ray backend needs Ray: pip install 'ray' (or lrl[ray])") from None
    started = not ray.is_initialized()
    if started:
        # "local": a new instance even where `ray start` ran on this machine (ray.init(None) would join it)
        where = (
            {"address": backend.address}
            if backend.address
            else {"address": "local", "num_cpus": backend.workers}
        )
        ray.init(include_dashboard=False, log_to_driver=False, **where)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def ray_unordered(fn: Callable[..., Any], calls: Iterable[tuple]) -> Iterator[Any]:
    """fn(*args) for every args as Ray tasks (one CPU each), yielded as they finish."""
    import ray

    remote = ray.remote(num_cpus=1)(fn)
    pending = [remote.remote(*args) for args in calls]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])
