"""The frequency cue (paper eq. 1-3) on tiny arrays, against scipy and hand-computed values."""

import numpy as np
import pytest
import scipy.fft

from pipeline.kernels.dct import frequency_cue, gray, highpass, keep_mask


def reference(image: np.ndarray, alpha: float) -> np.ndarray:
    """Float64 scipy: dctn, zero (u, v) with u/H + v/W < alpha, idctn."""
    h, w = image.shape
    coeffs = scipy.fft.dctn(np.asarray(image, np.float64), norm="ortho")
    for u in range(h):
        for v in range(w):
            if u / h + v / w < alpha:
                coeffs[u, v] = 0.0
    return scipy.fft.idctn(coeffs, norm="ortho")


def test_zeroed_coefficients_of_a_square_image():
    # 4x4, alpha 0.5: u/4 + v/4 < 0.5 <=> u + v < 2: (0,0), (0,1), (1,0)
    expected = np.ones((4, 4), np.float32)
    expected[0, 0] = expected[0, 1] = expected[1, 0] = 0
    np.testing.assert_array_equal(keep_mask(4, 4, 0.5), expected)


def test_zeroed_coefficients_of_a_non_square_image():
    # 3 rows x 5 columns, alpha 0.33: (0,0) 0 and (0,1) 0.2 go; (1,0) 0.333 and (0,2) 0.4 stay
    keep = keep_mask(3, 5, 0.33)
    assert sorted(zip(*np.nonzero(keep == 0), strict=True)) == [(0, 0), (0, 1)]


def test_paper_alpha_on_a_crop_keeps_the_top_left_triangle_only():
    keep = keep_mask(299, 299, 0.33)
    assert keep[0, 0] == 0 and keep[98, 0] == 0 and keep[0, 98] == 0 and keep[49, 49] == 0
    assert keep[99, 0] == 1 and keep[0, 99] == 1 and keep[50, 49] == 1 and keep[298, 298] == 1


def test_filter_acts_exactly_on_those_coefficients():
    image = np.random.default_rng(0).uniform(0, 255, (6, 8))
    out = highpass(image, 0.4, dtype=np.float64)
    before, after = scipy.fft.dctn(image, norm="ortho"), scipy.fft.dctn(out, norm="ortho")
    zeroed = keep_mask(6, 8, 0.4) == 0
    np.testing.assert_allclose(after[zeroed], 0.0, atol=1e-9)
    np.testing.assert_allclose(after[~zeroed], before[~zeroed], atol=1e-9)


def test_dc_removed_and_constant_image_maps_to_zero():
    image = np.random.default_rng(1).uniform(0, 255, (2, 16, 12)).astype(np.float32)
    assert np.abs(highpass(image, 0.01).mean(axis=(1, 2))).max() < 1e-3  # only DC goes at this alpha
    np.testing.assert_allclose(highpass(np.full((9, 7), 200.0), 0.33), 0.0, atol=1e-4)


def test_alpha_zero_keeps_the_image():
    image = np.random.default_rng(2).uniform(0, 255, (5, 7))
    np.testing.assert_allclose(highpass(image, 0.0, dtype=np.float64), image, atol=1e-9)


@pytest.mark.parametrize("alpha", [0.33, 0.1, 0.9])
def test_agrees_with_scipy(alpha):
    images = np.random.default_rng(3).uniform(0, 255, (11, 20, 28))  # more than one internal chunk
    ours64 = highpass(images, alpha, dtype=np.float64)
    ours32 = highpass(images, alpha)
    for i in range(len(images)):
        ref = reference(images[i], alpha)
        np.testing.assert_allclose(ours64[i], ref, atol=1e-9)
        np.testing.assert_allclose(ours32[i], ref, atol=1e-4)
    assert ours32.dtype == np.float32 and ours32.shape == images.shape


def test_gray_weights_are_bt601():
    pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    np.testing.assert_allclose(
        gray(pixels)[0], [76.245, 149.685, 29.07, 0.299 * 10 + 0.587 * 20 + 0.114 * 30], rtol=1e-6
    )


def test_frequency_cue_of_astronaut_crops():
    from skimage.data import astronaut

    rgb = np.stack([astronaut()[:64, :64], astronaut()[100:164, 200:264]])
    cue = frequency_cue(rgb)
    assert cue.shape == (2, 64, 64) and cue.dtype == np.float32
    np.testing.assert_allclose(cue[1], reference(gray(rgb[1]), 0.33), atol=1e-4)
    assert np.abs(cue.mean(axis=(1, 2))).max() < 1e-3 and cue.std() > 1.0


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="RGB"):
        gray(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="grey images"):
        highpass(np.zeros((2, 2, 4, 4)))
