"""Crop transforms: FF++ square window (shifted into the frame), its affine matrix, landmark alignment."""

import cv2
import numpy as np
import pytest

from pipeline.kernels.crop import (
    TEMPLATE_112,
    align_matrix,
    apply_crop,
    cut_window,
    plan_crop,
    square_window,
    template,
    window_matrix,
)
from pipeline.params import CropParams


def test_square_window_is_1_3_times_the_longer_side_centred_on_the_box():
    # box 100 x 50 centred at (150, 125): side 130, top-left (85, 60)
    assert square_window((100, 100, 200, 150), 640, 480, 1.3) == (85, 60, 130)


def test_square_window_is_shifted_not_shrunk_at_the_border():
    assert square_window((0, 0, 50, 50), 640, 480, 1.3) == (0, 0, 65)
    assert square_window((600, 440, 640, 480), 640, 480, 1.3) == (588, 428, 52)


def test_square_window_larger_than_the_frame_covers_it_as_centred_as_it_can():
    # side round(1.3 * 80) = 104 > 100 x 80 frame: x0 in [-4, 0], y0 in [-24, 0]
    assert square_window((10, 10, 90, 70), 100, 80, 1.3) == (-2, -12, 104)
    # side round(1.3 * 90) = 117: x0 in [-17, 0], y0 in [-37, 0]; centred: round(-13.5), round(-23.5)
    assert square_window((0, 0, 90, 70), 100, 80, 1.3) == (-14, -24, 117)


def test_window_matrix_matches_cv2_resize_on_an_exact_halving():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    window = (20, 10, 100)
    by_resize = cv2.resize(cut_window(frame, window), (50, 50), interpolation=cv2.INTER_AREA)
    by_matrix = cv2.warpAffine(frame, window_matrix(window, 50), (50, 50), flags=cv2.INTER_LINEAR)
    assert np.abs(by_resize.astype(int) - by_matrix).max() <= 1


def test_window_matrix_maps_the_window_edges_to_the_crop_edges():
    m = window_matrix((20, 10, 100), 300)
    # pixel edges: x = 19.5 (left edge of the window's first pixel) -> -0.5 (left edge of the crop)
    assert m @ [19.5, 9.5, 1] == pytest.approx([-0.5, -0.5])
    assert m @ [119.5, 109.5, 1] == pytest.approx([299.5, 299.5])


def test_cut_window_pads_with_black_outside_the_frame():
    frame = np.full((10, 10, 3), 7, np.uint8)
    out = cut_window(frame, (-2, 5, 6))
    assert out.shape == (6, 6, 3)
    assert (out[:5, 2:] == 7).all()  # rows 5..9, columns 0..3 of the frame
    assert (out[:, :2] == 0).all() and (out[5:] == 0).all()


def test_template_keeps_the_face_box_centred_with_the_margin():
    assert template(112, 1.0) == pytest.approx(TEMPLATE_112)
    # margin 1.3: the 112 box shrinks to 112 / 1.3 and sits in the middle of the crop
    t = template(299, 1.3)
    assert t == pytest.approx((TEMPLATE_112 / 112 * 1 / 1.3 + 0.15 / 1.3) * 299)


def test_align_matrix_undoes_a_known_similarity():
    angle, scale, shift = np.deg2rad(15), 2.5, np.array([40.0, -12.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = template(299, 1.3)
    landmarks = (np.linalg.inv(rot) @ (target - shift).T).T  # so that rot @ p + shift = target
    m = align_matrix(landmarks, 299, 1.3)
    assert m[:, :2] == pytest.approx(rot, abs=1e-9)
    assert m[:, 2] == pytest.approx(shift, abs=1e-6)


def test_aligned_crop_puts_landmark_dots_on_the_template():
    frame = np.zeros((400, 500, 3), np.uint8)
    angle = np.deg2rad(-20)
    rot = 1.6 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (rot @ template(128, 1.3).T).T + [150, 120]  # a tilted face, 1.6 times the crop's
    for x, y in landmarks.round().astype(int):
        cv2.circle(frame, (x, y), 3, (255, 255, 255), -1)
    params = CropParams(size=128, align=True)
    crop = plan_crop(None, landmarks, 500, 400, params)
    out = apply_crop(frame, crop, 128)
    assert crop.window is None and out.shape == (128, 128, 3)
    for x, y in template(128, 1.3).round().astype(int):
        assert out[y - 1 : y + 2, x - 1 : x + 2].max() > 100


def test_square_crop_plan_is_deterministic_and_cuts_the_box():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[100:150, 100:200] = 200
    params = CropParams(size=65)
    a = plan_crop((100, 100, 200, 150), None, 640, 480, params)
    assert a == plan_crop((100.0, 100.0, 200.0, 150.0), None, 640, 480, params)
    out = apply_crop(frame, a, 65)
    assert a.window == (85, 60, 130) and out.shape == (65, 65, 3)
    # the box occupies the middle 1 / 1.3 of the crop horizontally
    row = out[32, :, 0]
    assert row[8:57].min() > 150 and row[:6].max() < 50 and row[-6:].max() < 50
