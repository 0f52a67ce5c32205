"""Fakes whose frames are their real's cropped or padded by a few pixels (FF++ Face2Face / NeuralTextures:
cropped centred to a multiple of 32; Celeb-DF: padded on the right to a multiple of 16)."""

import cv2
import numpy as np
import pytest
from videos import face_clip, forge, write_video

from pipeline.dataset.layout import mask_video_dir, video_dir
from pipeline.engine.runstate import DONE, FAILED, RunState
from pipeline.kernels.align import MIN_MATCHING, Offset, find_offset, own_transform, place
from pipeline.params import CropParams, ExtractParams, MasksParams
from pipeline.stages import extract, masks, report
from pipeline.stages.status import status_report
from pipeline.store.layout import WorkLayout, frame_name
from tests.kit import run_extract, run_masks

FRAMES, SIZE = 4, 64
REAL = face_clip(8, 342, 240, face=140, step=6)  # 342 px: not a multiple of 32
FAKE, FAKE_MASKS = forge(REAL)
CROPPED = [f[:, 11:331] for f in FAKE]  # centred to 320 px, as FF++ Face2Face does: offset 11
PADDED = [cv2.copyMakeBorder(f, 0, 0, 0, 10, cv2.BORDER_CONSTANT) for f in FAKE]  # right to 352: offset 0
OTHER = face_clip(8, 320, 240, face=120, step=-5)  # a video of another scene, the cropped one's size


def test_find_offset_on_hand_made_frames():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 60), dtype=np.uint8)
    crop = real[3:37, 5:55].copy()
    crop[10:20, 10:20] = 0  # a forged patch: the rest still matches
    assert find_offset([crop], [real]) == Offset(5, 3, pytest.approx(0.94, abs=0.01))
    padded = np.pad(real, ((0, 2), (4, 0)))  # 4 columns on the left, 2 rows below
    offset = find_offset([padded], [real])
    assert (offset.x, offset.y, offset.matching) == (-4, 0, 1.0) and offset.ok
    other = rng.integers(0, 256, (34, 50), dtype=np.uint8)
    assert find_offset([other], [real]).matching < MIN_MATCHING
    assert find_offset([real[:, :-65]], [np.zeros((40, 130), np.uint8)]) is None  # 65 px: not a crop


def test_place_fills_from_the_background_and_transforms_follow():
    real = np.arange(24, dtype=np.uint8).reshape(4, 6)
    fake = np.full((4, 4), 99, np.uint8)
    out = place(fake, Offset(1, 0, 1.0), real)
    assert out[:, 1:5].tolist() == [[99] * 4] * 4 and out[:, [0, 5]].tolist() == real[:, [0, 5]].tolist()
    assert place(np.full((5, 7), 7, np.uint8), Offset(0, -1, 1.0), real).tolist() == [[7] * 6] * 4
    matrix = [[0.5, 0, -10], [0, 0.5, -20]]  # real pixel (x, y) -> crop (x / 2 - 10, y / 2 - 20)
    # fake pixel (4, 6) is real pixel (15, 6): crop (-2.5, -17)
    assert own_transform(matrix, (11, 0)) @ [4, 6, 1] == pytest.approx([-2.5, -17])


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("ffpp")
    write_video(video_dir(root, "youtube", "raw") / "014.mp4", REAL.frames)
    write_video(video_dir(root, "Face2Face", "raw") / "014_015.mp4", CROPPED)
    write_video(video_dir(root, "Deepfakes", "raw") / "014_015.mp4", PADDED)
    write_video(video_dir(root, "FaceSwap", "raw") / "014_015.mp4", OTHER.frames)
    write_video(video_dir(root, "NeuralTextures", "raw") / "014_015.mp4", FAKE[:2])  # ends in 2 of 8
    cut_masks = [np.dstack([m[:, 11:331]] * 3) for m in FAKE_MASKS]
    write_video(mask_video_dir(root, "Face2Face") / "014_015.mp4", cut_masks)
    out = tmp_path_factory.mktemp("work")
    params = ExtractParams(FRAMES, CropParams(size=SIZE))
    summary = run_extract(root, out, params)
    return root, out, summary


def records(out, stage):
    with RunState(WorkLayout(out).state_db) as state:
        return {r.key: r for r in state.records(stage)}


def crops(out, key):
    folder = WorkLayout(out).faces / key
    return {int(p.name[:6]): cv2.imread(str(p)).astype(int) for p in sorted(folder.glob("*.png"))}


def test_cropped_and_padded_fakes_are_read_aligned_to_their_real(work):
    _, out, _ = work
    recs = records(out, extract.STAGE)
    real = recs["ffpp/youtube/raw/014"]
    for method, offset in (("Face2Face", [11, 0]), ("Deepfakes", [0, 0])):
        rec = recs[f"ffpp/{method}/raw/014_015"]
        assert rec.status == DONE and rec.data["offset"] == offset, rec.reason
        assert rec.data["frames"] == real.data["frames"] and rec.data["transforms"] == real.data["transforms"]
        fake, ref = crops(out, rec.key), crops(out, real.key)
        for frame, matrix in zip(rec.data["frames"], rec.data["transforms"], strict=True):
            mask = cv2.warpAffine(FAKE_MASKS[frame], np.array(matrix), (SIZE, SIZE)) > 0
            diff = np.abs(fake[frame] - ref[frame]).mean(axis=2)
            assert diff[~mask].mean() < 2 and diff[mask].mean() > 20, (method, frame)
    assert real.data["offset"] == [0, 0]


def test_a_fake_no_shift_matches_is_refused_in_one_line_naming_both_files(work):
    root, out, _ = work
    rec = records(out, extract.STAGE)["ffpp/FaceSwap/raw/014_015"]
    assert rec.status == FAILED and "\n" not in rec.reason
    real = video_dir(root, "youtube", "raw") / "014.mp4"
    fake = video_dir(root, "FaceSwap", "raw") / "014_015.mp4"
    assert rec.reason == (
        f"{fake}: frames are 320x240, {real} (detected on) 342x240: no shift of one within the other matches"
    )


def test_official_masks_of_a_cropped_fake_use_the_same_alignment(work):
    root, out, _ = work
    run_masks(root, out, MasksParams(source="official"))
    rec = records(out, masks.STAGE)["ffpp/Face2Face/raw/014_015"]
    assert rec.status == DONE, rec.reason
    crop_rec = records(out, extract.STAGE)[rec.key].data
    for frame, matrix in zip(crop_rec["frames"], crop_rec["transforms"], strict=True):
        truth = cv2.warpAffine(FAKE_MASKS[frame], np.array(matrix), (SIZE, SIZE)) > 127
        made = cv2.imread(str(WorkLayout(out).masks / rec.key / frame_name(frame, 0)), 0) > 0
        assert (made != truth).mean() < 0.02, frame


def test_a_fake_with_far_fewer_crops_than_its_real_is_a_counted_named_problem(work, tmp_path):
    _, out, summary = work
    rec = records(out, extract.STAGE)["ffpp/NeuralTextures/raw/014_015"]
    # too short (2 of 8 frames) to shorten its real's sampling: 1 of the 4 sampled frames is in it
    assert rec.status == DONE and rec.data["frames"] == [0] and rec.counts["few_crops"] == 1
    assert records(out, extract.STAGE)["ffpp/youtube/raw/014"].data["frames"] == [0, 2, 5, 7]  # all 8
    assert rec.data["note"] == "far fewer crops than its real: 1, its real 4 of its most seen face"
    assert ", 1 fakes with far fewer crops than their real" in summary.line()
    assert (rec.key, rec.data["note"]) in summary.remarks  # printed as `note: KEY: ...`
    line = next(x for x in status_report(out).splitlines() if x.startswith("extract"))
    assert line.endswith("  1 fakes with far fewer crops than their real")
    assert ", 1 fakes with far fewer crops than their real, " in report.run(out, tmp_path)
    section = (tmp_path / "index.html").read_text().split("far fewer crops than their real</h2>")[1]
    assert rec.key in section.split("<h2>")[0]
    assert all(not r.counts.get("few_crops") for k, r in records(out, extract.STAGE).items() if k != rec.key)
