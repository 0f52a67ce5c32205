"""Two people in a video (pipeline.demo.crowd): a real yields two face tracks; a fake that swaps only one
face yields crops of the swapped face only, paired with the real's same face by the masks stage; a fake
without its real keeps both faces, in the shards with mask_known 0."""

import json

import cv2
import numpy as np
import pytest

from pipeline.dataset.layout import video_dir
from pipeline.demo.crowd import render_crowd, write_crowd
from pipeline.engine.runstate import RunState
from pipeline.kernels.detect import iou
from pipeline.params import CropParams, ExtractParams
from pipeline.stages import extract, masks
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.reader import ShardDataset
from tests.kit import run_extract, run_masks, run_shards

FRAMES, SAMPLED, SIZE = 8, 4, 64
REAL, FAKE, ORPHAN = "ffpp/youtube/raw/100", "ffpp/Deepfakes/raw/100_101", "ffpp/Deepfakes/raw/102_103"


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    """(truth, WORK, extract records, detect records) of a tree holding the two-person real 100, its fake
    100_101 (only person 1 swapped), and the same fake as 102_103, whose real is absent."""
    root, work = tmp_path_factory.mktemp("crowd"), tmp_path_factory.mktemp("work")
    fake = video_dir(root, "Deepfakes", "raw")
    truth = write_crowd(
        video_dir(root, "youtube", "raw") / "100.mp4", fake / "100_101.mp4", seed=0, frames=FRAMES
    )
    (fake / "102_103.mp4").write_bytes((fake / "100_101.mp4").read_bytes())
    params = ExtractParams(frames=SAMPLED, crop=CropParams(size=SIZE))
    assert run_extract(root, work, params, jobs=1, device="cpu", progress=False).failed == 0
    assert run_masks(root, work, jobs=1, progress=False).failed == 0
    assert run_shards(work, jobs=1, progress=False).failed == 0
    with RunState(WorkLayout(work).state_db) as state:
        records = {r.key: r.data for r in state.records(extract.STAGE)}
        detects = {r.key: r.data for r in state.records(extract.DETECT)}
        mask_records = {r.key: r for r in state.records(masks.STAGE)}
    return truth, work, records, detects, mask_records


def names(work, key):
    return sorted(p.name for p in (WorkLayout(work).faces / key).glob("*.png"))


def test_the_scene_swaps_one_face_only():
    scene = render_crowd(seed=0, frames=2)
    for real, fake, mask, left in zip(scene.real, scene.fake, scene.masks, scene.boxes[0], strict=True):
        x0, y0, x1, y1 = (round(v) for v in left)
        assert np.array_equal(real[y0:y1, x0:x1], fake[y0:y1, x0:x1]) and not mask[y0:y1, x0:x1].any()
        assert mask.mean() > 0.01


def test_a_real_with_two_people_yields_two_tracks_and_crops_of_both(crowd):
    truth, work, records, detects, _ = crowd
    det = detects["ffpp/youtube/100"]
    assert len(det["tracks"]) == 2
    for face in (0, 1):  # face 0, the heavier track, is the larger person on the left
        boxes = det["tracks"][face]["boxes"]
        assert all(
            iou(np.array(b), np.array(truth.boxes[face][f])) >= 0.7
            for f, b in zip(det["frames"], boxes, strict=True)
        )
    real = records[REAL]
    assert sorted(zip(real["frames"], real["faces"], strict=True)) == [
        (f, k) for f in det["frames"] for k in (0, 1)
    ]
    assert names(work, REAL) == sorted(frame_name(f, k) for f in det["frames"] for k in (0, 1))


def test_a_fake_that_swaps_one_face_yields_crops_of_the_swapped_face_only(crowd):
    _, work, records, detects, _ = crowd
    fake, real = records[FAKE], records[REAL]
    frames = detects["ffpp/youtube/100"]["frames"]
    assert fake["faces"] == [1] * SAMPLED and fake["frames"] == frames
    assert names(work, FAKE) == [frame_name(f, 1) for f in frames]
    untouched, swapped = fake["differences"]
    assert untouched < 0.5 and swapped > 10 * max(untouched, 0.1), fake["differences"]
    crops = [
        (c, t) for c, k, t in zip(real["frames"], real["faces"], real["transforms"], strict=True) if k == 1
    ]
    assert fake["transforms"] == [t for _, t in crops]  # cropped with the real's face-1 track


def test_masks_pair_the_fake_face_with_the_same_face_of_its_real(crowd):
    _, work, _, _, mask_records = crowd
    rec = mask_records[FAKE]
    assert rec.ok and rec.data["faces"] == [1] * SAMPLED and rec.data["mean_area"] > 0.05
    folder = WorkLayout(work).masks / FAKE
    for frame in rec.data["frames"]:
        assert (cv2.imread(str(folder / frame_name(frame, 1)), cv2.IMREAD_GRAYSCALE) > 0).mean() > 0.05
    assert mask_records[ORPHAN].status == "no_mask"


def test_shards_carry_the_face_ids_and_whether_the_mask_is_known(crowd):
    _, work, records, _, _ = crowd
    index = json.loads((WorkLayout(work).shard_index).read_text())
    assert index["schema_version"] == 2 and list(index["mask_unknown"]) == [ORPHAN]
    seen = {}
    for split in index["splits"]:
        ds = ShardDataset(WorkLayout(work).shards, split)
        for i in range(len(ds)):
            s = ds[i]
            seen.setdefault(s["key"], set()).add((s["face"], s["mask_known"], bool(s["mask"].any())))
    assert seen[REAL] == {(0, True, False), (1, True, False)}
    assert seen[FAKE] == {(1, True, True)}
    assert seen[ORPHAN] == {(0, False, False), (1, False, False)}  # no real: every face, mask unknown
    assert sorted(set(records[ORPHAN]["faces"])) == [0, 1] and records[ORPHAN]["differences"] == []
