"""Refresh and input problems of side files: a bad metadata.json keeps what was made (never prunes the
videos it describes), and a corrected label or split redoes the video so its shards carry the new value."""

import shutil
from collections import Counter
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the blosc filter the shards use
import pytest

from pipeline.demo.celebdf import make_celebdf_demo
from pipeline.demo.dfdc import make_dfdc_demo
from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
from pipeline.stages.refresh import refresh
from pipeline.store.layout import WorkLayout

CONFIG = PrepConfig(
    extract=ExtractParams(frames=3, crop=CropParams(size=48)),
    run=RunOptions(jobs=1, progress=False, device="cpu"),
)


def shard_rows(work: Path) -> Counter:
    """Samples per (video, split, label) over every shard of WORK."""
    found = Counter()
    for path in sorted(WorkLayout(work).shards.glob("*.h5")):
        with h5py.File(path) as f:
            found.update(
                zip(f["video"][:].astype(str), f["split"][:].astype(str), f["label"][:].tolist(), strict=True)
            )
    return found


def faces(work: Path) -> list[str]:
    return sorted(str(p.relative_to(work)) for p in WorkLayout(work).faces.rglob("*.png"))


@pytest.mark.parametrize("damage", ["not json", '{"x.mp4": '])
def test_a_broken_metadata_json_keeps_every_crop_it_describes(tmp_path, damage):
    root = make_dfdc_demo(tmp_path / "dfdc", size="tiny", n_jobs=1).root
    work = tmp_path / "work"
    assert refresh(root, work, CONFIG).exit_code == 0
    before_faces, before_shards = faces(work), shard_rows(work)
    metadata = root / "dfdc_train_part_0" / "metadata.json"
    good = metadata.read_bytes()
    metadata.write_text(damage)
    report = refresh(root, work, CONFIG)
    assert report.exit_code == 1 and any("metadata.json" in p.path for p in report.problems)
    assert (
        report.removed == [] and len(report.kept) >= 4
    )  # part 0's 4 videos (their detect and extract units)
    assert report.summaries[0].done == 0, (
        report.line()
    )  # nor is a fake of part 1 whose real is in part 0 redone
    assert "units kept as they were" in report.line()
    log = report.log.read_text()
    assert "removed" not in log and "kept dfdc/" in log
    assert faces(work) == before_faces and shard_rows(work) == before_shards
    metadata.write_bytes(good)
    again = refresh(root, work, CONFIG)
    assert again.exit_code == 0 and again.changed == 0, again.line()  # nothing to redo once it is fixed


def test_a_video_moved_out_of_the_test_list_is_redone_and_its_shards_follow(tmp_path):
    root = make_celebdf_demo(tmp_path / "celebdf", size="tiny", n_jobs=1).root
    work = tmp_path / "work"
    assert refresh(root, work, CONFIG).exit_code == 0
    assert {(v, s, y) for v, s, y in shard_rows(work) if v == "00001"} == {("00001", "test", 0)}
    listing = root / "List_of_testing_videos.txt"
    listing.write_text(
        "".join(line for line in listing.read_text().splitlines(keepends=True) if "00001" not in line)
    )
    report = refresh(root, work, CONFIG)
    assert report.exit_code == 0 and report.summaries[0].done == 1, report.line()  # that one video only
    assert {(v, s, y) for v, s, y in shard_rows(work) if v == "00001"} == {("00001", "train", 0)}
    shutil.rmtree(root / "YouTube-real")
    gone = refresh(root, work, CONFIG)
    assert "youtube-real" in " ".join(gone.removed).lower()  # a video that left ROOT is still pruned


def test_a_refresh_with_another_crop_size_says_which_videos_leave_the_shards(tmp_path):
    from click.testing import CliRunner

    from cli import prep

    celebdf = make_celebdf_demo(tmp_path / "celebdf", size="tiny", n_jobs=1).root
    work = tmp_path / "work"
    assert refresh(celebdf, work, CONFIG).exit_code == 0
    ffpp = tmp_path / "ffpp"
    assert CliRunner().invoke(prep, ["demo-data", "--out", str(ffpp), "--size", "tiny"]).exit_code == 0
    result = CliRunner().invoke(
        prep,
        [
            "refresh",
            "--root",
            str(ffpp),
            "--work",
            str(work),
            "--frames",
            "2",
            "--size",
            "32",
            "--jobs",
            "1",
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "left out of the shards: 8 videos: left out: crop size 48, the shard set's is 32 (the most common; "
        "refresh its ROOT with --size 32, or keep it in another WORK)"
    ) in result.output.splitlines()
