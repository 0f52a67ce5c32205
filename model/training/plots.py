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


def bars_png(path: Path, table, columns: tuple[str, ...], reference: dict[str, float], title: str) -> None:
    """One group of bars per row of a sweep Table (model.training.sweep): the mean of each of `columns`
    with its sd as an error bar, and `reference[row]` (e.g. the paper's AUC) as a black marker."""
    plt = _figure()
    names = list(table.rows)
    xs = np.arange(len(names))
    width = 0.8 / max(1, len(columns))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    lows = [0.9]
    for j, column in enumerate(columns):
        stats = [table.rows[n][column] for n in names]
        means = [s.mean or 0.0 for s in stats]
        lows += [s.mean - s.sd for s in stats if s.mean is not None]
        offset = (j - (len(columns) - 1) / 2) * width
        ax.bar(xs + offset, means, width, yerr=[s.sd for s in stats], capsize=3, label=f"ours, {column}")
    marks = [reference.get(n, np.nan) for n in names]
    ax.plot(xs, marks, "k_", markersize=22, mew=2, label="reference")
    ax.set_ylim(max(0.0, min(lows) - 0.05), 1.0)
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set(ylabel="test AUC", title=title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
