"""The blend kernel (pipeline.kernels.blend) on scikit-image's astronaut, whose MTCNN face is written
below."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from skimage import data

from pipeline.kernels.blend import (
    Face,
    SelfBlendParams,
    aligned_source,
    blend,
    boundary,
    color_match,
    draw_self_blend,
    draw_swap,
    face_region,
    landmark_shape,
    self_blend,
    swap,
)

# MTCNN (facenet-pytorch, full size) on skimage.data.astronaut(): box and five landmarks
ASTRONAUT = Face.of(
    [181.1, 62.2, 267.7, 172.1],
    [[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]],
)


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()


def rotated(image, face, angle=12.0, scale=1.25, shift=(-30.0, 20.0)):
    """The image and face moved by a known similarity (a second 'identity' for the swap)."""
    matrix = cv2.getRotationMatrix2D((256, 256), angle, scale)
    matrix[:, 2] += shift
    moved = cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR)
    points = face.landmarks @ matrix[:, :2].T + matrix[:, 2]
    corners = np.array([face.box[:2], face.box[2:]]) @ matrix[:, :2].T + matrix[:, 2]
    return moved, Face.of([*corners.min(0), *corners.max(0)], points)


def test_pixels_where_the_mask_is_zero_are_unchanged(astronaut):
    for seed in range(4):
        out = self_blend(astronaut, ASTRONAUT, draw_self_blend(np.random.default_rng(seed)))
        outside = out.alpha == 0
        assert outside.mean() > 0.5 and (~outside).sum() > 1000
        assert np.array_equal(out.frame[outside], astronaut[outside])
    source, face = rotated(astronaut, ASTRONAUT)
    out = swap(astronaut, ASTRONAUT, source, face, draw_swap(np.random.default_rng(0)))
    assert np.array_equal(out.frame[out.alpha == 0], astronaut[out.alpha == 0])
    assert np.abs(out.frame.astype(int) - astronaut).max() > 40  # the swap did change the face


def test_self_blend_with_every_jitter_at_zero_returns_the_frame(astronaut):
    drawn = draw_self_blend(np.random.default_rng(3))
    still = SelfBlendParams(ratio=1.0, mask=replace(drawn.mask, shift=(0.0, 0.0), scale=1.0))
    out = self_blend(astronaut, ASTRONAUT, still)
    assert out.alpha.max() == pytest.approx(1.0)  # the mask is there: only the source is the frame itself
    assert np.array_equal(out.frame, astronaut)


def test_self_blend_jitter_changes_the_face_only_through_the_mask(astronaut):
    params = replace(
        draw_self_blend(np.random.default_rng(1)), ratio=1.0, brightness=0.1, frequency="downscale"
    )
    out = self_blend(astronaut, ASTRONAUT, params)
    core = out.alpha > 0.99
    diff = np.abs(out.frame.astype(int) - astronaut).mean(2)
    assert core.sum() > 1000 and diff[core].mean() > 10  # +0.1 of full scale is 25 levels before clipping


def test_swap_maps_the_source_landmarks_onto_the_target_within_a_pixel(astronaut):
    source, face = rotated(astronaut, ASTRONAUT)
    ys, xs = np.mgrid[0:512, 0:512]
    for (sx, sy), (tx, ty) in zip(face.landmarks, ASTRONAUT.landmarks, strict=True):
        blob = 255 * np.exp(-((xs - sx) ** 2 + (ys - sy) ** 2) / 8)  # a dot centred on the source landmark
        warped, valid = aligned_source(
            np.repeat(blob[..., None], 3, 2).astype(np.uint8), face, ASTRONAUT, (512, 512)
        )
        weight = warped[..., 0].astype(float)
        found = np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()
        assert np.hypot(*(found - (tx, ty))) < 1.0
    assert valid.min() == 0 and valid.max() == 1


def test_the_mask_is_smooth_at_its_edge(astronaut):
    for seed in range(4):
        params = draw_self_blend(np.random.default_rng(seed))
        region = face_region(ASTRONAUT, params.mask, astronaut.shape[:2])
        assert region.max() == pytest.approx(1.0, abs=1e-3)
        band = boundary(region) > 0
        assert band.sum() > 0.3 * (region >= 0.999).sum()  # a band, not a one-pixel step
        row = region[round(ASTRONAUT.landmarks[2, 1])]  # through the nose, left to right
        rising = np.nonzero((row > 0) & (row < 1))[0]
        assert rising.size >= 6  # >= 3 soft pixels on each side of the face


def test_the_region_covers_the_landmarks_and_stays_near_the_box(astronaut):
    params = draw_self_blend(np.random.default_rng(5))
    region = face_region(ASTRONAUT, params.mask, astronaut.shape[:2])
    for x, y in ASTRONAUT.landmarks:
        assert region[round(y), round(x)] > 0.5
    ys, xs = np.nonzero(region > 0)
    x0, y0, x1, y1 = ASTRONAUT.box
    w, h = x1 - x0, y1 - y0
    assert (
        xs.min() > x0 - 0.3 * w
        and xs.max() < x1 + 0.3 * w
        and ys.min() > y0 - 0.3 * h
        and ys.max() < y1 + 0.3 * h
    )


def test_a_seed_gives_the_same_forgery_and_another_seed_another(astronaut):
    one = self_blend(astronaut, ASTRONAUT, draw_self_blend(np.random.default_rng(7)))
    again = self_blend(astronaut, ASTRONAUT, draw_self_blend(np.random.default_rng(7)))
    other = self_blend(astronaut, ASTRONAUT, draw_self_blend(np.random.default_rng(8)))
    assert np.array_equal(one.frame, again.frame) and np.array_equal(one.alpha, again.alpha)
    assert not np.array_equal(one.alpha, other.alpha)


def test_blend_ratio_scales_the_region():
    params = replace(draw_self_blend(np.random.default_rng(2)), ratio=0.25)
    frame = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    out = self_blend(
        frame, Face.of([70, 60, 130, 140], [[88, 90], [112, 90], [100, 105], [90, 120], [110, 120]]), params
    )
    np.testing.assert_allclose(out.alpha, 0.25 * out.region, atol=1e-6)
    assert out.region.max() == pytest.approx(1.0, abs=1e-3)


def test_blend_and_boundary_by_hand():
    source = np.full((1, 3, 3), 200, np.uint8)
    target = np.full((1, 3, 3), 100, np.uint8)
    alpha = np.array([[0.0, 0.5, 1.0]], np.float32)
    assert blend(source, target, alpha)[0, :, 0].tolist() == [100, 150, 200]
    np.testing.assert_allclose(boundary(alpha), [[0.0, 1.0, 0.0]])


def test_color_match_moves_the_lab_statistics_onto_the_target(astronaut):
    darker = (astronaut * 0.6).astype(np.uint8)
    weight = np.zeros(astronaut.shape[:2], np.float32)
    weight[60:180, 180:270] = 1
    matched = color_match(darker, astronaut, weight)
    lab = [
        cv2.cvtColor(x.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[weight > 0].mean(0)
        for x in (matched, astronaut, darker)
    ]
    assert np.abs(lab[0] - lab[1]).max() < 1.5 < np.abs(lab[2] - lab[1]).max()


def test_landmark_shape_ignores_position_scale_and_rotation(astronaut):
    _, moved = rotated(astronaut, ASTRONAUT, angle=30, scale=0.7, shift=(40, -10))
    np.testing.assert_allclose(
        landmark_shape(moved.landmarks), landmark_shape(ASTRONAUT.landmarks), atol=1e-6
    )
    squashed = ASTRONAUT.landmarks * [1.0, 1.3]
    assert np.abs(landmark_shape(squashed) - landmark_shape(ASTRONAUT.landmarks)).max() > 1
