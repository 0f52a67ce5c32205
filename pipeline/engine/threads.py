"""One thread budget per worker process: torch, OpenCV, BLAS / OpenMP pools and PyAV decoding.

A stage runs `jobs` workers; each gets `max(1, cores // jobs)` threads in every pool, set once
where the worker starts (loky, Dask or Ray process, or the main process when it does the work
itself). Measured (DESIGN.md, issue 13): workers that each start all-core torch and OpenCV pools
oversubscribe the cores, and with one core busy elsewhere every small torch op waits for it
(extract 54.5 s with default threads, 7.7 s with OMP_NUM_THREADS=1, five FF++ clips). PyAV's decoding
threads are set per video: a stage's worker passes `worker_threads()` to pipeline.kernels.video.

OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE unless the environment sets it): measured
on this 2-core machine under load 8, MTCNN on 32 FF++ frames took 5.1-18.3 s with 2 spinning
threads, 1.5-2.0 s with 2 passive ones, 1.3-4.9 s with 1 thread. libgomp reads the policy when it
loads, so it only takes effect in processes that import torch after `prefer_passive_wait` (workers,
and `lrl-prep`, which calls it first).

Cores are those this process may run on (its CPU affinity), so a container or `taskset` limit
counts; `--jobs` is read as workers per machine (on a Dask or Ray cluster, each worker computes
its budget from its own machine's cores).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

# Variables read by OpenMP, MKL and OpenBLAS when they load: they cover pools not loaded yet
# (torch's OpenMP when torch is imported after the budget is applied).
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")
_APPLIED: dict[str, int] = {"threads": 0}  # this process's budget; 0 = none applied (libraries choose)


def prefer_passive_wait() -> None:
    """OpenMP threads sleep instead of spinning while they wait (unless the environment says otherwise)."""
    os.environ.setdefault(*WAIT_POLICY)


def available_cores() -> int:
    """Cores this process may run on (CPU affinity where the OS has it, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def budget(jobs: int, cores: int | None = None) -> int:
    """Threads per worker: max(1, cores // jobs)."""
    return max(1, (cores or available_cores()) // max(1, jobs))


def apply_budget(threads: int):
    """Limit this process's torch, OpenCV and BLAS / OpenMP threads to `threads` (PyAV's: `worker_threads`).

    Pools loaded later (torch imported afterwards) start at the budget through THREAD_VARS.
    Returns threadpoolctl's limiter (its restore_original_limits() undoes the BLAS / OpenMP part).
    """
    import cv2
    from threadpoolctl import threadpool_limits

    os.environ.update({name: str(threads) for name in THREAD_VARS})
    prefer_passive_wait()
    cv2.setNumThreads(threads)
    limiter = threadpool_limits(limits=threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    _set_applied(threads)
    return limiter


def _set_applied(threads: int) -> None:
    _APPLIED["threads"] = threads


def worker_threads() -> int:
    """This process's thread budget (0 when none is applied: libraries choose). A stage passes it to what
    keeps pools of its own, e.g. PyAV decoding (`threads` of pipeline.kernels.video)."""
    return _APPLIED["threads"]


def enter_worker(jobs: int) -> None:
    """The budget of one of `jobs` workers, applied once per process (later calls cost nothing)."""
    threads = budget(jobs)
    if _APPLIED["threads"] != threads:
        apply_budget(threads)


@contextlib.contextmanager
def thread_budget(jobs: int) -> Iterator[int]:
    """The budget for the block (the main process doing the work itself); earlier settings restored after."""
    import cv2

    torch = sys.modules.get("torch")
    before = (
        _APPLIED["threads"],
        cv2.getNumThreads(),
        torch.get_num_threads() if torch is not None else None,
        {name: os.environ.get(name) for name in THREAD_VARS},
    )
    limiter = apply_budget(budget(jobs))
    try:
        yield _APPLIED["threads"]
    finally:
        limiter.restore_original_limits()
        threads, cv2_threads, torch_threads, env = before
        _set_applied(threads)
        cv2.setNumThreads(cv2_threads)
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
