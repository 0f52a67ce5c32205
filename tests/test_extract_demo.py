"""`lrl-prep extract` on the demo tree: crops pixel-aligned between fake and real, boxes on the true faces."""

import json

import cv2
import numpy as np
import pytest

from pipeline.demo.tree import demo_truth_path, make_demo
from pipeline.engine.runstate import DONE, RunState
from pipeline.kernels.detect import iou
from pipeline.kernels.video import iter_frames
from pipeline.params import CropParams, ExtractParams, Scope
from pipeline.stages.extract import DETECT, STAGE
from pipeline.store.layout import WorkLayout, frame_name
from tests.kit import run_extract as run

FRAMES, SIZE = 4, 128


@pytest.fixture(scope="module")
def demo(request, tmp_path_factory):
    """The shared demo tree when conftest provides one, else a tiny one of our own."""
    try:
        root = request.getfixturevalue("demo_root")
    except pytest.FixtureLookupError:
        root = tmp_path_factory.mktemp("demo")
        make_demo(root, seed=0, size="tiny")
    work = tmp_path_factory.mktemp("work")
    params = ExtractParams(frames=FRAMES, crop=CropParams(size=SIZE))
    summary = run(root, work, params, Scope(qualities=("raw",)), jobs=1, device="cpu", progress=False)
    with RunState(WorkLayout(work).state_db) as state:
        records, detects = state.records(STAGE), state.records(DETECT)
    return root, work, summary, records, detects


def test_every_raw_video_yields_n_crops(demo):
    _, work, summary, records, _ = demo
    assert summary.failed == 0 and summary.done == len(records) > 0
    for rec in records:
        video = rec.data["record"]
        folder = WorkLayout(work).face_dir(
            video["dataset"], video["method"], video["quality"], video["video"]
        )
        assert sorted(p.name for p in folder.glob("*.png")) == [frame_name(f) for f in rec.data["frames"]]
        assert len(rec.data["frames"]) == FRAMES and rec.status == DONE


def test_detected_boxes_match_the_true_face_boxes(demo):
    root, _, _, _, detects = demo
    truth = json.loads(demo_truth_path(root).read_text())["boxes"]
    overlaps = [
        iou(np.array(box), np.array(truth[rec.key.split("/")[-1]][frame]))
        for rec in detects
        for frame, box in zip(rec.data["frames"], rec.data["tracks"][0]["boxes"], strict=True)
    ]
    assert all(len(rec.data["tracks"]) == 1 for rec in detects)  # one person per demo video: one face
    assert len(overlaps) == len(truth) * FRAMES
    assert np.mean(np.array(overlaps) >= 0.8) >= 0.95, sorted(overlaps)[:5]


def read_crop(work, video: dict, frame: int) -> np.ndarray:
    folder = WorkLayout(work).face_dir(video["dataset"], video["method"], "raw", video["video"])
    return cv2.imread(str(folder / frame_name(frame))).astype(np.float64)


def test_fake_and_real_raw_crops_are_pixel_aligned_outside_the_true_mask(demo):
    _, work, _, records, _ = demo
    fakes = [r for r in records if r.data["record"]["label"] == 1]
    assert fakes
    for rec in fakes:
        video = rec.data["record"]
        real = {**video, "method": video["target_method"], "video": video["target"]}
        masks = dict(iter_frames(video["mask_path"], rec.data["frames"]))
        for frame, matrix in zip(rec.data["frames"], rec.data["transforms"], strict=True):
            inside = (
                cv2.warpAffine(masks[frame][..., 0], np.array(matrix), (SIZE, SIZE), flags=cv2.INTER_NEAREST)
                > 0
            )
            diff = np.abs(read_crop(work, video, frame) - read_crop(work, real, frame)).mean(axis=2) / 255
            assert diff[~inside].mean() < 2 / 255, (rec.key, frame)
            assert diff[inside].mean() > diff[~inside].mean(), (rec.key, frame)
