"""Choosing the forged face of a multi-face fake (hand-made frames and values)."""

import numpy as np
import pytest

from pipeline.kernels.forged import box_difference, mean_differences, most_changed


def test_box_difference_is_the_mean_absolute_difference_inside_the_clipped_box():
    real = np.full((10, 20, 3), 100, np.uint8)
    fake = real.copy()
    fake[2:6, 12:16] = 40  # 4 x 4 pixels changed by 60 (uint8 subtraction would wrap)
    assert box_difference(fake, real, [12, 2, 16, 6]) == pytest.approx(60.0)
    assert box_difference(fake, real, [10, 0, 18, 8]) == pytest.approx(60 * 16 / 64)
    assert box_difference(fake, real, [0, 0, 8, 8]) == 0.0
    assert box_difference(fake, real, [14, -5, 30, 6]) == pytest.approx(60 * 8 / 36)  # clipped to 6 x 6
    assert box_difference(fake, real, [25, 0, 30, 5]) is None  # outside the frame


def test_the_most_changed_face_wins_and_an_unmeasured_face_never_does():
    per_frame = [[1.0, 2.0, None], [30.0, 40.0, 50.0], [None, None]]
    means = mean_differences(per_frame)
    assert means == [1.5, 40.0, None]
    assert most_changed(means) == 1
    assert most_changed([None, 0.5]) == 1 and most_changed([2.0, 2.0]) == 0
