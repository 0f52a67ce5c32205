"""Evaluation: fake probabilities and decoder masks over a split -> frame / video metrics and mask IoU.

A detector that shows no mask (MC-LCR: model.detector) gets the same ACC / AUC / EER and mask IoU
None ("n/a" in the summary line). Mask IoU counts only the samples whose mask is known (mask_known 1:
a fake whose real is not in ROOT has an all-zero mask that means nothing). Video level: see
metrics.video_level (the maximum over a video's faces of each face's mean frame score)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from model.detector import MASK
from model.training import metrics
from model.training.data import LRLSamples


@dataclass
class Predictions:
    """Per-sample outputs over one split, aligned with the shard reader's order."""

    probs: np.ndarray
    labels: np.ndarray
    ious: np.ndarray  # per sample; NaN where the network has no mask head
    videos: list[str]
    methods: list[str]
    datasets: np.ndarray  # per sample, str
    faces: np.ndarray  # per sample: face track id within its video
    known: np.ndarray  # per sample, bool: its mask is known (mask_known 1)

    def subset(self, keep: np.ndarray) -> "Predictions":
        """The samples where the boolean array `keep` is True."""
        keep = np.asarray(keep, bool)
        return Predictions(
            self.probs[keep],
            self.labels[keep],
            self.ious[keep],
            [v for v, k in zip(self.videos, keep, strict=True) if k],
            [m for m, k in zip(self.methods, keep, strict=True) if k],
            self.datasets[keep],
            self.faces[keep],
            self.known[keep],
        )


@torch.no_grad()
def predict(
    net, samples: LRLSamples, device, batch_size: int, workers: int = 0, bf16: bool = False, on_batch=None
) -> Predictions:
    """One pass over `samples` with a detector `net` (model.detector); `on_batch(batch, out)`, if given, sees
    every CPU batch and its output."""
    net.eval()
    loader = DataLoader(samples, batch_size=batch_size, num_workers=workers, pin_memory=device.type == "cuda")
    probs, ious, order = [], [], []
    for batch in loader:
        rgb = batch["rgb"].to(device, non_blocking=True)
        freq = batch["freq"].to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = net(rgb, freq)
        probs.append(torch.sigmoid(out.logit.float()).cpu().numpy())
        if MASK not in net.shows:
            ious.append(np.full(len(rgb), np.nan))
        else:
            pred_mask = (out.mask_logits.float() > 0).cpu().numpy()
            ious.append(metrics.mask_iou(pred_mask, batch["mask"].numpy() > 0.5))
        order.append(batch["index"].numpy())
        if on_batch is not None:
            on_batch(batch, out)
    order = np.concatenate(order) if order else np.zeros(0, int)
    shards = samples.shards
    return Predictions(
        probs=np.concatenate(probs) if probs else np.zeros(0),
        labels=shards.labels[order].astype(int),
        ious=np.concatenate(ious) if ious else np.zeros(0),
        videos=[shards.videos[i] for i in order],
        methods=[shards.methods[i] for i in order],
        datasets=shards.meta["dataset"][order].astype(str),
        faces=shards.meta["face"][order].astype(int),
        known=shards.meta["mask_known"][order] != 0,
    )


def _clean(value: float):
    return None if isinstance(value, float) and math.isnan(value) else value


def _mean(values: np.ndarray) -> float | None:
    """Mean IoU, or None when there is none (no sample, or no mask head)."""
    return float(values.mean()) if len(values) and not np.isnan(values).any() else None


def report(pred: Predictions) -> dict:
    """Frame- and video-level ACC / AUC / EER per method and overall, and decoder mask IoU (over the
    samples whose mask is known: "fake" of the fakes, "all" of every such sample)."""
    video_labels, video_scores, names = metrics.video_level(pred.videos, pred.labels, pred.probs, pred.faces)
    method_of = dict(zip(pred.videos, pred.methods, strict=True))
    out = {
        "frame": {
            k: v.to_dict() for k, v in metrics.per_method(pred.methods, pred.labels, pred.probs).items()
        },
        "video": {
            k: v.to_dict()
            for k, v in metrics.per_method([method_of[v] for v in names], video_labels, video_scores).items()
        },
        "mask_iou": {
            "fake": _mean(pred.ious[pred.known & (pred.labels == 1)]),
            "all": _mean(pred.ious[pred.known]),
        },
    }
    return {
        level: {
            k: {m: _clean(x) for m, x in v.items()} if isinstance(v, dict) else _clean(v)
            for k, v in d.items()
        }
        for level, d in out.items()
    }


def summary_line(split: str, rep: dict) -> str:
    f, v = rep["frame"]["overall"], rep["video"]["overall"]

    def fmt(x):
        return "n/a" if x is None else f"{x:.4f}"

    return (
        f"{split}: frame ACC {fmt(f['acc'])} AUC {fmt(f['auc'])} EER {fmt(f['eer'])} | "
        f"video ACC {fmt(v['acc'])} AUC {fmt(v['auc'])} EER {fmt(v['eer'])} | "
        f"mask IoU (fakes) {fmt(rep['mask_iou']['fake'])}"
    )


def save_report(run: Path, name: str, pred: Predictions, rep: dict) -> tuple[Path, Path, str | None]:
    """Write `metrics-<name>.json` and, when the split holds both classes, `roc-<name>.png`.

    Returns (metrics path, ROC path, why the ROC was not drawn or None: one class makes it undefined)."""
    from model.training.plots import roc_png
    from pipeline.store.atomic import write_json

    metrics_path = Path(run) / f"metrics-{name}.json"
    write_json(metrics_path, rep)
    vl, vs, _ = metrics.video_level(pred.videos, pred.labels, pred.probs, pred.faces)
    roc_path = Path(run) / f"roc-{name}.png"
    why = roc_png(roc_path, {"frame": (pred.labels, pred.probs), "video": (vl, vs)})
    return metrics_path, roc_path, why
