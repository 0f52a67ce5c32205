"""The blend command's pure parts: face tracks between sampled frames, swap sources, ids and split pairs."""

import numpy as np

from pipeline.blend.faces import from_detection
from pipeline.blend.sources import choose_source, source_frames
from pipeline.blend.tree import assign_ids, split_pairs
from pipeline.store.records import Detection, Track

MARKS = [[10.0, 10.0], [20.0, 10.0], [15.0, 15.0], [11.0, 20.0], [19.0, 20.0]]


def test_extract_tracks_are_interpolated_between_sampled_faces_and_not_beyond():
    moved = (np.asarray(MARKS) + 10).tolist()
    track = Track(boxes=[[0, 0, 30, 30], [10, 10, 40, 40], None, [10, 10, 40, 40]],
                  landmarks=[MARKS, moved, None, moved], scores=[1, 1, 0, 1], interpolated=[False] * 4,
                  no_face=[False, False, True, False])
    tracks = from_detection(Detection("v.mp4", 12, 64, 48, [1, 3, 6, 9], [track]), reused="ffpp/youtube/000")
    boxes = tracks.boxes[0]
    assert boxes[0] is None and boxes[10] is None and boxes[11] is None  # before the first, after the last
    assert boxes[1] == [0, 0, 30, 30] and boxes[2] == [5, 5, 35, 35] and boxes[3] == [10, 10, 40, 40]
    assert boxes[4] is None and boxes[5] is None and boxes[7] is None  # next to a sampled frame without a face
    assert boxes[9] == [10, 10, 40, 40] and tracks.landmarks[0][2][0] == [15.0, 15.0]
    assert tracks.with_face(0) == [1, 2, 3, 9] and tracks.median_side(0) == 30


def test_the_swap_source_is_one_of_the_nearest_large_enough_faces_of_the_split():
    shape = np.zeros(10)
    candidates = {"a": (shape, 100.0), "b": (shape + 1, 100.0), "c": (shape + 2, 90.0), "d": (shape + 3, 100.0),
                  "e": (shape + 0.5, 40.0)}
    chosen = {choose_source("a", seed, candidates, 100.0)[0] for seed in range(40)}
    assert chosen == {"b", "c", "d"}  # e is nearer but under half the target's face; a is the target itself
    assert choose_source("a", 3, candidates, 100.0) == choose_source("a", 3, candidates, 100.0)
    source, why = choose_source("a", 0, {"a": (shape, 100.0), "e": (shape, 40.0)}, 100.0)
    assert source is None and why.startswith("source too small") and "e, 40 px" in why
    assert choose_source("a", 0, {"a": (shape, 100.0)}, 100.0) == (None, "no other identity in its split to take a "
                                                                           "face from")


def test_each_target_frame_takes_the_source_frame_of_nearest_pose():
    tilted = (np.asarray(MARKS) * [1.0, 1.4]).tolist()
    assert source_frames([MARKS, None, tilted], [tilted, None, MARKS]) == [2, None, 0]


def test_ffpp_ids_are_kept_others_numbered_and_splits_paired():
    assert assign_ids(["ffpp/youtube/004", "ffpp/youtube/017"]) == {"ffpp/youtube/004": "004",
                                                                    "ffpp/youtube/017": "017"}
    assert assign_ids(["celebdf/Celeb-real/id1_0002", "celebdf/Celeb-real/id0_0001"]) == {
        "celebdf/Celeb-real/id0_0001": "000", "celebdf/Celeb-real/id1_0002": "001"}
    pairs = split_pairs({"000": "train", "001": "train", "002": "train", "003": "test", "004": "none"})
    assert pairs == {"train": [["000", "001"], ["002", "002"]], "val": [], "test": [["003", "003"]]}
