"""Where the workers run: joblib's loky processes here, a Dask cluster, or a Ray cluster.

The same stage code runs on all three through joblib's backend mechanism. Workers take paths and
return small records; they write arrays to the shared WORK folder themselves; only the coordinating
process writes the run state. Dask and Ray are optional extras.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from pipeline.errors import LrlError

BACKENDS = ("loky", "dask", "ray")


@dataclass(frozen=True)
class Backend:
    name: str = "loky"
    address: str | None = None  # Dask scheduler address or Ray cluster address; None starts a local one
    workers: int = 2  # local Dask cluster size when no address is given

    @property
    def remote(self) -> bool:
        return self.name != "loky"


@contextlib.contextmanager
def backend_context(backend: Backend) -> Iterator[None]:
    """Make joblib's Parallel run on the chosen backend for the duration of the block."""
    if backend.name not in BACKENDS:
        raise LrlError(f"unknown backend {backend.name!r}: choose one of {', '.join(BACKENDS)}")
    if backend.name == "loky":
        yield
    elif backend.name == "dask":
        with _dask_client(backend), _parallel("dask"):
            yield
    else:
        with _ray(backend), _parallel("ray"):
            yield


def _parallel(name: str):
    from joblib import parallel_config

    return parallel_config(backend=name)


@contextlib.contextmanager
def _dask_client(backend: Backend):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise LrlError("the dask backend needs Dask: pip install 'dask[distributed]' (or lrl[dask])") from None
    if backend.address:
        with Client(backend.address):
            yield
        return
    with LocalCluster(n_workers=backend.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        yield


@contextlib.contextmanager
def _ray(backend: Backend):
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise LrlError("the ray backend needs Ray: pip install 'ray' (or lrl[ray])") from None
    register_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=backend.address, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        if started:
            ray.shutdown()
