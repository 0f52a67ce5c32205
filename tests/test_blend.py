"""`lrl-prep blend` end to end on the tiny demo's reals, plus one real without a face (bad input)."""

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from videos import grey_frames, write_video

from cli import prep
from pipeline.dataset.adapters import scan
from pipeline.dataset.layout import FFPP_QUALITIES, mask_video_dir, video_dir
from pipeline.kernels.video import iter_frames

REALS = ("000", "001", "002", "003", "004", "005")


def blend(*args):
    return CliRunner().invoke(prep, ["blend", "--jobs", "1", "--device", "cpu", *map(str, args)])


def tree_files(root: Path) -> dict[str, int]:
    """Every file and link of a tree (the run state left out) with its mtime."""
    return {
        str(p.relative_to(root)): os.lstat(p).st_mtime_ns
        for p in root.rglob("*")
        if ".blend" not in p.parts and not p.is_dir()
    }


@pytest.fixture(scope="module")
def blended(demo_root, tmp_path_factory):
    """ROOT: the tiny demo's reals (linked) and real 099, a grey video without a face; OUT after one blend."""
    root = tmp_path_factory.mktemp("reals")
    for q in FFPP_QUALITIES:
        for real in REALS:
            path = video_dir(root, "youtube", q) / f"{real}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(video_dir(demo_root, "youtube", q) / f"{real}.mp4")
    write_video(video_dir(root, "youtube", "c23") / "099.mp4", grey_frames(6, 96, 64), crf=23)
    (root / "splits").symlink_to(demo_root / "splits")
    out = tmp_path_factory.mktemp("blended")
    first = blend("--root", root, "--out", out)
    return root, out, first


def test_the_tree_has_ffpp_shape_linked_reals_and_a_fake_per_method(blended, demo_root):
    _, out, first = blended
    for q in FFPP_QUALITIES:
        for real in REALS:
            link = video_dir(out, "youtube", q) / f"{real}.mp4"
            assert (
                link.is_symlink()
                and link.resolve() == (video_dir(demo_root, "youtube", q) / f"{real}.mp4").resolve()
            )
    index = scan(out)
    assert not index.problems
    fakes = {(r.method, r.video) for r in index.records if r.is_fake}
    splits = {r.video: r.split for r in index.records if not r.is_fake}
    selfs = {v for m, v in fakes if m == "SelfBlend"}
    swaps = {v for m, v in fakes if m == "FaceSwapBlend"}
    assert selfs == {f"{a}_{a}" for a in REALS}
    assert {v.split("_")[0] for v in swaps} == set(REALS)
    for record in index.records:
        if record.is_fake:
            assert record.quality in FFPP_QUALITIES and record.split == splits[record.target]
            assert record.mask_path == str(mask_video_dir(out, record.method) / f"{record.video}.mp4")
            if record.method == "FaceSwapBlend":  # another identity of the same split
                assert record.source != record.target and splits[record.source] == splits[record.target]
    assert "fakes done 12 / skipped 0 / failed 2" in first.output


def test_masks_are_soft_and_the_fake_changes_only_where_its_mask_is_not_zero(blended):
    root, out, _ = blended
    for method, name in (
        ("SelfBlend", "002_002"),
        ("FaceSwapBlend", next(p.stem for p in (video_dir(out, "FaceSwapBlend", "raw")).glob("002_*"))),
    ):
        mask = dict(iter_frames(mask_video_dir(out, method) / f"{name}.mp4", [5]))[5][..., 0]
        fake = dict(iter_frames(video_dir(out, method, "raw") / f"{name}.mp4", [5]))[5]
        real = dict(iter_frames(video_dir(root, "youtube", "raw") / "002.mp4", [5]))[5]
        assert mask.max() == 255 and ((mask > 0) & (mask < 255)).sum() > 500  # a soft edge, not a step
        assert np.array_equal(fake[mask == 0], real[mask == 0])  # raw is lossless
        assert np.abs(fake.astype(int) - real)[mask == 255].mean() > 1


def test_a_real_without_a_face_is_named_and_the_run_exits_1(blended):
    _, _, first = blended
    assert first.exit_code == 1
    failed = [line for line in first.output.splitlines() if line.startswith("failed:")]
    assert any("ffpp/youtube/099" in line and "no face" in line for line in failed)
    assert any(line.startswith("failed: SelfBlend/099_099: face detection failed") for line in failed)


def test_a_second_run_writes_nothing(blended):
    root, out, _ = blended
    before = tree_files(out)
    again = blend("--root", root, "--out", out)
    assert (
        "fakes done 0 / skipped 12 / failed 2" in again.output
        and ", 0 links and files written" in again.output
    )
    assert tree_files(out) == before


def test_out_inside_root_is_refused(blended):
    root, _, _ = blended
    result = blend("--root", root, "--out", root / "blended")
    assert result.exit_code == 2 and "inside --root" in result.output
