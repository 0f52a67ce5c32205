"""The thread budget, read back from torch, OpenCV, threadpoolctl and PyAV inside real workers."""

import os

import pytest

from pipeline.engine.runner import Task, run_tasks
from pipeline.engine.runstate import DONE, RunState, UnitResult
from pipeline.engine.threads import available_cores, budget, thread_budget, worker_threads
from pipeline.params import Backend


def test_budget_hand_values():
    assert budget(1, cores=2) == 2
    assert budget(2, cores=2) == 1
    assert budget(3, cores=2) == 1  # never below one
    assert budget(4, cores=16) == 4
    assert budget(3, cores=16) == 5


def read_threads(_payload) -> UnitResult:
    """What this process's pools hold (torch imported here, after the worker applied its budget)."""
    import cv2
    import torch
    from threadpoolctl import threadpool_info

    pools = sorted({p["num_threads"] for p in threadpool_info()})
    return UnitResult(
        "",
        "",
        DONE,
        data={
            "torch": torch.get_num_threads(),
            "cv2": cv2.getNumThreads(),
            "pools": pools,
            "av": worker_threads(),
            "pid": os.getpid(),
            "wait": os.environ.get("OMP_WAIT_POLICY"),
        },
    )


def run_readers(tmp_path, jobs: int, backend: Backend | None = None) -> list[dict]:
    tasks = [Task(f"unit{i}", "fp", i) for i in range(4)]
    with RunState(tmp_path / "state.sqlite") as state:
        summary = run_tasks(
            "threads", tasks, read_threads, state, jobs=jobs, progress=False, backend=backend or Backend()
        )
        assert summary.done == 4, summary.failures
        return [r.data for r in state.records("threads")]


@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_workers_run_with_cores_over_jobs_threads(tmp_path, backend):
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    expected = budget(2)
    seen = run_readers(tmp_path, jobs=2, backend=Backend(backend, workers=2))
    assert all(s["pid"] != os.getpid() and s["wait"] == "PASSIVE" for s in seen)
    assert {s["torch"] for s in seen} == {s["cv2"] for s in seen} == {s["av"] for s in seen} == {expected}
    assert all(s["pools"] == [expected] for s in seen)  # every BLAS / OpenMP pool, torch's included


def test_main_process_takes_the_budget_for_the_run_and_restores_its_settings(tmp_path):
    import cv2
    import torch

    before = (torch.get_num_threads(), cv2.getNumThreads(), worker_threads())  # an earlier test may set one
    torch.set_num_threads(1)
    try:
        (seen,) = {(s["torch"], s["cv2"], s["av"], s["pid"]) for s in run_readers(tmp_path, jobs=1)}
        assert seen == (available_cores(), available_cores(), available_cores(), os.getpid())
        assert torch.get_num_threads() == 1 and worker_threads() == before[2]
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


@pytest.mark.parametrize("jobs", [1, 2])
def test_thread_budget_block_sets_opencv(jobs):
    import cv2

    before = cv2.getNumThreads()
    with thread_budget(jobs) as threads:
        assert threads == budget(jobs) and cv2.getNumThreads() == threads
    assert cv2.getNumThreads() == before
