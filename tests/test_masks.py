"""The mask maths of paper section 3.3 on hand-made arrays, and the fast kernel against plain numpy."""

import numpy as np
import pytest

from pipeline.kernels.masks import cut_level, diff_gray, diff_mask, iou, mask_stats, warp_mask


def pair(diff_rgb, base=(0, 0, 0)):
    """A 1x1 real of colour `base` and a fake differing from it by `diff_rgb`."""
    real = np.array([[base]], np.uint8)
    fake = np.array([[np.add(base, diff_rgb)]], np.uint8)
    return fake, real


def forged(diff_rgb, threshold=0.15, base=(0, 0, 0)):
    fake, real = pair(diff_rgb, base)
    return bool(diff_mask(fake, real, threshold)[0, 0])


def test_grayscale_conversion_uses_bt601_weights_on_the_absolute_difference():
    fake = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    real = np.array([[[0, 0, 0], [0, 0, 0], [0, 0, 0], [30, 0, 60]]], np.uint8)
    # |diff| of the last pixel is (20, 20, 30): 0.299*20 + 0.587*20 + 0.114*30 = 21.14
    expected = [0.299, 0.587, 0.114, 21.14 / 255]
    np.testing.assert_allclose(diff_gray(fake, real)[0], expected, rtol=0, atol=1e-12)


def test_difference_exactly_at_the_threshold_is_not_forged():
    # 0.299*124 + 0.587*2 = 37.076 + 1.174 = 38.25 = 0.15 * 255 exactly
    assert cut_level(0.15) == 38250
    assert not forged((124, 2, 0))
    assert forged((125, 2, 0))  # 38.549 / 255 > 0.15
    assert forged((124, 2, 1))  # 38.364 / 255 > 0.15
    # a pure red difference of 255 is exactly 0.299
    assert not forged((255, 0, 0), threshold=0.299)
    assert forged((255, 0, 0), threshold=0.2989)


def test_colour_change_in_one_channel_only():
    # blue weighs 0.114: even a full-range blue change stays below 0.15, a smaller red one does not
    assert not forged((0, 0, 255))
    assert forged((0, 0, 255), threshold=0.1)
    assert forged((129, 0, 0))  # 0.299 * 129 = 38.571 > 38.25
    assert not forged((127, 0, 0))  # 37.973
    assert forged((0, 66, 0))  # 0.587 * 66 = 38.742
    assert not forged((0, 65, 0))  # 38.155


def test_difference_is_absolute_per_channel_without_uint8_wraparound():
    # fake darker than real: |10 - 200| = 190 in red; uint8 subtraction would wrap to 66
    fake = np.array([[[10, 100, 100]]], np.uint8)
    real = np.array([[[200, 100, 100]]], np.uint8)
    assert diff_gray(fake, real)[0, 0] == pytest.approx(0.299 * 190 / 255)
    assert diff_mask(fake, real, 0.15)[0, 0] == 255
    assert diff_mask(real, fake, 0.15)[0, 0] == 255


def test_channel_order_bgr_gives_the_same_mask_as_rgb():
    rng = np.random.default_rng(1)
    fake, real = rng.integers(0, 256, (2, 40, 50, 3), dtype=np.uint8)
    rgb = diff_mask(fake, real, 0.15, order="RGB")
    bgr = diff_mask(fake[..., ::-1].copy(), real[..., ::-1].copy(), 0.15, order="BGR")
    np.testing.assert_array_equal(rgb, bgr)


@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_fast_kernel_equals_plain_numpy_float_reference(threshold):
    rng = np.random.default_rng(int(threshold * 100))
    from skimage.data import astronaut

    real = astronaut()[:200, :200]
    noise = rng.integers(-120, 121, real.shape)
    fake = np.clip(real.astype(int) + noise, 0, 255).astype(np.uint8)
    gray = diff_gray(fake, real)
    fast = diff_mask(fake, real, threshold)
    assert set(np.unique(fast)) <= {0, 255}
    # Tolerance: only float results within 1e-9 of the threshold may be decided by float rounding;
    # there the integer definition decides (tested exactly above and exhaustively below).
    clear = np.abs(gray - threshold) > 1e-9
    np.testing.assert_array_equal((fast > 0)[clear], (gray > threshold)[clear])
    assert clear.mean() > 0.99


def test_fast_kernel_equals_the_integer_definition_for_every_difference():
    # every (|dR|, |dG|, |dB|) in 0..255^3: one 256x256 image against black per blue level
    d = np.arange(256, dtype=np.int64)
    levels = 299 * d[:, None] + 587 * d[None, :]  # (R, G)
    real = np.zeros((256, 256, 3), np.uint8)
    fake = np.empty_like(real)
    fake[..., 0], fake[..., 1] = d[:, None], d[None, :]
    for blue in range(256):
        fake[..., 2] = blue
        expected = (levels + 114 * blue) > 38250
        np.testing.assert_array_equal(diff_mask(fake, real, 0.15) > 0, expected)


def test_threshold_out_of_range_is_refused():
    with pytest.raises(ValueError):
        cut_level(1.0)
    with pytest.raises(ValueError):
        cut_level(-0.1)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        diff_mask(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8), 0.15)


def test_stats_count_area_and_eight_connected_components():
    mask = np.zeros((10, 10), np.uint8)
    mask[0:2, 0:2] = 255  # 4 pixels
    mask[2, 2] = 255  # touches the first block diagonally: same component
    mask[7:9, 7:10] = 255  # 6 pixels, separate
    area, components = mask_stats(mask)
    assert area == pytest.approx(11 / 100)
    assert components == 2
    assert mask_stats(np.zeros((5, 5), np.uint8)) == (0.0, 0)


def test_warp_mask_applies_the_crop_transform_and_binarises():
    frame = np.zeros((40, 60), np.uint8)
    frame[10:20, 30:40] = 250  # lossy white
    frame[0:5, 0:5] = 40  # dark compression noise: not forged
    # crop of the frame region x in [20, 60), y in [0, 40), scaled by 0.5 to 20x20
    transform = [[0.5, 0.0, -10.0], [0.0, 0.5, 0.0]]
    mask = warp_mask(frame, transform, 20)
    assert mask.shape == (20, 20)
    expected = np.zeros((20, 20), np.uint8)
    expected[5:10, 5:10] = 255
    assert iou(mask, expected) >= 0.8
    assert mask[:, :4].max() == 0 and set(np.unique(mask)) <= {0, 255}


def test_iou():
    a = np.zeros((4, 4), np.uint8)
    b = np.zeros((4, 4), np.uint8)
    assert iou(a, b) == 1.0
    a[0, :] = 255
    b[0, :2] = 255
    b[1, 0] = 255
    assert iou(a, b) == pytest.approx(2 / 5)
