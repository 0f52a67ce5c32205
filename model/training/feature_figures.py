"""The paper's Fig. 5 (feature maps) and Fig. 6 (robustness toward noises), from a checkpoint and an optional
baseline (`lrl-train --evaluate CKPT --figures [--baseline CKPT]`).

Fig. 5, one row per face: a real and one fake of each method, each the sample of the split whose known mask
is largest (reals: the middle sample), as in the paper's Real / DF / F2F / FS / NT rows. Columns: the input,
its mask M, then per model and stream the feature map at each RFAM tap (low, mid, high): the stream's stage
output U^l (RFAM's input, eq. 4), shown as the mean over channels of |U^l|, upsampled (bilinear) to the crop
and scaled to [0, 1] per panel. The baseline (the paper's: `--variant rgb`) has the RGB stream only.
Fig. 6: the fake with the largest known mask, clean and under Gaussian blur, Gaussian noise, JPEG compression
and a random patch (level FIG6_LEVEL of pipeline/kernels/perturb.py; x2 recomputed from the perturbed crop as
in model.training.robustness); rows: the input, then per model its predicted mask M_hat (eq. 12) with the
fake probability y_hat, and its s_hat (eq. 7) when it has MPSM; a last column holds the truth (M, target s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from model.mpsm import similarity_target
from pipeline.errors import LrlError

FIG6 = (("clean", 0), ("gb", 3), ("gnc", 3), ("jpeg", 3), ("patch", 3))  # (perturbation, level)
FIG6_TITLES = {
    "clean": "clean",
    "gb": "blur",
    "gnc": "Gaussian noise",
    "jpeg": "compression (JPEG)",
    "patch": "random patch",
}
TAPS = ("low", "mid", "high")


def chosen_faces(shards) -> list[int]:
    """Fig. 5's rows: per method (reals first), the index of its sample with the largest known mask (reals and
    ties: the first of them in the middle of the method's samples)."""
    from pipeline.store.reader import ShardDataset

    masks = ShardDataset(shards.source, shards.split, fields=("mask",))
    keep = {i: k for k, i in enumerate(_same_samples(masks, shards))}
    labels, methods = np.asarray(shards.labels), np.asarray(shards.methods, dtype=object)
    known = np.asarray(shards.meta["mask_known"]) != 0
    out = []
    for method in sorted(set(methods), key=lambda m: (bool(labels[methods == m].any()), m)):
        where = np.flatnonzero(methods == method)
        where = np.roll(where, -(len(where) // 2))  # start in the middle: ties go to a middle sample
        area = [int((masks[keep[i]]["mask"] > 0).sum()) if known[i] and labels[i] else 0 for i in where]
        out.append(int(where[int(np.argmax(area))]))
    return out


def _same_samples(masks, shards) -> list[int]:
    """The position in `masks` of each sample of `shards` (same split and source, other filters)."""

    def places(d) -> list:
        return list(zip(d.meta["shard"].tolist(), d.meta["local"].tolist(), strict=True))

    where = {place: k for k, place in enumerate(places(masks))}
    return [where[place] for place in places(shards)]


@torch.no_grad()
def stream_maps(net, item: dict) -> dict[str, list[np.ndarray]]:
    """{'rgb': [low, mid, high], 'freq': [...] (two-stream nets)}: mean |U^l| over channels, (h, w)."""
    maps: dict[str, list[np.ndarray]] = {"rgb": []}
    hooks = [
        stage.register_forward_hook(lambda m, i, o, n="rgb": maps[n].append(_energy(o)))
        for stage in net.rgb.stages
    ]
    if net.freq is not None:
        maps["freq"] = []
        hooks += [
            stage.register_forward_hook(lambda m, i, o, n="freq": maps[n].append(_energy(o)))
            for stage in net.freq.stages
        ]
    try:
        net.eval()
        device = next(net.parameters()).device
        net(item["rgb"][None].to(device), item["freq"][None].to(device))
    finally:
        for h in hooks:
            h.remove()
    return maps


def _energy(u: torch.Tensor) -> np.ndarray:
    return u[0].float().abs().mean(0).cpu().numpy()


def _upsampled(feature: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    up = cv2.resize(feature, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return (up - up.min()) / (up.max() - up.min() + 1e-12)


@torch.no_grad()
def outputs(net, item: dict) -> tuple[np.ndarray, np.ndarray | None, float]:
    """(M_hat (H, W) in [0, 1], s_hat (k^2, k^2) or None, y_hat) of one sample."""
    net.eval()
    device = next(net.parameters()).device
    out = net(item["rgb"][None].to(device), item["freq"][None].to(device))
    s_hat = None if out.s_hat is None else out.s_hat[0].float().cpu().numpy()
    return torch.sigmoid(out.mask_logits[0, 0].float()).cpu().numpy(), s_hat, float(out.prob[0])


def _crop(item: dict) -> np.ndarray:
    return ((item["rgb"].permute(1, 2, 0).numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)


def open_runs(ckpt, baseline, opts) -> list:
    """The checkpoint and the optional baseline, loaded and checked as `opts` (run_eval.EvalOptions) says
    (the baseline on the checkpoint's shard set), the baseline first as in the paper. LrlError, before
    anything is drawn or evaluated, when more than one shard set is given, either is not an LRL network or
    fails the preprocessing check."""
    from dataclasses import replace

    from model.training.robustness import _open

    if len(opts.shards) > 1:
        raise LrlError("--figures draws from one shard set: give one --shards")
    opts = replace(opts, datasets=None, keep=None)
    runs = [_open(Path(ckpt), "LRL", opts, None)]
    if baseline:
        same = replace(opts, shards=(runs[0].shard_set.source,))
        runs.append(_open(Path(baseline), "baseline", same, None))
    for run in runs:
        if run.cfg.detector != "lrl":
            raise LrlError(
                f"{run.path}: Fig. 5 and 6 draw LRL's streams and masks; "
                f"a {run.cfg.detector} model has neither"
            )
    return runs[::-1]


def draw_figures(runs: list, split: str, folder: Path, seed: int = 0) -> str:
    """Write fig5-<split>.png and fig6-<split>.png of `runs` (open_runs) into `folder`; the lines to print."""
    folder = Path(folder)
    fig5, fig6 = folder / f"fig5-{split}.png", folder / f"fig6-{split}.png"
    faces = chosen_faces(runs[0].shard_set.samples)
    fig5_png(fig5, runs, faces)
    fig6_png(fig6, runs, faces, seed)
    return "\n".join([f"figures: Fig. 5: {fig5}", f"figures: Fig. 6: {fig6}"])


def fig5_png(path: Path, runs, indices: list[int]) -> None:
    """Fig. 5 (module docstring) of the samples `indices`, one row each."""
    from model.training.data import LRLSamples
    from model.training.figures import _save
    from model.training.plots import _figure

    plt = _figure()
    samples = [LRLSamples(run.shard_set.samples, freq_std=run.freq_std) for run in runs]
    shards = runs[0].shard_set.samples
    streams = [(r, s) for r in runs for s in ("rgb", "freq") if s == "rgb" or r.net.freq is not None]
    columns = ["input", "mask $M$"] + [f"{r.label} {s} {tap}" for r, s in streams for tap in TAPS]
    size = (1.25 * len(columns), 1.35 * len(indices) + 0.4)
    fig, axes = plt.subplots(len(indices), len(columns), figsize=size, squeeze=False, layout="constrained")
    for row, index in enumerate(indices):
        item = samples[0][index]
        size = item["rgb"].shape[-2:]
        panels = [_crop(item), item["mask"][0].numpy()]
        for r, s in streams:
            maps = stream_maps(r.net, samples[runs.index(r)][index])
            panels += [_upsampled(m, size) for m in maps[s]]
        for c, image in enumerate(panels):
            ax = axes[row, c]
            ax.imshow(image, cmap=None if image.ndim == 3 else ("gray" if c == 1 else "jet"), vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[c], fontsize=7)
        real = " (real)" if shards.labels[index] == 0 else ""
        axes[row, 0].set_ylabel(f"{shards.methods[index]}{real}", fontsize=7)
    _save(fig, path)
    plt.close(fig)


def fig6_png(path: Path, runs, indices: list[int], seed: int) -> None:
    """Fig. 6 (module docstring) of the fake with the largest known mask among `indices` (Fig. 5's rows)."""
    from model.training.data import LRLSamples
    from model.training.figures import _save
    from model.training.plots import _figure

    shards = runs[0].shard_set.samples
    fakes = [i for i in indices if shards.labels[i] == 1]
    if not fakes:
        raise LrlError(f"{shards.source}: no fake in split {shards.split!r} to draw Fig. 6 from")
    clean = LRLSamples(shards, freq_std=runs[0].freq_std)
    index = max(fakes, key=lambda i: float(clean[i]["mask"].sum()))
    rows = ["input"] + [
        f"{r.label} {kind}"
        for r in runs
        for kind in ("mask", "s_hat")
        if kind == "mask" or r.net.mpsm is not None
    ]
    plt = _figure()
    size = (1.6 * (len(FIG6) + 1) + 0.4, 1.55 * len(rows))
    fig, axes = plt.subplots(len(rows), len(FIG6) + 1, figsize=size, squeeze=False, layout="constrained")
    for c, (name, level) in enumerate(FIG6):
        items = [_item(r, name, level, index, seed) for r in runs]
        column = [(_crop(items[0]), None, None)]
        for r, item in zip(runs, items, strict=True):
            m_hat, s_hat, prob = outputs(r.net, item)
            column.append((m_hat, "gray", f"$\\hat{{y}}$ {prob:.2f}"))
            column += [(s_hat, "viridis", None)] if r.net.mpsm is not None else []
        _column(axes[:, c], column, FIG6_TITLES[name] + (f" L{level}" if level else ""))
    truth = clean[index]
    s = similarity_target(truth["mask"][None], runs[-1].cfg.model.k)[0].numpy()
    mask = truth["mask"][0].numpy()
    truths = [(mask, "gray", None) if r.endswith("mask") else (s, "viridis", None) for r in rows[1:]]
    _column(axes[:, -1], [(_crop(truth), None, None)] + truths, "truth ($M$, $s$)")
    for r, label in enumerate(rows):
        axes[r, 0].set_ylabel(label.replace("s_hat", r"$\hat{s}$").replace("mask", r"$\hat{M}$"), fontsize=8)
    fig.suptitle(f"{shards.methods[index]} {shards.videos[index].split('/')[-1]}", fontsize=9)
    _save(fig, path)
    plt.close(fig)


def _item(run, name: str, level: int, index: int, seed: int) -> dict:
    from model.training.data import LRLSamples
    from model.training.robustness import PerturbedSamples

    shards = run.shard_set.samples
    if name == "clean":
        return LRLSamples(shards, freq_std=run.freq_std)[index]
    return PerturbedSamples(
        shards, name, level, seed, run.shard_set.settings.alpha, run.freq_std, run.uses_freq
    )[index]


def _column(axes, panels, title: str) -> None:
    """One Fig. 6 column: (image, colour map, caption) per row, on a fixed [0, 1] scale."""
    for r, (image, cmap, caption) in enumerate(panels):
        ax = axes[r]
        ax.imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if caption:
            ax.set_xlabel(caption, fontsize=7)
        if r == 0:
            ax.set_title(title, fontsize=8)
