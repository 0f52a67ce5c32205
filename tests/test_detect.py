"""Face tracking maths (hand-computed values) and the MTCNN wrapper's rescaling on a real photograph."""

import numpy as np
import pytest
from videos import face_at_right_edge, face_clip

from pipeline.errors import LrlError
from pipeline.kernels.detect import (
    FrameFaces,
    detection_scale,
    fill_gaps,
    fillable,
    get_mtcnn,
    iou,
    link_tracks,
    mtcnn_faces,
    same_face,
    shrink,
    smooth_over_time,
    track_faces,
)
from pipeline.params import DetectParams

SHORT = 480  # short side of the frames of the hand-made detections


def track_face(frame_indices, frames, sigma, max_gap=2):
    """Face 0 (the heaviest track): what a one-face video keeps."""
    return track_faces(frame_indices, frames, DetectParams(smooth_sigma=sigma, max_gap=max_gap), SHORT)[0]


def faces(*boxes, score=0.99):
    """FrameFaces from boxes; landmarks at each box's corners and centre, to follow them through."""
    b = np.array(boxes, float).reshape(-1, 4)
    marks = np.stack(
        [
            np.stack(
                [b[:, [0, 1]], b[:, [2, 1]], (b[:, :2] + b[:, 2:]) / 2, b[:, [0, 3]], b[:, [2, 3]]], axis=1
            )
        ]
    ).reshape(-1, 5, 2)
    return FrameFaces(b, np.full(len(b), score), marks)


def test_iou_hand_values():
    assert iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert iou(np.array([0, 0, 10, 10]), np.array([20, 20, 30, 30])) == 0.0
    assert iou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == 1.0


def test_same_face_allows_moves_of_a_face_side_and_a_zoom_only():
    prev = np.array([100, 100, 200, 200.0])
    assert same_face(prev, prev + [90, 120, 90, 120], 1.5, 2.0) == pytest.approx(1.5)  # 150 px: 1.5 sides
    assert same_face(prev, prev + [91, 120, 91, 120], 1.5, 2.0) is None
    assert same_face(prev, np.array([110, 110, 190, 190.0]), 1.5, 2.0) == 0.0  # 0.8x the side
    assert same_face(prev, np.array([50, 50, 250, 250.0]), 1.5, 2.0) == 0.0  # zoomed in 2x
    assert same_face(prev, np.array([40, 40, 260, 260.0]), 1.5, 2.0) is None  # 2.2x
    assert same_face(prev, np.array([130, 130, 170, 170.0]), 1.5, 2.0) is None  # 0.4x


def test_a_face_moving_a_side_per_sampled_frame_and_zooming_is_one_track():
    box = np.array([100, 100, 200, 200.0])
    moving = [faces(box + [120 * i, 0, 120 * i, 0]) for i in range(6)]  # 1.2 sides per sampled frame
    assert link_tracks(moving) == [[(i, 0) for i in range(6)]]
    zoom = [faces(np.array([300 - 40 * i, 200 - 40 * i, 400 + 40 * i, 300 + 40 * i])) for i in range(5)]
    assert link_tracks(zoom) == [[(i, 0) for i in range(5)]]  # 100 px -> 420 px, 1.8x per frame at most
    params, frames = DetectParams(), list(range(0, 60, 10))
    moving[3] = faces(box + [360, 0, 360, 0], [30, 400, 50, 420])  # a spurious small face once
    [track] = track_faces(frames, moving, params, 720)
    assert not track.no_face.any() and track.boxes[5] == pytest.approx(box + [600, 0, 600, 0], abs=60)


def test_a_second_box_on_the_same_face_never_starts_a_track():
    box = np.array([100, 100, 200, 200.0])
    frames = [faces(box), faces(box + 5, box + [40, 0, 40, 0]), faces(box + [30, 20, 30, 20], box + 10)]
    assert link_tracks(frames) == [[(0, 0), (1, 0), (2, 1)]]  # IoU 0.43 and 0.56 with the face's box
    frames.append(faces(box, box + [300, 0, 300, 0]))  # another face beside it: a track of its own
    assert link_tracks(frames)[1:] == [[(3, 1)]]


def test_two_people_stay_two_tracks_the_closest_continuation_first():
    left, right = np.array([100, 100, 300, 300.0]), np.array([800, 100, 1000, 300.0])
    frames = [faces(left, right), faces(right + [-150, 0, -150, 0], left + [150, 0, 150, 0])]
    assert sorted(link_tracks(frames)) == [[(0, 0), (1, 1)], [(0, 1), (1, 0)]]
    frames.append(faces(left + [300, 0, 300, 0]))  # one of them: closer to the left one's last box
    assert sorted(link_tracks(frames)) == [[(0, 0), (1, 1), (2, 0)], [(0, 1), (1, 0)]]


def test_link_tracks_follows_two_faces_and_opens_a_track_for_a_newcomer():
    big, small = np.array([300, 100, 400, 220.0]), np.array([20, 20, 60, 70.0])
    frames = [faces(big, small), faces(small + 3, big + 10), faces(big + 20, small + 5, [500, 300, 540, 350])]
    tracks = link_tracks(frames)
    assert sorted(tracks) == sorted([[(0, 0), (1, 1), (2, 0)], [(0, 1), (1, 0), (2, 1)], [(2, 2)]])


def test_smooth_over_time_hand_value_and_no_effect_across_far_frames():
    values = np.array([[0.0], [3.0], [0.0]])
    w = np.exp(-0.5)  # neighbours one frame away, sigma 1
    near = smooth_over_time(np.array([0, 1, 2]), values, 1.0)
    assert near[1, 0] == pytest.approx(3 / (1 + 2 * w))
    far = smooth_over_time(np.array([0, 10, 20]), values, 1.0)
    assert far == pytest.approx(values, abs=1e-12)
    assert smooth_over_time(np.array([0, 1, 2]), values, 0.0) == pytest.approx(values)


def test_fillable_only_between_two_detections_and_up_to_the_gap():
    known = np.array([0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0], bool)
    assert fillable(known, 2).astype(int).tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0]  # 3-frame gap: no
    assert fillable(known, 3).astype(int).tolist() == [0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0]
    assert not fillable(known, 0).any() and not fillable(np.zeros(4, bool), 2).any()


def test_fill_gaps_interpolates_over_frame_index_and_leaves_the_ends_empty():
    frames = np.array([0, 10, 20, 40, 50])
    known = np.array([False, True, False, True, False])
    values = np.array([[0.0], [10.0], [0.0], [40.0], [0.0]])
    out = fill_gaps(frames, known, values, fillable(known, 2))[:, 0]
    assert out[1:4].tolist() == [10.0, 20.0, 40.0] and np.isnan(out[[0, 4]]).all()


def test_track_face_keeps_the_large_consistent_face_and_interpolates_its_gaps():
    big = np.array([300, 100, 400, 220.0])
    small = np.array([20, 20, 60, 70.0])
    step = np.array([10, 0, 10, 0.0])
    frames = [faces(big, small), faces(small), faces(big + 2 * step, small), faces(big + 3 * step, small)]
    track = track_face([0, 10, 20, 30], frames, sigma=0.0)
    assert track.interpolated.tolist() == [False, True, False, False] and not track.no_face.any()
    assert track.boxes[1] == pytest.approx(big + step)  # halfway between frames 0 and 20
    assert track.boxes[3] == pytest.approx(big + 3 * step)
    assert track.scores.tolist() == pytest.approx([0.99, 0.0, 0.99, 0.99])
    assert track.landmarks[1, 2] == pytest.approx([360, 160])  # centre point of the interpolated box


def test_track_face_prefers_presence_over_one_big_flash():
    steady, flash = np.array([100, 100, 160, 170.0]), np.array([300, 100, 420, 240.0])
    frames = [faces(steady, flash)] + [faces(steady)] * 5
    track = track_face(list(range(6)), frames, sigma=0.0)
    assert track.boxes[0] == pytest.approx(steady) and not track.interpolated.any()


def test_a_face_entering_late_leaves_the_frames_before_without_a_face():
    box = np.array([300, 100, 400, 220.0])
    frames = [FrameFaces()] * 3 + [faces(box), FrameFaces(), faces(box + 4), FrameFaces()]
    track = track_face(list(range(7)), frames, sigma=0.0, max_gap=1)
    assert track.no_face.tolist() == [True, True, True, False, False, False, True]
    assert track.interpolated.tolist() == [False, False, False, False, True, False, False]
    assert np.isnan(track.boxes[[0, 1, 2, 6]]).all() and track.boxes[4] == pytest.approx(box + 2)
    assert np.isnan(track.landmarks[0]).all() and track.scores[:3].tolist() == [0, 0, 0]


def test_a_gap_longer_than_max_gap_is_no_face():
    box = np.array([300, 100, 400, 220.0])
    frames = [faces(box)] + [FrameFaces()] * 3 + [faces(box)]
    track = track_face(list(range(5)), frames, sigma=0.0, max_gap=2)
    assert track.no_face.tolist() == [False, True, True, True, False] and not track.interpolated.any()


def test_track_face_without_any_face_says_so():
    with pytest.raises(LrlError, match="no face detected in any of the 3 sampled frames"):
        track_face([0, 1, 2], [FrameFaces()] * 3, sigma=2.0)


def test_every_track_above_presence_score_and_size_is_a_face_heaviest_first():
    big, other = np.array([300, 100, 420, 240.0]), np.array([20, 20, 100, 110.0])  # sides 140, 90 px
    frames = [faces(big, other)] * 3 + [faces(big), faces(big), faces(big, other)]
    tracks = track_faces(list(range(6)), frames, DetectParams(smooth_sigma=0.0, max_gap=0), SHORT)
    assert len(tracks) == 2 and tracks[0].boxes[4] == pytest.approx(big)
    assert tracks[1].no_face.tolist() == [False, False, False, True, True, False]
    assert tracks[1].boxes[5] == pytest.approx(other) and tracks[1].scores[0] == 0.99


@pytest.mark.parametrize(
    "what, params",
    [
        ("seen in 2 of 8 sampled frames (0.25) < 0.3", DetectParams(smooth_sigma=0, min_track_seen=0.3)),
        ("mean score 0.99 < 0.995", DetectParams(smooth_sigma=0, min_track_score=0.995)),
        ("median side 90 / 480 = 0.1875 < 0.19", DetectParams(smooth_sigma=0, min_track_side=0.19)),
    ],
)
def test_a_second_track_below_a_threshold_is_not_a_face(what, params):
    big, other = np.array([300, 100, 420, 240.0]), np.array([20, 20, 100, 110.0])
    frames = [faces(big, other)] * 2 + [faces(big)] * 6
    assert (
        len(track_faces(list(range(8)), frames, DetectParams(smooth_sigma=0), SHORT)) == 2
    )  # defaults keep it
    assert len(track_faces(list(range(8)), frames, params, SHORT)) == 1, what


def test_the_heaviest_track_is_kept_even_below_the_thresholds():
    frames = [faces([20, 20, 40, 45.0], score=0.92)] + [FrameFaces()] * 9
    tracks = track_faces(list(range(10)), frames, DetectParams(smooth_sigma=0), SHORT)
    assert len(tracks) == 1 and tracks[0].no_face.tolist() == [False] + [True] * 9


def test_confident_drops_weak_candidates():
    f = FrameFaces(np.array([[0, 0, 10, 10], [5, 5, 20, 20.0]]), np.array([0.95, 0.5]), np.zeros((2, 5, 2)))
    kept = f.confident(0.9)
    assert kept.scores.tolist() == [0.95] and kept.boxes.shape == (1, 4) and kept.landmarks.shape == (1, 5, 2)


def test_detection_scale_brings_the_short_side_down_never_up():
    assert detection_scale(720, 1280, 240) == pytest.approx(1 / 3)
    assert detection_scale(240, 320, 240) == 1.0
    assert detection_scale(100, 100, 240) == 1.0
    assert shrink(np.zeros((480, 640, 3), np.uint8), 0.5).shape == (240, 320, 3)


def test_mtcnn_boxes_on_downscaled_frames_come_back_in_full_resolution_pixels():
    clip = face_clip(2, 640, 480, face=200)
    detector = get_mtcnn("cpu", DetectParams())
    small = [shrink(f, 0.5) for f in clip.frames]
    found = mtcnn_faces(detector, small, 640, 480, batch=2)
    for frame_faces, truth in zip(found, clip.boxes, strict=True):
        best = frame_faces.confident(0.9)
        assert len(best.scores) == 1
        assert iou(best.boxes[0], truth) > 0.8
        assert (best.landmarks[0, :, 0] > truth[0]).all() and (best.landmarks[0, :, 0] < truth[2]).all()


@pytest.mark.parametrize("gap", [0, 15])
def test_faces_at_the_frame_edge_keep_their_true_box(gap):
    frame, truth = face_at_right_edge(gap)
    params = DetectParams()
    found = mtcnn_faces(get_mtcnn("cpu", params), [shrink(frame, 0.5)], 640, 480, 1, params.pad)
    best = found[0].confident(params.min_score)
    assert len(best.scores) == 1 and iou(best.boxes[0], truth) >= 0.8
