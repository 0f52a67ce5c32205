"""lrl-prep refresh: no-op runs, locking, SIGKILL at any stage, and exact rebuilds after changes."""

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the blosc filter the shards use
import pytest

from pipeline.engine.runstate import RunState
from pipeline.store.layout import WorkLayout
from pipeline.store.lock import LOCKED_EXIT

FILES = (
    [f"splits/{s}.json" for s in ("train", "val", "test")]
    + [f"original_sequences/youtube/{q}/videos/{v}.mp4" for q in ("raw", "c23") for v in ("000", "001")]
    + [
        f"manipulated_sequences/Deepfakes/{d}/videos/{v}.mp4"
        for d in ("raw", "c23", "masks")
        for v in ("000_001", "001_000")
    ]
)
ARGS = ["--frames", "2", "--size", "48", "--jobs", "1", "--no-progress"]
CLI = (
    "import sys\nfrom cli import prep\n"
    "sys.exit(prep.main(['refresh'] + sys.argv[1:], standalone_mode=True))\n"
)


@pytest.fixture
def root(demo_root, tmp_path) -> Path:
    """One pair of the tiny demo (2 reals, 2 Deepfakes) at raw and c23: 8 videos."""
    for name in FILES:
        (tmp_path / "root" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(demo_root / name, tmp_path / "root" / name)
    return tmp_path / "root"


def refresh(root: Path, work: Path, *extra, prelude: str = "", check=True) -> subprocess.CompletedProcess:
    """The CLI in a fresh process; `prelude` runs first (fault injection)."""
    proc = subprocess.run(
        [sys.executable, "-c", prelude + CLI, "--root", str(root), "--work", str(work), *ARGS, *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def outputs(work: Path) -> dict:
    """Every crop and mask file's bytes, shard contents and index without timestamps.

    Timestamp-derived fields are left out: `created`, and the shard fingerprints, which hash the mtimes of
    the crop and mask folders (and with them the shard's sha256)."""
    layout = WorkLayout(work)
    files = {
        str(p.relative_to(work)): p.read_bytes()
        for folder in (layout.faces, layout.masks)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    shards = {}
    for path in sorted(layout.shards.glob("*.h5")):
        with h5py.File(path) as f:
            shards[path.name] = (
                {k: _values(f[k][:]) for k in f},
                {k: str(v) for k, v in f.attrs.items() if k not in ("created", "fingerprint")},
            )
    index = json.loads(layout.shard_index.read_text())
    for entry in index["shards"]:
        entry.pop("sha256")
        entry.pop("fingerprint")
    index.pop("created", None)
    return {"files": files, "shards": shards, "index": index}


def _values(array):
    """Comparable contents of a dataset (object arrays of strings hold pointers, not bytes)."""
    return array.tolist() if array.dtype == object else array.tobytes()


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def clean(root, tmp_path) -> Path:
    work = tmp_path / "clean"
    refresh(root, work)
    return work


def test_second_refresh_does_nothing_and_never_imports_torch(root, clean):
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('heavy:', [m for m in ('torch', 'av', 'facenet_pytorch') "
        "if m in sys.modules]))\n"
    )
    before = mtimes(clean)
    proc = refresh(root, clean, prelude=probe)
    assert "refresh: up to date" in proc.stdout and "heavy: []" in proc.stdout
    after = mtimes(clean)
    assert {k: v for k, v in after.items() if not k.startswith(("logs", ".lock", "state"))} == {
        k: v for k, v in before.items() if not k.startswith(("logs", ".lock", "state"))
    }
    assert len(list((clean / "logs").glob("refresh-*.log"))) >= 1


def killer(module: str, attr: str, after: int) -> str:
    """A prelude that SIGKILLs the process on call number after + 1 of module.attr (attr may be
    Class.method)."""
    owner, _, name = attr.rpartition(".")
    return (
        f"import os, signal, {module} as m\n"
        f"_owner = m{'.' + owner if owner else ''}\n"
        f"_real = getattr(_owner, {name!r})\n"
        "_calls = [0]\n"
        "def _dying(*a, **k):\n"
        "    _calls[0] += 1\n"
        f"    if _calls[0] > {after}:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return _real(*a, **k)\n"
        f"setattr(_owner, {name!r}, _dying)\n"
    )


@pytest.mark.parametrize(
    "module,function,after",
    [
        ("pipeline.stages.extract", "write_png", 5),  # during extract, between crops
        ("pipeline.stages.masks", "write_png", 3),  # during masks, between mask files
        ("pipeline.store.schema", "ShardWriter.append", 4),  # while writing a shard
    ],
)
def test_sigkill_then_rerun_reaches_the_clean_state(root, clean, tmp_path, module, function, after):
    work = tmp_path / "killed"
    proc = refresh(root, work, prelude=killer(module, function, after), check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    refresh(root, work)
    assert not list(work.rglob(".tmp-*"))
    assert outputs(work) == outputs(clean)


def test_two_refreshes_together_exactly_one_works(root, tmp_path):
    work = tmp_path / "race"
    cmd = [sys.executable, "-c", CLI, "--root", str(root), "--work", str(work), *ARGS]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stdout.read() + p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, LOCKED_EXIT], results
    locked = next(out for code, out in results if code == LOCKED_EXIT)
    assert "locked by pid" in locked and "Traceback" not in locked
    assert len(list((work / "logs").glob("refresh-*.log"))) == 1


def records(work: Path, stage: str) -> dict[str, str]:
    with RunState(WorkLayout(work).state_db) as state:
        return {r.key: r.fingerprint for r in state.records(stage)}


def changed_keys(before: dict, after: dict) -> set[str]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


FAKE_C23 = "ffpp/Deepfakes/c23/000_001"


def test_changes_rebuild_exactly_what_depends_on_them(root, clean):
    stages = ("extract", "masks", "shards")
    snap = {s: records(clean, s) for s in stages}
    faces = WorkLayout(clean).faces
    t0 = mtimes(faces)

    # a changed video: the c23 fake -> its crops and c23 masks, and the shard
    video = root / "manipulated_sequences/Deepfakes/c23/videos/000_001.mp4"
    os.utime(video, ns=(video.stat().st_atime_ns, video.stat().st_mtime_ns + 10**9))
    refresh(root, clean)
    now = {s: records(clean, s) for s in stages}
    assert changed_keys(snap["extract"], now["extract"]) == {FAKE_C23}
    assert changed_keys(snap["masks"], now["masks"]) == {FAKE_C23}
    assert len(changed_keys(snap["shards"], now["shards"])) == 1
    t1 = mtimes(faces)
    assert {k for k in t0 if t0[k] != t1.get(k)} == {
        k for k in t0 if k.startswith("ffpp/Deepfakes/c23/000_001/")
    }

    # a deleted video -> its crops, masks and records go; the shard is rewritten without it
    video.unlink()
    refresh(root, clean)
    snap, now = now, {s: records(clean, s) for s in stages}
    assert changed_keys(snap["extract"], now["extract"]) == {FAKE_C23} and FAKE_C23 not in now["extract"]
    assert FAKE_C23 not in now["masks"] and not (faces / FAKE_C23).exists()
    index = json.loads(WorkLayout(clean).shard_index.read_text())
    assert sum(e["samples"] for e in index["shards"]) == 14

    # a new video -> only it is extracted and masked
    new = root / "manipulated_sequences/Face2Face/c23/videos/000_001.mp4"
    new.parent.mkdir(parents=True)
    shutil.copy2(root / "manipulated_sequences/Deepfakes/raw/videos/000_001.mp4", new)
    refresh(root, clean)
    snap, now = now, {s: records(clean, s) for s in stages}
    assert changed_keys(snap["extract"], now["extract"]) == {"ffpp/Face2Face/c23/000_001"}
    assert changed_keys(snap["masks"], now["masks"]) == {"ffpp/Face2Face/c23/000_001"}

    # a changed parameter (mask threshold) -> every mask and shard, no crop
    t2 = mtimes(faces)
    refresh(root, clean, "--threshold", "0.2")
    snap, now = now, {s: records(clean, s) for s in stages}
    assert changed_keys(snap["extract"], now["extract"]) == set()
    assert changed_keys(snap["masks"], now["masks"]) == set(now["masks"])
    assert changed_keys(snap["shards"], now["shards"]) == set(now["shards"])
    assert mtimes(faces) == t2


def test_unwritable_work_is_a_clear_error_and_nothing_recorded(root, tmp_path):
    work = tmp_path / "full"
    prelude = (
        "import errno, os, pipeline.store.images as e\n"
        "def _full(*args, **kw):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "e.write_bytes = _full\n"
    )
    proc = refresh(root, work, prelude=prelude, check=False)
    assert proc.returncode == 2 and ".png: disk full: writing it needs " in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    with RunState(WorkLayout(work).state_db) as state:
        assert all(r.status != "done" for r in state.records("extract"))
    assert not list(work.rglob("*.png"))


def test_a_refresh_scans_root_once_and_plans_each_stage_once(root, tmp_path, monkeypatch):
    from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
    from pipeline.stages import STAGES, context
    from pipeline.stages.refresh import refresh as run_refresh

    calls = Counter()

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(context, "scan", counted("scan", context.scan))
    for stage in STAGES:
        monkeypatch.setattr(stage, "plan", counted(stage.__name__, stage.plan))
    cfg = PrepConfig(
        extract=ExtractParams(frames=2, crop=CropParams(size=48)),
        run=RunOptions(jobs=1, progress=False, device="cpu"),
    )
    report = run_refresh(root, tmp_path / "work", cfg)
    assert report.failed == 0 and [s.done for s in report.summaries] == [8, 4, 1]
    assert calls == {"scan": 1, **{stage.__name__: 1 for stage in STAGES}}
