"""The blend command's pure parts: face tracks between sampled frames, swap sources, ids and split pairs."""

import numpy as np
import pytest

from pipeline.blend.faces import from_detection
from pipeline.blend.sources import choose_source, source_frames
from pipeline.blend.tree import assign_ids, split_pairs
from pipeline.store.records import Detection, Track

MARKS = [[10.0, 10.0], [20.0, 10.0], [15.0, 15.0], [11.0, 20.0], [19.0, 20.0]]


def test_extract_tracks_are_interpolated_between_sampled_faces_and_not_beyond():
    moved = (np.asarray(MARKS) + 10).tolist()
    track = Track(
        boxes=[[0, 0, 30, 30], [10, 10, 40, 40], None, [10, 10, 40, 40]],
        landmarks=[MARKS, moved, None, moved],
        scores=[1, 1, 0, 1],
        interpolated=[False] * 4,
        no_face=[False, False, True, False],
    )
    tracks = from_detection(Detection("v.mp4", 12, 64, 48, [1, 3, 6, 9], [track]), reused="ffpp/youtube/000")
    boxes = tracks.boxes[0]
    assert boxes[0] is None and boxes[10] is None and boxes[11] is None  # before the first, after the last
    assert boxes[1] == [0, 0, 30, 30] and boxes[2] == [5, 5, 35, 35] and boxes[3] == [10, 10, 40, 40]
    assert (
        boxes[4] is None and boxes[5] is None and boxes[7] is None
    )  # next to a sampled frame without a face
    assert boxes[9] == [10, 10, 40, 40] and tracks.landmarks[0][2][0] == [15.0, 15.0]
    assert tracks.with_face(0) == [1, 2, 3, 9] and tracks.median_side(0) == 30


def test_the_swap_source_is_one_of_the_nearest_large_enough_faces_of_the_split():
    shape = np.zeros(10)
    candidates = {
        "a": (shape, 100.0),
        "b": (shape + 1, 100.0),
        "c": (shape + 2, 90.0),
        "d": (shape + 3, 100.0),
        "e": (shape + 0.5, 40.0),
    }
    chosen = {choose_source("a", seed, candidates, 100.0)[0] for seed in range(40)}
    assert chosen == {"b", "c", "d"}  # e is nearer but under half the target's face; a is the target itself
    assert choose_source("a", 3, candidates, 100.0) == choose_source("a", 3, candidates, 100.0)
    source, why = choose_source("a", 0, {"a": (shape, 100.0), "e": (shape, 40.0)}, 100.0)
    assert source is None and why.startswith("source too small") and "e, 40 px" in why
    assert choose_source("a", 0, {"a": (shape, 100.0)}, 100.0) == (
        None,
        "no other identity in its split to take a face from",
    )


def test_each_target_frame_takes_the_source_frame_of_nearest_pose():
    tilted = (np.asarray(MARKS) * [1.0, 1.4]).tolist()
    assert source_frames([MARKS, None, tilted], [tilted, None, MARKS]) == [2, None, 0]


def test_ffpp_ids_are_kept_others_numbered_and_splits_paired():
    assert assign_ids(["ffpp/youtube/004", "ffpp/youtube/017"]) == {
        "ffpp/youtube/004": "004",
        "ffpp/youtube/017": "017",
    }
    assert assign_ids(["celebdf/Celeb-real/id1_0002", "celebdf/Celeb-real/id0_0001"]) == {
        "celebdf/Celeb-real/id0_0001": "000",
        "celebdf/Celeb-real/id1_0002": "001",
    }
    pairs = split_pairs({"000": "train", "001": "train", "002": "train", "003": "test", "004": "none"})
    assert pairs == {"train": [["000", "001"], ["002", "002"]], "val": [], "test": [["003", "003"]]}


def test_identities_come_from_a_file_or_the_demo_truth_and_bad_files_are_named(tmp_path):
    from pipeline.blend.identities import read_identities, same_person
    from pipeline.errors import LrlError

    assert read_identities(tmp_path) == {}  # no demo_truth.json: every real its own person
    (tmp_path / "demo_truth.json").write_text('{"seed": 0, "fakes": {"000_001": {}}}')
    assert read_identities(tmp_path) == {}  # the built-in demo's truth names none (was: refused)
    (tmp_path / "demo_truth.json").write_text('{"identities": {"000": "ann", "001": "ann", "002": "bob"}}')
    people = read_identities(tmp_path)
    assert people == {"000": "ann", "001": "ann", "002": "bob"}
    assert same_person(people, "000", "001") and not same_person(people, "000", "002")
    assert same_person({}, "007", "007") and not same_person({}, "007", "008")
    plain = tmp_path / "people.json"
    plain.write_text('{"000": "cy"}')
    assert read_identities(tmp_path, plain) == {"000": "cy"}
    plain.write_text('["000"]')
    with pytest.raises(LrlError, match="people.json: identities must be a JSON object"):
        read_identities(tmp_path, plain)
    plain.write_text("{")
    with pytest.raises(LrlError, match="people.json: cannot read identities"):
        read_identities(tmp_path, plain)


def test_a_swap_never_takes_the_face_of_another_clip_of_the_same_person():
    from pipeline.blend.faces import FaceTracks
    from pipeline.blend.run import Reals, _swap_source
    from pipeline.store.records import VideoRecord

    def real(video):
        return VideoRecord(
            "ffpp", "youtube", "raw", video, f"/r/{video}.mp4", 0, video, "youtube", None, None, "train"
        )

    tracks = FaceTracks("v", 1, 64, 48, [[[0, 0, 40, 40]]], [[MARKS]]).to_dict()
    best = {f"ffpp/youtube/{v}": real(v) for v in ("000", "001", "002")}
    done = {k: tracks for k in best}
    mixed = Reals(best, {k: k[-3:] for k in best}, {"000": "ann", "001": "ann", "002": "bob"})
    assert {_swap_source(mixed, "ffpp/youtube/000", done, s)[0] for s in range(20)} == {"ffpp/youtube/002"}
    alone = Reals(best, {k: k[-3:] for k in best}, {"000": "ann", "001": "ann", "002": "ann"})
    assert _swap_source(alone, "ffpp/youtube/000", done, 0) == (
        None,
        "no other identity in its split to take a face from (its reals 001, 002 are the same person) "
        "(split train)",
    )


def test_a_swap_without_a_source_names_the_refused_reals_and_why():
    from pipeline.blend.faces import FaceTracks
    from pipeline.blend.run import Reals, _swap_source
    from pipeline.store.records import VideoRecord

    def real(video):
        return VideoRecord(
            "ffpp", "youtube", "raw", video, f"/r/{video}.mp4", 0, video, "youtube", None, None, "train"
        )

    best = {f"ffpp/youtube/{v}": real(v) for v in ("000", "001", "002")}
    done = {"ffpp/youtube/000": FaceTracks("v", 1, 64, 48, [[[0, 0, 40, 40]]], [[MARKS]]).to_dict()}
    reasons = {
        "ffpp/youtube/001": "face detection failed: /r/001.mp4: face too small to blend",
        "ffpp/youtube/002": "face detection failed: /r/002.mp4: no face track",
    }
    reals = Reals(best, {k: k[-3:] for k in best})
    assert _swap_source(reals, "ffpp/youtube/000", done, 0, reasons) == (
        None,
        "every other identity of its split was refused (001: face detection failed: /r/001.mp4: face too "
        "small to blend; 002: face detection failed: /r/002.mp4: no face track) (split train)",
    )
    lone = Reals({"ffpp/youtube/000": best["ffpp/youtube/000"]}, {"ffpp/youtube/000": "000"})
    assert _swap_source(lone, "ffpp/youtube/000", done, 0)[1] == (
        "no other real in its split to take a face from (split train)"
    )
