"""ROC curve and training curves as PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def roc_png(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> str | None:
    """One ROC curve per entry {name: (labels, scores)} holding both classes; None when written, else why
    nothing was (no entry holds both classes: the ROC is undefined), and then no file is written."""
    from sklearn.metrics import roc_auc_score, roc_curve

    drawable = {
        name: (labels, scores) for name, (labels, scores) in curves.items() if len(np.unique(labels)) == 2
    }
    if not drawable:
        labels = np.concatenate([np.asarray(labels).ravel() for labels, _ in curves.values()])
        held = "no samples" if labels.size == 0 else f"only {'fake' if labels[0] else 'real'} samples"
        return f"the split holds {held}: a ROC curve needs both classes"
    plt = _figure()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (labels, scores) in drawable.items():
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def curves_png(path: Path, history: list[dict]) -> None:
    """Loss components and validation AUC per epoch."""
    plt = _figure()
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key in [k for k in ("loss", "ce", "sim", "seg", "con") if k in history[0]]:
        ax1.plot(epochs, [h[key] for h in history], label=key)
    ax1.set(xlabel="epoch", ylabel="training loss", yscale="log")
    ax1.legend(fontsize=8)
    ax2.plot(epochs, [h.get("val_auc", np.nan) for h in history], label="val AUC")
    ax2.plot(epochs, [h.get("val_acc", np.nan) for h in history], label="val ACC")
    ax2.set(xlabel="epoch", ylim=(0, 1.02))
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
