"""Issue 25: the perturbation kernels (pipeline/kernels/perturb.py). Each one's strength grows with its
level on a measurable quantity, each is deterministic for a seed. Images: scikit-image's photographs."""

import cv2
import numpy as np
import pytest
from skimage import data

from pipeline.kernels.perturb import (
    LEVELS,
    PERTURBATIONS,
    block_side,
    patch_box,
    perturb,
    perturb_sequence,
    video_compression,
)


def photo(size: int = 299, name: str = "astronaut") -> np.ndarray:
    return cv2.resize(getattr(data, name)(), (size, size), interpolation=cv2.INTER_AREA)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def laplacian_var(rgb: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def chroma(rgb: np.ndarray) -> np.ndarray:
    """Cr, Cb deviations from grey on a [0, 1] scale, (H, W, 2)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2YCrCb)[..., 1:] - 0.5


def decreasing(values) -> bool:
    return all(a > b for a, b in zip(values[:-1], values[1:], strict=True))


def test_the_levels_are_deeperforensics_parameters():
    assert {name: p.params for name, p in PERTURBATIONS.items()} == {
        "cs": (0.4, 0.3, 0.2, 0.1, 0.0),
        "cc": (0.85, 0.725, 0.6, 0.475, 0.35),
        "bw": (16, 32, 48, 64, 80),
        "gnc": (0.001, 0.002, 0.005, 0.01, 0.05),
        "gb": (7, 9, 13, 17, 21),
        "pixel": (2, 3, 4, 5, 6),
        "jpeg": (90, 70, 50, 30, 10),
        "vc": (30, 32, 35, 38, 40),
        "patch": (0.1, 0.2, 0.3, 0.4, 0.5),
    }
    with pytest.raises(ValueError, match="level 6"):
        perturb(photo(32), "gb", 6, rng())


@pytest.mark.parametrize("name", ["gb", "pixel"])
def test_blur_and_pixelation_lower_the_laplacian_variance_level_by_level(name):
    for image in (photo(299), photo(299, "chelsea")):
        values = [laplacian_var(image)] + [
            laplacian_var(perturb(image, name, level, rng())) for level in LEVELS
        ]
        assert decreasing(values), values
        assert values[1] < 0.5 * values[0]


def test_gaussian_noise_has_the_stated_variance_in_each_colour_component():
    grey = np.full((256, 256, 3), 128, np.uint8)  # mid-grey: no clipping below level 5
    measured = []
    for level in LEVELS:
        out = perturb(grey, "gnc", level, rng(level)).astype(np.float32) / 255
        noisy = cv2.cvtColor(out, cv2.COLOR_RGB2YCrCb)
        measured.append(noisy.reshape(-1, 3).var(axis=0))
    for level, variance in zip(LEVELS[:4], PERTURBATIONS["gnc"].params[:4], strict=True):
        assert measured[level - 1] == pytest.approx(np.full(3, variance), rel=0.06)  # 65,536 draws, rounding
    assert decreasing([m.mean() for m in measured][::-1])  # level 5 (clipped) still the noisiest


@pytest.mark.parametrize("name", ["jpeg", "vc"])
def test_compression_lowers_the_psnr_level_by_level(name):
    frames = np.stack([np.roll(photo(80), 2 * i, axis=1) for i in range(8)])  # a panning crop sequence
    outs = [perturb_sequence(frames, name, level, rng()) for level in LEVELS]
    psnr = [cv2.PSNR(out, frames) for out in outs]
    assert decreasing(psnr), psnr
    assert all(out.shape == frames.shape and out.dtype == np.uint8 for out in outs)


def test_video_compression_keeps_an_odd_crop_size_and_the_frame_count():
    frames = np.stack([photo(299)[:, : 299 - i % 2] for i in range(1)] * 3)
    out = video_compression(frames, 30)
    assert out.shape == frames.shape and cv2.PSNR(out, frames) > 25
    with pytest.raises(ValueError, match="perturb_sequence"):
        perturb(frames[0], "vc", 1, rng())


def test_saturation_scales_the_chroma_and_keeps_the_luma():
    image = photo(128, "coffee")
    before = np.abs(chroma(image)).mean()
    for factor, level in zip(PERTURBATIONS["cs"].params, LEVELS, strict=True):
        out = perturb(image, "cs", level, rng())
        assert np.abs(chroma(out)).mean() == pytest.approx(factor * before, abs=0.004)  # rounding to uint8
        luma = cv2.cvtColor(out, cv2.COLOR_RGB2YCrCb)[..., 0].astype(int)
        assert np.abs(luma - cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0]).max() <= 1


def test_contrast_scales_every_value():
    image = photo(64, "coffee")
    for factor, level in zip(PERTURBATIONS["cc"].params, LEVELS, strict=True):
        out = perturb(image, "cc", level, rng()).astype(float)
        assert np.abs(out - factor * image).max() <= 0.5 + 1e-6
        assert out.std() == pytest.approx(factor * image.std(), rel=0.01)


def test_block_wise_covers_more_with_the_level_and_scales_its_blocks_to_the_crop():
    assert [block_side(s, s) for s in (256, 299, 80, 10)] == [8, 9, 3, 1]
    flat = np.full((299, 299, 3), 7, np.uint8)
    covered = []
    for blocks, level in zip(PERTURBATIONS["bw"].params, LEVELS, strict=True):
        grey = (perturb(flat, "bw", level, rng()) == 128).all(axis=2)
        assert 0 < grey.sum() <= blocks * 81  # 9 x 9 px squares, overlaps allowed
        covered.append(grey.sum())
    assert decreasing(covered[::-1]) and covered[0] > 0.7 * 16 * 81  # few overlaps at level 1


def test_the_random_patch_covers_the_stated_area():
    flat = np.full((100, 80, 3), 7, np.uint8)
    for fraction, level in zip(PERTURBATIONS["patch"].params, LEVELS, strict=True):
        out = perturb(flat, "patch", level, rng(level))
        changed = (out != flat).any(axis=2)
        side = round(fraction * 80)
        top, left, box = patch_box(100, 80, fraction, rng(level))
        assert box == side and changed.sum() == side * side
        assert changed[top : top + side, left : left + side].all()


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_each_perturbation_is_deterministic_for_a_seed(name):
    frames = np.stack([np.roll(photo(48), i, axis=0) for i in range(3)])
    first = perturb_sequence(frames, name, 3, rng(5))
    assert first.dtype == np.uint8 and first.shape == frames.shape and (first != frames).any()
    assert np.array_equal(first, perturb_sequence(frames, name, 3, rng(5)))
    if name in ("bw", "gnc", "patch"):
        assert not np.array_equal(first, perturb_sequence(frames, name, 3, rng(6)))


def test_a_bad_image_is_refused():
    with pytest.raises(ValueError, match="uint8"):
        perturb(np.zeros((8, 8, 3), np.float32), "gb", 1, rng())
