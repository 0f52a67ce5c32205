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


def animated_gif(path: Path, frames) -> Path:
    import av

    with av.open(str(path), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=5)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "rgb8"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="rgb8")))
        out.mux(stream.encode(None))
    return path


def test_a_folder_gives_what_index_would_take_and_names_what_it_skips(demo_root, tiny_run, tmp_path,
                                                                      one_torch_thread):
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
    result = CliRunner().invoke(predict_cli, ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu",
                                              str(folder)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert sorted(line for line in lines if line.startswith(("failed", "skipped"))) == [
        f"failed {folder / 'sub' / 'empty.mov'}: empty file (0 bytes)",
        f"failed {folder / 'sub' / 'gone.mp4'}: broken symbolic link (its target {tmp_path / 'nowhere.mp4'} does "
        "not exist)",
        f"skipped {folder / '.DS_Store'}: hidden (its name starts with a dot; lrl-prep index skips these too)",
        f"skipped {folder / 'notes.txt'}: not a container PyAV can open (Invalid data found when processing input)",
    ]
    assert lines[-1].startswith("predict: 3 scored / 2 failed / 2 skipped;")
    doc = json.loads((out / "predictions.json").read_text())
    scored = {Path(r["path"]).name: r for r in doc["inputs"] if r["score"] is not None}
    assert sorted(scored) == ["a.mp4", "b.JPG", "c.gif"]
    assert scored["c.gif"]["kind"] == "video" and scored["c.gif"]["n_frames"] == 10 and scored["b.JPG"]["kind"] == "image"
    assert sorted(Path(s["path"]).name for s in doc["skipped"]) == [".DS_Store", "notes.txt"]
