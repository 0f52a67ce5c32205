"""`lrl-prep blend`'s inputs: identities that do not name ROOT's reals, a tree that names none, frames of
odd size (cropped in the H.264 qualities only) and frames too small, checked before detection."""

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner
from videos import face_clip, grey_frames

from cli import prep
from pipeline.dataset.layout import mask_video_dir, video_dir
from pipeline.kernels.encode import ENCODINGS, writers
from pipeline.kernels.video import frame_size


def blend(*args):
    return CliRunner().invoke(prep, ["blend", "--jobs", "1", "--device", "cpu", *map(str, args)])


def write_raw(path, frames):
    """A lossless RGB real (libx264rgb takes odd sizes)."""
    h, w = frames[0].shape[:2]
    with writers({"raw": (path, ENCODINGS["raw"])}, w, h, Fraction(25)) as out:
        for frame in frames:
            out.write("raw", frame)


@pytest.fixture(scope="module")
def odd_root(tmp_path_factory):
    """ROOT: two reals of 321x241 in the train split, and no demo_truth.json."""
    root = tmp_path_factory.mktemp("odd")
    for real, step in (("000", 3), ("001", -3)):
        write_raw(video_dir(root, "youtube", "raw") / f"{real}.mp4", face_clip(4, 321, 241, 110, step).frames)
    (root / "splits").mkdir()
    for split, pairs in (("train", '[["000", "001"]]'), ("val", "[]"), ("test", "[]")):
        (root / "splits" / f"{split}.json").write_text(pairs)
    return root


@pytest.mark.parametrize(
    "people, message",
    [
        ({"0": "ann", "001": "ann"}, "'0' name no real of ROOT; real '000' not named"),
        ({"000": "ann", "001": "bob", "009": "cy"}, "'009' name no real of ROOT (name every real"),
        ({"identities": {"001": "ann"}}, "real '000' not named (name every real of ROOT once"),
    ],
)
def test_identities_that_miss_or_leave_out_reals_are_one_line(odd_root, tmp_path, people, message):
    path = tmp_path / "people.json"
    path.write_text(json.dumps(people))
    result = blend("--root", odd_root, "--out", tmp_path / "out", "--identities", path)
    assert result.exit_code == 2
    assert result.output == f"error: {path}: {message}" + result.output.split(message, 1)[1]
    assert len(result.output.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_odd_frames_are_cropped_in_the_h264_qualities_only_and_no_identities_is_a_note(odd_root, tmp_path):
    out = tmp_path / "out"
    result = blend("--root", odd_root, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f'note: {odd_root}: no identities (no --identities, no "identities" in demo_truth.json): '
        "every real is its own person"
    )
    swap = "000_001"
    assert frame_size(video_dir(out, "FaceSwapBlend", "raw") / f"{swap}.mp4") == (321, 241)
    assert frame_size(mask_video_dir(out, "FaceSwapBlend") / f"{swap}.mp4") == (321, 241)
    for quality in ("c23", "c40"):
        assert frame_size(video_dir(out, "FaceSwapBlend", quality) / f"{swap}.mp4") == (320, 240)


def test_frames_too_small_for_a_face_are_named_before_detection(tmp_path):
    root = tmp_path / "root"
    tiny = video_dir(root, "youtube", "raw") / "000.mp4"
    write_raw(tiny, grey_frames(3, 31, 40))
    result = blend("--root", root, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert f"failed: ffpp/youtube/000: {tiny}: frames of 31x40, too small to hold a 32-px" in result.output
