"""Inputs a user really has: other containers, two files for one id, unusable files, fakes without their
real; every file skipped is named with its true reason, and refresh carries it (issue 14, cases 1-4)."""

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import prep
from pipeline.dataset.adapters import scan
from pipeline.dataset.layout import mask_video_dir, video_dir
from pipeline.store.layout import WorkLayout
from pipeline.store.reader import ShardDataset
from tests.videos import transcode

ARGS = ["--frames", "2", "--size", "48", "--jobs", "1", "--no-progress"]


def copy(demo_root: Path, root: Path, method: str, name: str, as_name: str | None = None) -> Path:
    src = video_dir(demo_root, method, "c23") / f"{name}.mp4"
    dst = video_dir(root, method, "c23") / (as_name or f"{name}.mp4")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst


def with_splits(demo_root: Path, root: Path) -> Path:
    shutil.copytree(demo_root / "splits", root / "splits")
    return root


@pytest.mark.parametrize(
    "ext,codec",
    [
        (".webm", "libvpx-vp9"),
        (".mkv", "libvpx-vp9"),
        (".avi", "mpeg4"),
        (".mov", "mpeg4"),
        (".ts", "mpeg2video"),
    ],
)
def test_other_containers_are_indexed(demo_root, tmp_path, ext, codec):
    """Case 1: VP9 in .webm (and .mkv / .avi / .mov, and .ts by probing) are videos."""
    root = with_splits(demo_root, tmp_path / "root")
    for name in ("000", "001"):
        transcode(
            video_dir(demo_root, "youtube", "c23") / f"{name}.mp4",
            video_dir(root, "youtube", "c23") / f"{name}{ext}",
            codec,
        )
    result = CliRunner().invoke(prep, ["index", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].split() == ["total", "2"]
    assert sorted(Path(r.path).name for r in scan(root).records) == [f"000{ext}", f"001{ext}"]


def test_webm_tree_is_extracted(demo_root, tmp_path):
    """Case 1 end to end: refresh of a VP9 .webm tree crops its videos (no filter error)."""
    root = with_splits(demo_root, tmp_path / "root")
    transcode(
        video_dir(demo_root, "youtube", "c23") / "000.mp4", video_dir(root, "youtube", "c23") / "000.webm"
    )
    result = CliRunner().invoke(
        prep, ["extract", "--root", str(root), "--work", str(tmp_path / "work"), *ARGS]
    )
    assert result.exit_code == 0, result.output
    assert "extract: videos done 1 / skipped 0 / failed 0, 2 crops" in result.output


def test_files_that_are_not_videos_are_named_with_their_reason(demo_root, tmp_path, monkeypatch):
    """Case 3 (index): a broken link, a directory, an unreadable, an empty and a non-video file each say
    so."""
    root = with_splits(demo_root, tmp_path / "root")
    folder = video_dir(root, "youtube", "c23")
    copy(demo_root, root, "youtube", "000")
    locked = copy(demo_root, root, "youtube", "001")
    (folder / "002.mp4").symlink_to(tmp_path / "gone.mp4")
    (folder / "003.mp4").mkdir()
    (folder / "004.mp4").write_bytes(b"")
    (folder / "005.txt").write_text("not a video")
    (folder / ".000.mp4.part").write_bytes(b"partial")  # hidden: ignored
    real_access = os.access  # the tests run as root, whom chmod does not stop
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != locked and real_access(p, m))
    result = CliRunner().invoke(prep, ["index", "--root", str(root)])
    assert result.exit_code == 1
    problems = sorted(line for line in result.output.splitlines() if line.startswith("problem:"))
    assert problems[:4] == [
        f"problem: {locked}: permission denied (not readable by this user)",
        f"problem: {folder / '002.mp4'}: broken symbolic link (its target {tmp_path / 'gone.mp4'} does not "
        "exist)",
        f"problem: {folder / '003.mp4'}: a directory, not a video file",
        f"problem: {folder / '004.mp4'}: empty file (0 bytes)",
    ]
    assert problems[4] == (
        f"problem: {folder / '005.txt'}: not a container PyAV can open (Invalid data found "
        "when processing input)"
    )
    assert len(problems) == 5 and "\ntotal" + " " * 50 + "1\n" in result.output


def test_only_unusable_files_name_the_first_one(demo_root, tmp_path):
    root = with_splits(demo_root, tmp_path / "root")
    (video_dir(root, "youtube", "c23") / "000.mp4").parent.mkdir(parents=True)
    (video_dir(root, "youtube", "c23") / "000.mp4").symlink_to(tmp_path / "gone.mp4")
    result = CliRunner().invoke(prep, ["refresh", "--root", str(root), "--work", str(tmp_path / "w"), *ARGS])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"error: {root}: no video could be indexed; 1 files skipped, e.g. {video_dir(root, 'youtube', 'c23')}"
        f"/000.mp4: broken symbolic link (its target {tmp_path / 'gone.mp4'} does not exist)"
    )


@pytest.fixture(scope="module")
def refreshed(demo_root, tmp_path_factory):
    """A tree with every kind of input fault, refreshed once: (root, work, first run's CLI result)."""
    tmp = tmp_path_factory.mktemp("inputs")
    root = with_splits(demo_root, tmp / "root")
    folder = video_dir(root, "youtube", "c23")
    copy(demo_root, root, "youtube", "000")
    copy(demo_root, root, "youtube", "002")
    copy(demo_root, root, "youtube", "002", "002 (1).mp4")  # a name that cannot be parsed
    copy(demo_root, root, "youtube", "003")
    copy(demo_root, root, "youtube", "002", "003.avi")  # another clip with the id 003
    (folder / "004.mp4").symlink_to(tmp / "gone.mp4")
    copy(demo_root, root, "Deepfakes", "000_001")
    copy(demo_root, root, "Deepfakes", "003_002")  # made on the ambiguous 003
    copy(demo_root, root, "Deepfakes", "001_000")  # its real 001 is not in ROOT
    masks = mask_video_dir(root, "Deepfakes")
    masks.mkdir(parents=True)
    shutil.copy2(mask_video_dir(demo_root, "Deepfakes") / "001_000.mp4", masks / "001_000.mp4")
    result = CliRunner().invoke(prep, ["refresh", "--root", str(root), "--work", str(tmp / "work"), *ARGS])
    return root, tmp / "work", result


def problem_lines(root: Path) -> list[str]:
    folder = video_dir(root, "youtube", "c23")
    return [
        f"problem: {folder / '002 (1).mp4'}: cannot parse the name '002 (1)' as a youtube video",
        f"problem: {folder / '003'}: 2 files have the video id '003' (003.avi, 003.mp4): none of them is "
        "used; keep one",
        f"problem: {folder / '004.mp4'}: broken symbolic link (its target "
        f"{Path(os.readlink(folder / '004.mp4'))} does not exist)",
        f"problem: {video_dir(root, 'Deepfakes', 'c23') / '003_002.mp4'}: not used: its real youtube/003 is "
        "held by several files (see the problem naming them)",
    ]


def test_refresh_carries_index_problems(refreshed):
    """Cases 2 and 3: the summary line, the printed lines, the log and the exit code carry every problem."""
    root, work, result = refreshed
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "refresh: updated; 4 input problems; extract 4 done / 0 skipped / 0 failed; "
        "masks 1 done / 0 skipped / 0 failed / no mask 1; shards "
    )
    assert sorted(line for line in lines if line.startswith("problem:")) == sorted(problem_lines(root))
    log = Path(lines[-1].removeprefix("log: ")).read_text()
    for line in problem_lines(root):
        assert line in log
    assert (
        f"no mask: ffpp/Deepfakes/c23/001_000: real 001 not in ROOT (`--source official` would use its "
        f"mask video {mask_video_dir(root, 'Deepfakes') / '001_000.mp4'})" in log
    )


def test_ambiguous_videos_stay_out_and_the_orphan_fake_goes_in_without_a_mask(refreshed):
    """Case 2: neither 003 nor its fake is processed; case 4: the fake without its real goes into the shards
    with mask_known 0 and an all-zero mask, counted (issue 17; issue 14 left it out of the shards)."""
    root, work, _ = refreshed
    layout = WorkLayout(work)
    videos, unknown = set(), {}
    for split in ("train", "val", "test"):
        ds = ShardDataset(layout.shards, split)
        videos |= set(ds.videos)
        for i in range(len(ds)):
            sample = ds[i]
            unknown[sample["key"]] = unknown.get(sample["key"], set()) | {sample["mask_known"]}
            assert sample["face"] == 0 and (sample["mask_known"] or not sample["mask"].any())
    orphan = "ffpp/Deepfakes/c23/001_000"
    assert videos == {"ffpp/youtube/c23/000", "ffpp/youtube/c23/002", "ffpp/Deepfakes/c23/000_001", orphan}
    assert unknown == {k: {k != orphan} for k in videos}
    assert not list(layout.faces.rglob("003*"))
    index = json.loads(layout.shard_index.read_text())
    assert index["left_out"] == {} and index["mask_unknown"] == {
        orphan: (
            f"no mask: real 001 not in ROOT (`--source official` would use its mask video "
            f"{mask_video_dir(root, 'Deepfakes') / '001_000.mp4'})"
        )
    }
    again = CliRunner().invoke(prep, ["shards", "--work", str(work), "--no-progress"])
    assert again.exit_code == 0 and "1 fake videos without a mask (mask_known 0)" in again.output, (
        again.output
    )


def test_no_mask_is_not_retried_nor_a_failure(refreshed):
    """Case 4: once the problem files are gone, refresh exits 0 and the fake stays "no mask", not re-run."""
    root, work, _ = refreshed
    status = CliRunner().invoke(prep, ["status", "--work", str(work)])
    assert status.exit_code == 0
    assert "  no mask ffpp/Deepfakes/c23/001_000: real 001 not in ROOT" in status.output
    assert "input    problems    4" in status.output
    folder = video_dir(root, "youtube", "c23")
    for name in ("002 (1).mp4", "003.avi", "004.mp4"):
        (folder / name).unlink()
    result = CliRunner().invoke(prep, ["refresh", "--root", str(root), "--work", str(work), *ARGS])
    assert result.exit_code == 0, result.output  # 003 and its fake are now usable: they are made
    assert "masks 1 done / 1 skipped / 0 failed / no mask 1" in result.output
    result = CliRunner().invoke(prep, ["refresh", "--root", str(root), "--work", str(work), *ARGS])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "refresh: up to date; extract 0 done / 6 skipped / 0 failed; masks 0 done / "
        "2 skipped / 0 failed / no mask 1; shards 0 done / "
    )
    status = CliRunner().invoke(prep, ["status", "--work", str(work)])
    assert "input    problems    0" in status.output and "failed    0" in status.output.splitlines()[2]
