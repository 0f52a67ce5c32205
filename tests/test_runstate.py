"""Run state and runner: skip unchanged units, re-run changed ones, never record partial work."""

import os
from pathlib import Path

import pytest

from pipeline.engine.runner import Task, run_tasks
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult, fingerprint
from pipeline.store.atomic import atomic_path, remove_stale_temps


def copy_upper(payload) -> UnitResult:
    """A tiny stage: upper-case a text file into an output file, atomically."""
    src, dst = payload
    with atomic_path(Path(dst)) as tmp:
        tmp.write_text(Path(src).read_text().upper())
    return UnitResult("", "", DONE, outputs=[dst], counts={"files": 1})


def plan(inputs, out_dir, params):
    return [Task(p.name, fingerprint([p], params), (str(p), str(out_dir / p.name))) for p in inputs]


@pytest.fixture
def setup(tmp_path):
    inputs = []
    for name in ("a.txt", "b.txt"):
        p = tmp_path / "in" / name
        p.parent.mkdir(exist_ok=True)
        p.write_text(name)
        inputs.append(p)
    return inputs, tmp_path / "out", RunState(tmp_path / "state.sqlite")


def test_unchanged_units_are_skipped(setup):
    inputs, out, state = setup
    first = run_tasks("copy", plan(inputs, out, {"v": 1}), copy_upper, state, progress=False)
    assert (first.done, first.skipped) == (2, 0)
    assert (out / "a.txt").read_text() == "A.TXT"
    second = run_tasks("copy", plan(inputs, out, {"v": 1}), copy_upper, state, progress=False)
    assert (second.done, second.skipped) == (0, 2)


@pytest.mark.parametrize("change", ["size", "mtime", "param"])
def test_changed_size_mtime_or_parameter_reruns(setup, change):
    inputs, out, state = setup
    run_tasks("copy", plan(inputs, out, {"v": 1}), copy_upper, state, progress=False)
    params = {"v": 1}
    if change == "size":
        inputs[0].write_text("a longer text")
    elif change == "mtime":
        st = inputs[0].stat()
        os.utime(inputs[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    else:
        params = {"v": 2}
    summary = run_tasks("copy", plan(inputs, out, params), copy_upper, state, progress=False)
    assert summary.done == (2 if change == "param" else 1)


def test_failure_is_recorded_with_one_line_reason_and_others_finish(setup):
    inputs, out, state = setup
    inputs[0].unlink()
    summary = run_tasks("copy", plan(inputs, out, {}), copy_upper, state, progress=False)
    assert (summary.done, summary.failed) == (1, 1)
    record = state.get("copy", "a.txt")
    assert record.status == FAILED and "FileNotFoundError" in record.reason and "\n" not in record.reason
    assert state.get("copy", "b.txt").status == DONE


def test_interrupted_write_leaves_no_done_record_and_no_partial_file(setup):
    inputs, out, state = setup

    def crash_midway(payload):
        src, dst = payload
        with atomic_path(Path(dst)) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt  # stands in for a kill between write and rename

    with pytest.raises(KeyboardInterrupt):
        run_tasks("copy", plan(inputs, out, {}), crash_midway, state, progress=False)
    assert state.get("copy", "a.txt") is None
    assert not out.exists() or not any(out.iterdir())


def test_stale_temp_files_are_removed(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".tmp-abc.png").write_bytes(b"partial")
    (tmp_path / "x" / "000001.png").write_bytes(b"done")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["000001.png"]


def test_parallel_jobs_record_every_unit(setup):
    inputs, out, state = setup
    summary = run_tasks("copy", plan(inputs, out, {}), copy_upper, state, jobs=2, progress=False)
    assert summary.done == 2 and {r.key for r in state.records("copy")} == {"a.txt", "b.txt"}


def test_meta_round_trip(tmp_path):
    with RunState(tmp_path / "s.sqlite") as state:
        state.set_meta("params:copy", {"alpha": 0.33})
    with RunState(tmp_path / "s.sqlite") as state:
        assert state.get_meta("params:copy") == {"alpha": 0.33}
        assert state.get_meta("missing", 5) == 5


def test_dask_backend_runs_the_same_units(setup):
    pytest.importorskip("dask.distributed")
    from pipeline.params import Backend

    inputs, out, state = setup
    summary = run_tasks(
        "copy", plan(inputs, out, {}), copy_upper, state, progress=False, backend=Backend("dask", workers=2)
    )
    assert summary.done == 2 and (out / "b.txt").read_text() == "B.TXT"


def test_unknown_or_missing_backend_is_a_clear_error(setup, monkeypatch):
    from pipeline.errors import LrlError
    from pipeline.params import Backend

    inputs, out, state = setup
    with pytest.raises(LrlError, match="unknown backend"):
        run_tasks("copy", plan(inputs, out, {}), copy_upper, state, progress=False, backend=Backend("spark"))
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(LrlError, match="pip install"):
        run_tasks("copy", plan(inputs, out, {}), copy_upper, state, progress=False, backend=Backend("ray"))


def test_atomic_files_get_ordinary_permissions(tmp_path):
    from pipeline.store.atomic import FILE_MODE, write_bytes

    write_bytes(tmp_path / "x.bin", b"1")
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == FILE_MODE
