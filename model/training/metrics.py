"""Detection metrics (ACC, AUC, EER) through scikit-learn, frame- and video-level, and mask IoU."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    """ACC at threshold 0.5, ROC AUC and equal error rate of fake-probability scores."""

    acc: float
    auc: float
    eer: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """Equal error rate: where the false positive rate meets the false negative rate on the ROC."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1.0 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    if fnr[i] == fpr[i] or i == 0:
        return float((fpr[i] + fnr[i]) / 2)
    # linear interpolation between the two ROC points around the crossing
    j = i - 1 if (fnr[i] - fpr[i]) * (fnr[i - 1] - fpr[i - 1]) < 0 else min(i + 1, len(fpr) - 1)
    d_i, d_j = fnr[i] - fpr[i], fnr[j] - fpr[j]
    if d_i == d_j:
        return float((fpr[i] + fnr[i]) / 2)
    t = d_i / (d_i - d_j)
    return float(fpr[i] + t * (fpr[j] - fpr[i]))


def score(labels, scores, threshold: float = 0.5) -> Scores:
    """ACC / AUC / EER; AUC and EER are NaN when only one class is present."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    acc = float(accuracy_score(labels, scores >= threshold))
    if len(np.unique(labels)) < 2:
        return Scores(acc, float("nan"), float("nan"), len(labels))
    return Scores(acc, float(roc_auc_score(labels, scores)), eer(labels, scores), len(labels))


def video_level(videos, labels, scores, faces=None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One score per video, with the video's label: (labels (V,), scores (V,), sorted video names).

    A video's samples are grouped by its name (ShardDataset.videos: dataset/method/quality/video) and
    `faces` (the face track id per sample; None: every sample is face 0). Each face scores the mean of
    its frame scores; the video scores the MAXIMUM over its faces. The choice: a video is fake if any of
    its faces is (DFDC fakes often swap one face of two), and a real video must look real on every face;
    a mean over faces would dilute one swapped face among real bystanders. A one-face video scores the
    mean of its frames, as before faces existed.
    """
    faces = np.zeros(len(videos), int) if faces is None else faces
    per_face = defaultdict(list)
    label_of = {}
    for v, f, y, s in zip(videos, faces, labels, scores, strict=True):
        per_face[v, int(f)].append(s)
        label_of[v] = y
    best = {}
    for (v, _), values in per_face.items():
        best[v] = max(best.get(v, -np.inf), float(np.mean(values)))
    names = sorted(best)
    return np.array([label_of[v] for v in names]), np.array([best[v] for v in names]), names


def per_method(methods, labels, scores) -> dict[str, Scores]:
    """Overall scores and, for every fake method, its fakes against all reals."""
    methods = np.asarray(methods)
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    out = {"overall": score(labels, scores)}
    for method in sorted(set(methods[labels == 1])):
        keep = (labels == 0) | (methods == method)
        out[method] = score(labels[keep], scores[keep])
    return out


def mask_iou(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """IoU per sample of boolean masks (N, H, W); 1.0 where both are empty."""
    pred = pred.reshape(len(pred), -1).astype(bool)
    truth = truth.reshape(len(truth), -1).astype(bool)
    inter = (pred & truth).sum(1)
    union = (pred | truth).sum(1)
    return np.where(union == 0, 1.0, inter / np.maximum(union, 1))
