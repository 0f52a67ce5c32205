"""The paper's pictures from a checkpoint's pass over a split: Fig. 3 (examples) and Fig. 4 (mean patterns).

Fig. 3 (per method, a few samples): input crop, ground-truth mask M, predicted mask M_hat = sigmoid of the
decoder's logits (eq. 12), predicted similarity s_hat (eq. 7) and target s (eq. 9), both k^2 x k^2 on a
fixed [0, 1] colour scale (row-major patches: entry (i, j) compares patch i with patch j).
Fig. 4 (one panel per method): s_hat averaged over every sample of that method in the split, beside the
target s averaged the same way. The paper averages 1,000 random images per face type; here every sample of
the split counts (no sampling, so the figure is reproducible). Fig. 4's colour scale is shared by all its
panels and spans [min of the means, 1]: the means differ by a few hundredths, which a [0, 1] scale hides.
Methods are the shards' `method` column (reals are `youtube` in FaceForensics++).
Variants without MPSM have no s_hat: their figures leave that panel out and `notes` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.mpsm import similarity_target

SAMPLES_PER_METHOD = 3


@dataclass
class Example:
    """One Fig. 3 row: rgb (H, W, 3) uint8, mask and pred_mask (H, W) float in [0, 1], s_hat / s (N, N)."""

    method: str
    label: int
    video: str
    rgb: np.ndarray
    mask: np.ndarray
    pred_mask: np.ndarray
    s_hat: np.ndarray | None
    s: np.ndarray


def chosen_indices(methods: np.ndarray, per_method: int) -> set[int]:
    """Per method, `per_method` sample indices evenly spaced over its samples (so: different videos)."""
    chosen = set()
    for method in sorted(set(methods)):
        where = np.flatnonzero(methods == method)
        picks = np.linspace(0, len(where) - 1, min(per_method, len(where))).round().astype(int)
        chosen.update(where[picks].tolist())
    return chosen


class SimilarityFigures:
    """Called on every evaluation batch (`predict(..., on_batch=figures)`): keeps the Fig. 3 examples and the
    per-method sums of s_hat and s for Fig. 4. `shards` is the split's ShardDataset, k the MPSM patch
    count."""

    def __init__(self, shards, k: int, per_method: int = SAMPLES_PER_METHOD):
        self.k = k
        self.methods = np.asarray(shards.methods, dtype=object)
        self.videos = shards.videos
        labels = np.asarray(shards.labels)
        self.real = {
            m for m in set(self.methods) if not labels[self.methods == m].any()
        }  # methods of reals only
        self.names = sorted(
            set(self.methods), key=lambda m: (m not in self.real, m)
        )  # reals first, as in Fig. 3
        self.method_id = np.array([self.names.index(m) for m in self.methods], dtype=np.int64)
        self.chosen = chosen_indices(self.methods, per_method)
        n = k * k
        self.sum_s_hat = torch.zeros(len(self.names), n, n, dtype=torch.float64)
        self.sum_s = torch.zeros(len(self.names), n, n, dtype=torch.float64)
        self.count = torch.zeros(len(self.names), dtype=torch.float64)
        self.has_s_hat = False
        self.examples: dict[int, Example] = {}

    def __call__(self, batch: dict, out) -> None:
        index = batch["index"].numpy()
        ids = torch.from_numpy(self.method_id[index])
        s = similarity_target(batch["mask"], self.k).double()
        self.sum_s.index_add_(0, ids, s)
        self.count.index_add_(0, ids, torch.ones(len(ids), dtype=torch.float64))
        s_hat = out.s_hat.detach().double().cpu() if out.s_hat is not None else None
        if s_hat is not None:
            self.has_s_hat = True
            self.sum_s_hat.index_add_(0, ids, s_hat)
        for row, i in enumerate(index.tolist()):
            if i in self.chosen:
                self.examples[i] = self._example(i, row, batch, out, s, s_hat)

    def _example(self, i: int, row: int, batch: dict, out, s: torch.Tensor, s_hat) -> Example:
        rgb = (
            ((batch["rgb"][row].permute(1, 2, 0).numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)
        )
        pred = torch.sigmoid(out.mask_logits[row, 0].float()).cpu().numpy()  # M_hat, eq. 12
        return Example(
            self.methods[i],
            int(batch["label"][row]),
            self.videos[i],
            rgb,
            batch["mask"][row, 0].numpy(),
            pred,
            None if s_hat is None else s_hat[row].numpy(),
            s[row].numpy(),
        )

    def means(self) -> dict[str, tuple[np.ndarray | None, np.ndarray, int]]:
        """Per method: (mean s_hat or None, mean target s, sample count), over the samples seen."""
        out = {}
        for j, name in enumerate(self.names):
            c = self.count[j].item()
            if c:
                s_hat = (self.sum_s_hat[j] / c).numpy() if self.has_s_hat else None
                out[name] = (s_hat, (self.sum_s[j] / c).numpy(), int(c))
        return out

    def draw(self, folder: Path, split: str, variant: str) -> tuple[dict[Path, int], list[str]]:
        """Write fig3-<split>-<method>.png per method, fig3-<split>.png (one example per method) and
        fig4-<split>.png; returns {path: number of image panels} and notes (what was left out and why)."""
        folder = Path(folder)
        notes = (
            []
            if self.has_s_hat
            else [
                f"variant {variant!r} has no MPSM, so no predicted s_hat: the figures "
                "show the masks and the target s only"
            ]
        )
        rows = [self.examples[i] for i in sorted(self.examples)]
        groups = {name: [e for e in rows if e.method == name] for name in self.names}
        groups = {name: g for name, g in groups.items() if g}
        panels = {
            folder / f"fig3-{split}-{name}.png": fig3_png(folder / f"fig3-{split}-{name}.png", g)
            for name, g in groups.items()
        }
        panels[folder / f"fig3-{split}.png"] = fig3_png(
            folder / f"fig3-{split}.png", [g[0] for g in groups.values()]
        )
        panels[folder / f"fig4-{split}.png"] = fig4_png(folder / f"fig4-{split}.png", self.means(), self.real)
        return panels, notes


def _save(fig, path: Path) -> None:
    from pipeline.store.atomic import atomic_path

    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=72)


def _title(method: str, real: set[str]) -> str:
    return f"{method} (real)" if method in real else method


def fig3_png(path: Path, examples: list[Example]) -> int:
    """Fig. 3: one row per example (input, M, M_hat, s_hat, s); returns the number of image panels."""
    from model.training.plots import _figure

    plt = _figure()
    with_s_hat = examples[0].s_hat is not None
    titles = ["input", "mask $M$", r"predicted $\hat{M}$"] + ([r"predicted $\hat{s}$"] if with_s_hat else [])
    titles.append("target $s$")
    fig, axes = plt.subplots(
        len(examples),
        len(titles),
        figsize=(1.5 * len(titles) + 0.9, 1.5 * len(examples)),
        squeeze=False,
        layout="constrained",
    )
    for r, e in enumerate(examples):
        images = [e.rgb, e.mask, e.pred_mask] + ([e.s_hat] if with_s_hat else []) + [e.s]
        for c, image in enumerate(images):
            ax = axes[r, c]
            shown = ax.imshow(
                image,
                cmap=None if image.ndim == 3 else ("gray" if c < 3 else "viridis"),
                vmin=0.0,
                vmax=1.0,
                interpolation="nearest",
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=9)
        axes[r, 0].set_ylabel(
            f"{e.method}{' (real)' if e.label == 0 else ''}\n{e.video.split('/')[-1]}", fontsize=8
        )
    fig.colorbar(shown, ax=axes[:, -1].tolist(), shrink=0.8, label="similarity")
    _save(fig, path)
    plt.close(fig)
    return axes.size


def fig4_png(path: Path, means: dict, real: set[str]) -> int:
    """Fig. 4: per method its mean s_hat (top row, if any) and mean target s; returns the number of panels."""
    from model.training.plots import _figure

    plt = _figure()
    names = list(means)
    with_s_hat = any(m[0] is not None for m in means.values())
    kinds = ([r"mean $\hat{s}$"] if with_s_hat else []) + ["mean target $s$"]
    low = min(float(a.min()) for m in means.values() for a in m[:2] if a is not None)
    fig, axes = plt.subplots(
        len(kinds),
        len(names),
        figsize=(1.6 * len(names) + 1.0, 1.7 * len(kinds) + 0.3),
        squeeze=False,
        layout="constrained",
    )
    for c, name in enumerate(names):
        s_hat, s, n = means[name]
        for r, image in enumerate(([s_hat] if with_s_hat else []) + [s]):
            ax = axes[r, c]
            shown = ax.imshow(image, cmap="viridis", vmin=min(low, 0.99), vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{_title(name, real)}\nn = {n}", fontsize=9)
            if c == 0:
                ax.set_ylabel(kinds[r], fontsize=9)
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label="similarity")
    _save(fig, path)
    plt.close(fig)
    return axes.size
