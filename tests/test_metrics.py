"""ACC / AUC / EER and IoU on hand-made score lists, against hand-computed values."""

import numpy as np
import pytest

from model.training.metrics import eer, mask_iou, per_method, score, video_level


def test_perfect_separation():
    s = score([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert (s.acc, s.auc, s.eer) == (1.0, 1.0, 0.0)


def test_hand_computed_acc_auc():
    # pairs (fake, real): 3x2 = 6; fake 0.7 beats both reals, 0.4 beats 0.3 only, 0.9 beats both -> 5/6
    labels = [0, 0, 1, 1, 1]
    scores = [0.3, 0.6, 0.7, 0.4, 0.9]
    s = score(labels, scores)
    assert s.acc == pytest.approx(3 / 5)  # 0.3 ok, 0.6 wrong, 0.7 ok, 0.4 wrong, 0.9 ok
    assert s.auc == pytest.approx(5 / 6)


def test_eer_hand_computed():
    # reals 0.1 0.4 0.6 0.8, fakes 0.3 0.7 0.9 0.95. Threshold in (0.6, 0.7): FPR = 1/4 (0.8),
    # FNR = 1/4 (0.3): the two rates meet at 0.25.
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    scores = [0.1, 0.4, 0.6, 0.8, 0.3, 0.7, 0.9, 0.95]
    assert eer(np.array(labels), np.array(scores)) == pytest.approx(0.25)


def test_single_class_gives_nan_auc():
    s = score([1, 1], [0.2, 0.9])
    assert s.acc == 0.5 and np.isnan(s.auc)


def test_video_level_means_frames():
    labels, scores, names = video_level(["a", "a", "b"], [1, 1, 0], [0.2, 0.8, 0.3])
    assert names == ["a", "b"] and list(labels) == [1, 0] and scores == pytest.approx([0.5, 0.3])


def test_per_method_uses_all_reals_against_each_method():
    out = per_method(["youtube", "youtube", "DF", "NT"], [0, 0, 1, 1], [0.1, 0.6, 0.9, 0.5])
    assert out["DF"].auc == 1.0 and out["NT"].auc == 0.5 and out["overall"].n == 4


def test_mask_iou():
    pred = np.zeros((2, 2, 2), bool)
    truth = np.zeros((2, 2, 2), bool)
    pred[0, 0] = True  # 2 pixels
    truth[0, :, 0] = True  # 2 pixels, 1 shared -> 1/3
    assert mask_iou(pred, truth) == pytest.approx([1 / 3, 1.0])


def test_a_multi_face_video_scores_the_maximum_of_its_faces_means():
    # video v: face 0 frames 0.2, 0.4 (mean 0.3), face 1 frames 0.9, 0.7 (mean 0.8) -> 0.8 (all frames: 0.55);
    # video w: face 0 0.1, face 1 0.3 -> 0.3; a one-face video keeps the mean of its frames.
    labels, scores, names = video_level(
        ["v", "v", "v", "v", "w", "w", "x", "x"],
        [1, 1, 1, 1, 0, 0, 0, 0],
        [0.2, 0.4, 0.9, 0.7, 0.1, 0.3, 0.2, 0.6],
        faces=[0, 0, 1, 1, 0, 1, 0, 0],
    )
    assert names == ["v", "w", "x"] and list(labels) == [1, 0, 0] and scores == pytest.approx([0.8, 0.3, 0.4])


def test_mask_iou_counts_only_samples_whose_mask_is_known():
    from model.training.evaluate import Predictions, report

    # a fake with a known mask (IoU 0.5), a fake whose mask is unknown (0.1: meaningless), a real (1.0)
    pred = Predictions(
        np.array([0.9, 0.8, 0.1]),
        np.array([1, 1, 0]),
        np.array([0.5, 0.1, 1.0]),
        ["a", "b", "c"],
        ["DF", "DF", "youtube"],
        np.array(["ffpp"] * 3),
        np.zeros(3, int),
        np.array([True, False, True]),
    )
    assert report(pred)["mask_iou"] == {"fake": pytest.approx(0.5), "all": pytest.approx(0.75)}
    assert report(pred.subset(np.array([False, True, True])))["mask_iou"]["fake"] is None
