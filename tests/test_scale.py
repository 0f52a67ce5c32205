"""extract and masks on a real Dask LocalCluster (2 worker processes) and a local Ray instance give
byte-identical outputs and records to the local backend."""

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from pipeline.engine.backends import backend_context
from pipeline.engine.runstate import RunState
from pipeline.params import Backend, CropParams, ExtractParams
from pipeline.store.layout import WorkLayout
from tests.kit import run_extract, run_masks

FILES = (
    [f"splits/{s}.json" for s in ("train", "val", "test")]
    + [f"original_sequences/youtube/{q}/videos/{v}.mp4" for q in ("raw", "c23") for v in ("000", "001")]
    + [
        f"manipulated_sequences/Deepfakes/{q}/videos/{v}.mp4"
        for q in ("raw", "c23")
        for v in ("000_001", "001_000")
    ]
)
PARAMS = ExtractParams(frames=2, crop=CropParams(size=48))


@pytest.fixture(scope="module")
def root(demo_root, tmp_path_factory) -> Path:
    """One pair of the tiny demo (2 reals, 2 Deepfakes) at raw and c23: 8 videos, 2 detect units."""
    out = tmp_path_factory.mktemp("scale") / "root"
    for name in FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(demo_root / name, out / name)
    return out


def prepare(root: Path, work: Path, backend: Backend, jobs: int | None = None) -> None:
    """extract then masks on one cluster of `backend` (the stages' own backend contexts reuse it)."""
    with backend_context(backend):
        for summary in (
            run_extract(root, work, PARAMS, jobs=jobs, device="cpu", progress=False, backend=backend),
            run_masks(root, work, jobs=jobs, progress=False, backend=backend),
        ):
            assert summary.failed == 0 and summary.done > 0, summary.failures


def outputs(work: Path) -> dict:
    """sha256 of every crop and mask file by path under WORK; status, fingerprint, counts, data of every
    record."""
    layout = WorkLayout(work)
    files = {
        str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in (layout.faces, layout.masks)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    with RunState(layout.state_db) as state:
        records = {
            (stage, r.key): (r.status, r.fingerprint, r.counts, r.data)
            for stage in ("detect", "extract", "masks")
            for r in state.records(stage)
        }
    return {"files": files, "records": records}


@pytest.fixture(scope="module")
def local(root, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("scale") / "local"
    # loky worker processes: one torch thread each, as cluster workers (MTCNN's landmarks, rounded to 0.01 px
    # in the records, differ with the thread count)
    prepare(root, work, Backend(), jobs=2)
    found = outputs(work)
    masks = [k for k in found["files"] if k.startswith("masks/")]
    assert len(found["files"]) == 8 * 2 + 4 * 2 and len(masks) == 4 * 2  # crops of 8 videos, masks of 4 fakes
    return found


def test_dask_local_cluster_gives_the_local_outputs(root, local, tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import get_client

    backend = Backend("dask", workers=2)
    with backend_context(backend):
        prepare(root, tmp_path / "work", backend)
        imported = get_client().run(lambda: "pipeline.stages.extract" in sys.modules)
    assert len(imported) == 2 and all(imported.values())  # both worker processes did extract units
    assert outputs(tmp_path / "work") == local


def test_ray_local_instance_gives_the_local_outputs(root, local, tmp_path):
    pytest.importorskip("ray")
    prepare(root, tmp_path / "work", Backend("ray", workers=2))
    assert outputs(tmp_path / "work") == local
