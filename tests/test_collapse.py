"""Collapse guard: mean off-diagonal 1 - s_hat of reals and fakes, and the warning when both are ~0."""

import pytest
import torch

from model.training.collapse import (
    COLLAPSE,
    collapse_warning,
    dissimilarity_stats,
    dissimilarity_sums,
    off_diagonal_dissimilarity,
)


def test_off_diagonal_mean_ignores_the_diagonal():
    s_hat = torch.tensor(
        [
            [[1.0, 0.5, 0.9], [0.5, 1.0, 0.8], [0.9, 0.8, 1.0]],
            [[0.2, 1.0, 1.0], [1.0, 0.2, 1.0], [1.0, 1.0, 0.2]],
        ]
    )
    got = off_diagonal_dissimilarity(s_hat)
    assert got.tolist() == pytest.approx([(0.5 + 0.1 + 0.5 + 0.2 + 0.1 + 0.2) / 6, 0.0])


def test_sums_split_reals_from_fakes_and_accumulate_over_batches():
    s_hat = torch.ones(3, 4, 4)
    s_hat[1] = 0.75  # a fake, off-diagonal 1 - s_hat = 0.25
    s_hat[2] = 0.95  # another fake, 0.05
    s_hat[0, 0, 1] = 0.0  # the real: one entry of 12 off the diagonal at 1
    label = torch.tensor([0.0, 1.0, 1.0])
    sums = dissimilarity_sums(s_hat, label) + dissimilarity_sums(torch.ones(1, 4, 4), torch.tensor([0.0]))
    stats = dissimilarity_stats(sums)
    assert stats["dissim_real"] == pytest.approx((1 / 12 + 0.0) / 2)
    assert stats["dissim_fake"] == pytest.approx((0.25 + 0.05) / 2)
    assert dissimilarity_stats(dissimilarity_sums(None, label)) == {}  # no MPSM: no keys


def test_warning_only_when_reals_and_fakes_both_collapse():
    assert collapse_warning({"epoch": 3, "dissim_real": 0.001, "dissim_fake": 0.12}) is None  # healthy
    assert collapse_warning({"epoch": 3, "loss": 1.0}) is None  # a variant without MPSM
    line = collapse_warning({"epoch": 3, "dissim_real": 0.008, "dissim_fake": 0.0081})
    assert line.startswith("warning: epoch 3: s_hat is collapsing to 1") and "fakes 0.0081" in line
    assert "\n" not in line and COLLAPSE > 0.0081
