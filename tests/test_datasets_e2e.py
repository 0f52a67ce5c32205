"""The demo's Celeb-DF and DFDC trees through refresh (index -> extract -> masks -> shards), side by side
in one WORK: each refresh keeps the other dataset's units, prunes only its own, and shards hold both."""

import shutil
from collections import Counter
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the blosc filter the shards use
import numpy as np
import pytest

from pipeline.dataset.adapters import scan
from pipeline.demo import celebdf as celebdf_demo
from pipeline.demo import dfd as dfd_demo
from pipeline.demo import dfdc as dfdc_demo
from pipeline.demo.celebdf import make_celebdf_demo
from pipeline.demo.dfdc import make_dfdc_demo, names
from pipeline.engine.runstate import RunState
from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
from pipeline.stages.context import saved_sources
from pipeline.stages.refresh import refresh
from pipeline.stages.report import run as run_report
from pipeline.stages.status import status_report
from pipeline.store.layout import WorkLayout

FRAMES = 4
STEMS = names(np.random.default_rng([0, 23]), 10)  # the DFDC demo's file stems (seed 0)
CONFIG = PrepConfig(
    extract=ExtractParams(frames=FRAMES, crop=CropParams(size=64)),
    run=RunOptions(jobs=1, progress=False, device="cpu"),
)


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("trees")
    return {
        "celebdf": make_celebdf_demo(out / "celebdf", size="tiny", n_jobs=2).root,
        "dfdc": make_dfdc_demo(out / "dfdc", size="tiny", n_jobs=2).root,
    }


def shard_videos(work: Path) -> Counter:
    """Samples per (dataset, method, video) over every shard of WORK."""
    found = Counter()
    for path in sorted(WorkLayout(work).shards.glob("*.h5")):
        with h5py.File(path) as f:
            found.update(zip(*(f[k][:].astype(str) for k in ("dataset", "method", "video")), strict=True))
    return found


def mask_known(work: Path) -> Counter:
    """Samples per (dataset, mask_known) over every shard of WORK."""
    found = Counter()
    for path in sorted(WorkLayout(work).shards.glob("*.h5")):
        with h5py.File(path) as f:
            found.update(zip(f["dataset"][:].astype(str), f["mask_known"][:].tolist(), strict=True))
    return found


def summaries(report) -> dict:
    return {s.stage: (s.done, s.skipped, s.failed, len(s.held)) for s in report.summaries}


def test_demo_trees_index_as_documented(trees):
    celebdf, dfdc = scan(trees["celebdf"]), scan(trees["dfdc"])
    assert Counter((r.method, r.split) for r in celebdf.records) == {
        ("Celeb-real", "train"): 2,
        ("Celeb-real", "test"): 1,
        ("YouTube-real", "train"): 1,
        ("YouTube-real", "test"): 1,
        ("Celeb-synthesis", "train"): 2,
        ("Celeb-synthesis", "test"): 1,
    }
    assert not celebdf.problems and not celebdf.notes
    assert Counter((r.method, r.split) for r in dfdc.records) == {
        ("real", "train"): 3,
        ("fake", "train"): 4,
        ("real", "test"): 1,
        ("fake", "test"): 1,
    }
    part = {r.video: Path(r.path).parent.name for r in dfdc.records}
    crossing = [
        r for r in dfdc.records if r.is_fake and r.split == "train" and part[r.video] != part[r.target]
    ]
    assert len(crossing) == 3  # fakes whose original lies in the other part (the two-person one among them)
    assert not dfdc.problems and len(dfdc.notes) == 1 and "no original named" in dfdc.notes[0].reason


@pytest.mark.parametrize("name, module", [("celebdf", celebdf_demo), ("dfdc", dfdc_demo), ("dfd", dfd_demo)])
def test_small_trees_test_at_least_four_reals_and_four_fakes(name, module, tmp_path):
    """The small trees' plans laid out as one-byte files (the adapters take .mp4 names as videos unread):
    Table 3's rows are not two or three videos."""
    planned = module.plan(0, "small")
    clips, side = planned if isinstance(planned, tuple) else (planned, {})
    for path in [c.path for c in clips]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(b"x")
    for path, data in side.items():
        (tmp_path / path).write_bytes(data)
    found = scan(tmp_path)
    assert not found.problems and {r.dataset for r in found.records} == {name}
    tests = Counter(r.label for r in found.records if r.split == "test")
    assert tests[0] >= 4 and tests[1] >= 4, tests


def test_celebdf_and_dfdc_side_by_side_in_one_work(trees, tmp_path):
    work, celebdf = tmp_path / "work", tmp_path / "celebdf"
    shutil.copytree(trees["celebdf"], celebdf)  # this test deletes a video of it

    first = refresh(celebdf, work, CONFIG)
    assert first.exit_code == 0 and summaries(first) == {
        "extract": (8, 0, 0, 0),
        "masks": (3, 0, 0, 0),
        "shards": (2, 0, 0, 0),
    }
    samples = shard_videos(work)
    assert (
        len(samples) == 8 and set(samples.values()) == {FRAMES} and {d for d, _, _ in samples} == {"celebdf"}
    )

    second = refresh(trees["dfdc"], work, CONFIG)
    assert (
        second.kept == [] and "kept" not in second.line()
    )  # Celeb-DF's units are another ROOT's, not held ones
    # DFDC: 9 videos; 4 training fakes get masks (3 of them from a real in the other part); the test-set
    # fake has no original: no mask, in the shards with mask_known 0. The two-person real gives two faces'
    # samples, its fake only the swapped face's.
    assert second.exit_code == 0 and not second.removed
    assert summaries(second) == {"extract": (9, 0, 0, 0), "masks": (4, 3, 0, 1), "shards": (2, 0, 0, 0)}
    samples = shard_videos(work)
    assert Counter(d for d, _, _ in samples) == {"celebdf": 8, "dfdc": 9}
    assert mask_known(work) == {("dfdc", 0): FRAMES, ("dfdc", 1): 9 * FRAMES, ("celebdf", 1): 8 * FRAMES}
    pair_real, pair_fake = ("dfdc/real/orig/" + STEMS[8], "dfdc/fake/orig/" + STEMS[9])
    with RunState(WorkLayout(work).state_db) as state:
        masks = {r.key: r for r in state.records("masks")}
        crops = {r.key: r.data for r in state.records("extract")}
        sources = saved_sources(state)
    dfdc = {r.video: r for r in scan(trees["dfdc"]).records}
    for video in (r for r in dfdc.values() if r.is_fake and r.split == "train"):
        assert masks[video.key].ok and masks[video.key].data["mean_area"] > 0.01, video.key
    assert sorted(set(crops[pair_real]["faces"])) == [0, 1] and set(crops[pair_fake]["faces"]) == {1}
    assert {d: s["root"] for d, s in sources.items()} == {
        "celebdf": str(celebdf.resolve()),
        "dfdc": str(trees["dfdc"].resolve()),
    }

    again = refresh(celebdf, work, CONFIG)  # up to date: the DFDC units are another ROOT's, not pruned
    assert again.exit_code == 0 and not again.removed and again.changed == 0
    (celebdf / "Celeb-synthesis" / "id1_id2_0000.mp4").unlink()
    pruned = refresh(celebdf, work, CONFIG)
    assert (
        sorted(pruned.removed) == ["celebdf/Celeb-synthesis/orig/id1_id2_0000"] * 2
    )  # its extract and masks units
    samples = shard_videos(work)
    assert Counter(d for d, _, _ in samples) == {"celebdf": 7, "dfdc": 9}

    status = [line for line in status_report(work).splitlines() if not line.startswith(" ")]
    # every ROOT of WORK re-planned, nothing stale nor pending: detect 5 Celeb-DF reals + DFDC's 4 reals and
    # its test fake (no real: detected on itself); extract 7 + 9 videos; masks 2 + 4 (+ 1 no mask); shards
    # train-0000 and test-0000, each holding both datasets
    assert [line.split()[:3] for line in status] == [
        ["detect", "done", "10"],
        ["extract", "done", "16"],
        ["masks", "done", "6"],
        ["shards", "done", "2"],
        ["input", "problems", "0"],
    ]
    assert all("stale    0  pending    0" in line for line in status[:4]), status
    line = run_report(work, tmp_path / "report")  # the QA pages read every dataset of WORK
    assert (
        line.startswith("report: 16 videos on 1 sheet pages")
        and (tmp_path / "report" / "index.html").is_file()
    )
    page = (tmp_path / "report" / "index.html").read_text()
    assert all(f"<td>{d}</td>" in page for d in ("celebdf", "dfdc")), "counts per dataset"


def test_cli_demo_data_writes_each_layout_and_rebuilds_in_place(trees, tmp_path):
    from click.testing import CliRunner

    from cli import prep

    out = tmp_path / "dfdc"
    shutil.copytree(trees["dfdc"], out)
    (out / "dfdc_train_part_0" / "metadata.json").write_text("{}")  # damaged: the rebuild rewrites it
    result = CliRunner().invoke(prep, ["demo-data", "--out", str(out), "--dataset", "dfdc", "--size", "tiny"])
    assert result.exit_code == 0 and result.output.startswith(
        "demo dfdc (tiny, seed 0): 4 reals and 5 fakes of 10 frames"
    )
    assert (out / "dfdc_train_part_0" / "metadata.json").read_bytes() == (
        trees["dfdc"] / "dfdc_train_part_0" / "metadata.json"
    ).read_bytes()
    result = CliRunner().invoke(prep, ["demo-data", "--out", str(tmp_path / "x"), "--dataset", "nope"])
    assert result.exit_code == 2 and "'nope' is not one of 'ffpp', 'celebdf', 'dfdc', 'dfd'" in result.output
