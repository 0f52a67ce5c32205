"""Inputs, faults and load, third round (issue 26): cover art, a full disk, a folder with a GIF, a file read
only in part; each kind built from nothing and run through the CLI (message, exit code, what is on disk)."""

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from cli import predict as predict_cli
from cli import prep
from pipeline.dataset.layout import video_dir
from pipeline.store.layout import WorkLayout
from tests.videos import with_cover

ARGS = ["--frames", "2", "--size", "48", "--jobs", "1", "--no-progress"]


def cover_tree(demo_root: Path, root: Path) -> Path:
    """Reals 000 and 001 and the fake 000_001 of the demo, each remuxed with a cover picture as stream 0."""
    shutil.copytree(demo_root / "splits", root / "splits")
    for method, name in (("youtube", "000"), ("youtube", "001"), ("Deepfakes", "000_001")):
        with_cover(video_dir(demo_root, method, "c23") / f"{name}.mp4", video_dir(root, method, "c23") / f"{name}.mp4")
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
    result = CliRunner().invoke(predict_cli, ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu",
                                              str(plain), str(covered)])
    assert result.exit_code == 0, result.output
    first, second = json.loads((out / "predictions.json").read_text())["inputs"]
    assert second["n_frames"] == first["n_frames"] == 10 and second["frames"] == first["frames"] == [0, 3, 6, 9]
    assert second["score"] == first["score"]
