"""Inputs, faults and load, third round (issue 26): cover art, a full disk, a folder with a GIF, a file read
only in part; each kind built from nothing and run through the CLI (message, exit code, what is on disk)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import predict as predict_cli
from cli import prep
from pipeline.dataset.layout import mask_video_dir, video_dir
from pipeline.engine.runstate import RunState
from pipeline.store.layout import WorkLayout
from tests.kit import prep_args
from tests.videos import with_cover

ARGS = ["--frames", "2", "--size", "48", "--jobs", "1", "--no-progress"]


def cover_tree(demo_root: Path, root: Path) -> Path:
    """Reals 000 and 001 and the fake 000_001 of the demo, each remuxed with a cover picture as stream 0."""
    shutil.copytree(demo_root / "splits", root / "splits")
    for method, name in (("youtube", "000"), ("youtube", "001"), ("Deepfakes", "000_001")):
        name = f"{name}.mp4"
        with_cover(video_dir(demo_root, method, "c23") / name, video_dir(root, method, "c23") / name)
    return root


def test_cover_art_first_is_not_taken_for_the_video(demo_root, tmp_path):
    """Stream 0 an mjpeg cover (attached_pic), stream 1 the H.264 video: refresh crops the video's frames."""
    root, work = cover_tree(demo_root, tmp_path / "root"), tmp_path / "work"
    result = CliRunner().invoke(prep, ["refresh", "--root", str(root), "--work", str(work), *ARGS])
    assert result.exit_code == 0, result.output
    assert "extract 3 done / 0 skipped / 0 failed" in result.output.splitlines()[0]
    faces = WorkLayout(work).faces
    for key in ("youtube/c23/000", "youtube/c23/001", "Deepfakes/c23/000_001"):
        assert len(list((faces / "ffpp" / key).glob("*.png"))) == 2, key  # 2 frames sampled of 10, not 1 of 1


def test_predict_scores_the_video_not_its_cover(demo_root, tiny_run, tmp_path, one_torch_thread):
    _, _, ckpt = tiny_run
    plain = video_dir(demo_root, "youtube", "c23") / "000.mp4"
    covered = with_cover(plain, tmp_path / "covered.mp4")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        predict_cli,
        ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu", str(plain), str(covered)],
    )
    assert result.exit_code == 0, result.output
    first, second = json.loads((out / "predictions.json").read_text())["inputs"]
    assert second["n_frames"] == first["n_frames"] == 10
    assert second["frames"] == first["frames"] == [0, 3, 6, 9]
    assert second["score"] == first["score"]


def animated_gif(path: Path, frames) -> Path:
    import av

    with av.open(str(path), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=5)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "rgb8"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="rgb8")))
        out.mux(stream.encode(None))
    return path


def test_a_folder_gives_what_index_would_take_and_names_what_it_skips(
    demo_root, tiny_run, tmp_path, one_torch_thread
):
    """An animated GIF beside a photo and a video is scored; a note, a hidden file, a broken link and an
    empty .mp4 are each named with their reason (the last two as failures: they look like inputs)."""
    import cv2

    from pipeline.kernels.video import iter_frames

    _, _, ckpt = tiny_run
    video = video_dir(demo_root, "youtube", "c23") / "000.mp4"
    frames = [f for _, f in iter_frames(video, None)]
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy2(video, folder / "a.mp4")
    cv2.imwrite(str(folder / "b.JPG"), cv2.cvtColor(frames[3], cv2.COLOR_RGB2BGR))
    animated_gif(folder / "sub" / "c.gif", frames)
    (folder / "notes.txt").write_text("where these came from")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "sub" / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (folder / "sub" / "empty.mov").write_bytes(b"")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        predict_cli, ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu", str(folder)]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert sorted(line for line in lines if line.startswith(("failed", "skipped"))) == [
        f"failed {folder / 'sub' / 'empty.mov'}: empty file (0 bytes)",
        f"failed {folder / 'sub' / 'gone.mp4'}: broken symbolic link (its target {tmp_path / 'nowhere.mp4'} "
        "does not exist)",
        f"skipped {folder / '.DS_Store'}: hidden (its name starts with a dot; lrl-prep index skips these "
        "too)",
        f"skipped {folder / 'notes.txt'}: not a container PyAV can open (Invalid data found when processing "
        "input)",
    ]
    assert lines[-1].startswith("predict: 3 scored / 2 failed / 2 skipped;")
    doc = json.loads((out / "predictions.json").read_text())
    scored = {Path(r["path"]).name: r for r in doc["inputs"] if r["score"] is not None}
    assert sorted(scored) == ["a.mp4", "b.JPG", "c.gif"]
    assert scored["c.gif"]["kind"] == "video" and scored["c.gif"]["n_frames"] == 10
    assert scored["b.JPG"]["kind"] == "image"
    assert sorted(Path(s["path"]).name for s in doc["skipped"]) == [".DS_Store", "notes.txt"]


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs mounted at tmp_path/disk (needs root); yields a function resizing it ("150k", "2m")."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True)
    if mount.returncode:
        pytest.skip("cannot mount a tmpfs here")

    def resize(size: str) -> Path:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)
        return disk

    yield resize
    subprocess.run(["umount", str(disk)], check=True)


def reals_and_deepfakes(demo_root: Path, root: Path) -> Path:
    """The c23 reals and Deepfakes of the demo (12 videos) with the Deepfakes mask videos and the splits."""
    shutil.copytree(demo_root / "splits", root / "splits")
    for method in ("youtube", "Deepfakes"):
        shutil.copytree(video_dir(demo_root, method, "c23"), video_dir(root, method, "c23"))
    shutil.copytree(mask_video_dir(demo_root, "Deepfakes"), mask_video_dir(root, "Deepfakes"))
    return root


FULL = re.compile(
    r"error: (\S+): disk full: (writing it|recording the run state|writing 3 shards) needs "
    r"[\d.]+ [KM]?B free, [\d.]+ [KM]?B free there; free some space and run again \(what was "
    r"finished is kept\)"
)


def test_a_full_disk_is_one_line_and_the_next_run_goes_on(demo_root, tmp_path, small_disk):
    """WORK on a 150 KB file system: the crops or the run state cannot be written; on 2 MB: extract and masks
    fit, the shards cannot (checked before HDF5 writes: it can crash natively); on 8 MB everything is made,
    from where the earlier runs stopped. Each failure: one line naming the path and the space, exit 2,
    no temporary file left, no shard file."""
    root = reals_and_deepfakes(demo_root, tmp_path / "root")
    work = small_disk("150k") / "work"
    args = prep_args("refresh", root, work, 4, 64)
    first = CliRunner().invoke(prep, args)
    assert first.exit_code == 2 and "Traceback" not in first.output, first.output
    [line] = first.output.splitlines()
    path = Path(FULL.fullmatch(line).group(1))
    assert path.is_relative_to(work) and not list(work.rglob(".tmp-*"))
    small_disk("2m")
    second = CliRunner().invoke(prep, args)
    assert second.exit_code == 2, second.output
    shards_line = f"error: {work / 'shards'}: disk full: writing 3 shards needs "
    assert second.output.splitlines()[-1].startswith(shards_line)
    assert FULL.fullmatch(second.output.splitlines()[-1])
    assert not list(work.rglob(".tmp-*")) and not list((work / "shards").glob("*.h5"))
    with RunState(WorkLayout(work).state_db) as state:
        assert sorted(r.status for r in state.records("extract")) == ["done"] * 12
        assert sorted(r.status for r in state.records("masks")) == ["done"] * 6
        assert not state.records("shards")
    small_disk("8m")
    third = CliRunner().invoke(prep, args)
    assert third.exit_code == 0, third.output
    assert third.output.startswith(
        "refresh: updated; extract 0 done / 12 skipped / 0 failed; masks 0 done / "
        "6 skipped / 0 failed; shards 3 done / 0 skipped / 0 failed"
    )
    made = sorted(p.name for p in (work / "shards").iterdir())
    assert made == ["index.json", "test-0000.h5", "train-0000.h5", "val-0000.h5"]


def test_sqlite_full_names_the_run_state_and_keeps_its_records(tmp_path):
    """SQLite's "database or disk is full" (here from a page limit: no root needed) is DiskFull naming the
    file; the write is rolled back and every earlier record stays."""
    from pipeline.engine.runstate import UnitResult
    from pipeline.store.space import DiskFull

    path = tmp_path / "state.sqlite"
    with RunState(path) as state:
        state.record("extract", UnitResult("a", "f1", "done", counts={"crops": 4}))
        pages = state._db.execute("PRAGMA page_count").fetchone()[0]
        state._db.execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises(DiskFull) as caught:
            state.record("extract", UnitResult("b", "f2", "done", data={"boxes": "x" * 100_000}))
        message = str(caught.value)
        assert message.startswith(f"{path}: disk full: recording the run state needs 116.4 KB free, ")
        assert [r.key for r in state.records("extract")] == ["a"]
        assert state.get("extract", "a").counts == {"crops": 4}


def test_a_video_read_in_part_says_so(demo_root, tmp_path):
    """A real still being copied (its header, written first, gives 10 frames; half the file is there): its
    crops come from the decodable frames, and its record, the summary line and a note say so; once the file
    is complete it is redone without the note."""
    from pipeline.kernels.video import iter_frames
    from tests.videos import truncate, write_video

    root = tmp_path / "root"
    shutil.copytree(demo_root / "splits", root / "splits")
    frames = [f for _, f in iter_frames(video_dir(demo_root, "youtube", "c23") / "000.mp4", None)]
    whole = write_video(tmp_path / "whole.mp4", frames, crf=18, faststart=True)
    copying = video_dir(root, "youtube", "c23") / "000.mp4"
    copying.parent.mkdir(parents=True)
    copying.write_bytes(whole.read_bytes())
    truncate(copying, 0.6)
    work = tmp_path / "work"
    args = prep_args("extract", root, work, 4, 48)
    first = CliRunner().invoke(prep, args)
    assert first.exit_code == 0, first.output
    line, note = first.output.splitlines()
    assert line.startswith(
        "extract: videos done 1 / skipped 0 / failed 0, 4 crops, 0 frames without a face "
        "(no crop), 1 videos read in part, "
    )
    decodable = int(re.search(r"(\d+) are decodable", note).group(1))
    assert 0 < decodable < 10
    assert note == (
        f"note: ffpp/youtube/c23/000: read in part: its header gives 10 frames, {decodable} are "
        "decodable (an incomplete file, or one still being copied); 4 of the 4 sampled frames read"
    )
    with RunState(WorkLayout(work).state_db) as state:
        record = state.get("extract", "ffpp/youtube/c23/000")
        assert record.data["note"] == note.split(": ", 2)[2] and record.counts["partial"] == 1
        assert max(record.data["frames"]) == decodable - 1
    copying.write_bytes(whole.read_bytes())
    second = CliRunner().invoke(prep, args)
    assert second.exit_code == 0 and ", 0 videos read in part, " in second.output, second.output
    assert len(second.output.splitlines()) == 1
