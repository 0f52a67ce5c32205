"""MPSM maths against hand-computed values: ceil patching, eq. 7 similarity, eq. 8-9 target."""

import pytest
import torch

from model.mpsm import MPSM, multiscale, patch_grid, patch_similarity, patchify, similarity_target
from pipeline.errors import LrlError


def test_ceil_patching_of_10x10_with_k3_pads_the_last_row_and_column():
    x = torch.arange(100.0).reshape(1, 1, 10, 10)
    patches = patchify(x, 3)
    assert patches.shape == (1, 9, 16)  # h = w = ceil(10 / 3) = 4
    assert torch.equal(patches[0, 0].reshape(4, 4), x[0, 0, 0:4, 0:4])
    assert torch.equal(patches[0, 4].reshape(4, 4), x[0, 0, 4:8, 4:8])
    last = patches[0, 8].reshape(4, 4)
    assert torch.equal(last[:2, :2], x[0, 0, 8:10, 8:10])
    assert not last[2:].any() and not last[:, 2:].any()
    right = patches[0, 2].reshape(4, 4)  # row 0, partial column
    assert torch.equal(right[:, :2], x[0, 0, 0:4, 8:10]) and not right[:, 2:].any()


def test_patchify_keeps_channels_of_a_patch_together():
    x = torch.stack([torch.zeros(4, 4), torch.ones(4, 4)])[None]  # 2 channels
    patches = patchify(x, 2)  # 2x2 patches of 2 channels: channel-major inside a patch
    assert patches.shape == (1, 4, 8)
    assert torch.equal(patches[0, 3], torch.tensor([0.0] * 4 + [1.0] * 4))


@pytest.mark.parametrize(
    "size,k,side", [(10, 5, 2), (10, 3, 4), (299, 5, 60), (5, 5, 1), (9, 5, 2), (19, 5, 4)]
)
def test_patch_grid_is_the_ceil_of_size_over_k(size, k, side):
    assert patch_grid(size, k) == side


@pytest.mark.parametrize("size", [6, 7, 8, 11, 12, 16, 3])
def test_patch_grid_refuses_sizes_that_leave_a_patch_empty(size):
    with pytest.raises(LrlError, match="cannot be cut into 5 patches"):
        patch_grid(size, 5)


def test_similarity_of_identical_opposite_orthogonal_and_zero_patches():
    u = torch.tensor(
        [[[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [-1.0, -2.0, 0.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]]]
    )
    s = patch_similarity(u)
    assert s.shape == (1, 5, 5)
    assert s[0, 0, 1] == pytest.approx(1.0)  # identical direction
    assert s[0, 0, 2] == pytest.approx(0.0, abs=1e-6)  # opposite
    assert s[0, 0, 3] == pytest.approx(0.5)  # orthogonal
    assert s[0, 0, 4] == pytest.approx(0.5) and s[0, 4, 4] == pytest.approx(0.5)  # zero vector: no NaN
    assert torch.allclose(s, s.transpose(1, 2))


def test_similarity_gradient_is_finite_at_a_zero_patch():
    u = torch.zeros(1, 3, 4, requires_grad=True)
    patch_similarity(u).sum().backward()
    assert torch.isfinite(u.grad).all()


def test_mpsm_on_hand_made_features_identical_and_opposite_patches():
    feat = torch.ones(1, 2, 10, 10)
    feat[:, :, :, 4:] = -1  # patch columns 2.. hold -1 (k = 5, patches 2x2)
    s = MPSM(5)([feat, feat, feat])
    assert s.shape == (1, 25, 25)
    assert s[0, 0, 1] == pytest.approx(1.0) and s[0, 0, 5] == pytest.approx(1.0)
    assert s[0, 0, 2] == pytest.approx(0.0, abs=1e-6) and s[0, 1, 24] == pytest.approx(0.0, abs=1e-6)
    assert s[0, 3, 4] == pytest.approx(1.0)


def test_target_of_an_all_real_mask_is_all_ones():
    s = similarity_target(torch.zeros(3, 1, 299, 299), 5)
    assert s.shape == (3, 25, 25) and torch.equal(s, torch.ones(3, 25, 25))


def test_target_of_a_left_half_forged_mask_has_known_values():
    mask = torch.zeros(1, 10, 10)
    mask[:, :, :5] = 1  # patch columns (2 px each): p = 1, 1, 0.5, 0, 0 on every row
    s = similarity_target(mask, 5)[0]
    assert s[0, 1] == 1.0 and s[0, 5] == 1.0  # both fully forged
    assert s[0, 2] == pytest.approx(0.75)  # 1 - (1 - 0.5)^2
    assert s[2, 3] == pytest.approx(0.75) and s[0, 3] == 0.0 and s[3, 4] == 1.0
    assert s[7, 14] == pytest.approx(0.75)  # row 1 col 2 (p = 0.5) vs row 2 col 4 (p = 0)
    assert torch.allclose(s, s.T) and torch.equal(s.diagonal(), torch.ones(25))


def test_target_patch_mean_counts_only_real_pixels_of_partial_patches():
    mask = torch.zeros(1, 1, 10, 10)
    mask[..., 9, :] = 1  # last row forged: bottom patches (rows 8-9) are half forged
    s = similarity_target(mask, 3)[0]  # h = 4: bottom patches hold 2 real rows, not 4
    assert s[0, 6] == pytest.approx(0.75)  # 1 - (0 - 0.5)^2; dividing by h*w would give 1 - 0.25^2
    assert s[6, 8] == pytest.approx(1.0) and s[0, 1] == 1.0


def test_target_is_vectorised_per_sample():
    torch.manual_seed(0)
    masks = (torch.rand(4, 1, 23, 17) > 0.6).float()
    batch = similarity_target(masks, 5)
    for i in range(4):
        assert torch.equal(batch[i], similarity_target(masks[i : i + 1], 5)[0])
    assert not torch.equal(batch[0], batch[1])


def test_multiscale_resizes_low_and_mid_to_the_high_size():
    low, mid, high = torch.ones(2, 3, 37, 37), 2 * torch.ones(2, 4, 19, 19), torch.zeros(2, 5, 10, 10)
    u = multiscale([low, mid, high])
    assert u.shape == (2, 12, 10, 10)
    assert torch.allclose(u[:, :3], torch.ones(1)) and torch.allclose(u[:, 3:7], torch.full((1,), 2.0))
