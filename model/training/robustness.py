"""`lrl-train --evaluate CKPT [--evaluate CKPT2 ...] --perturb all|gb,jpeg,... [--levels 1-5] [--seed N]`.

Robustness in DeeperForensics-1.0's protocol (pipeline/kernels/perturb.py): for every perturbation and
level, the split's RGB crops are perturbed, the frequency cue x2 is recomputed from the perturbed crops by
the shards' own kernel (pipeline.kernels.dct.frequency_cue at the shard set's alpha, as lrl-prep shards does)
and divided by the checkpoint's freq_std; the stored frequency image is never perturbed. Masks and labels
are those of the clean crops. The clean row is `--evaluate`'s own pass (stored frequency images). A network
that does not read x2 (the rgb / rgb_mpsm variants, MC-LCR) is fed zeros instead of a recomputed cue.

Per checkpoint and row: frame and video ACC / AUC / EER and mask IoU of the fakes (model.training.evaluate).
Several checkpoints (e.g. the `rgb` baseline and the full model) are evaluated on one shard set, the same
perturbed crops (randomness from (seed, perturbation, level, sample index) only, so any worker layout gives
the same numbers), and written side by side: `robustness-<ckpts>-<split>-<hash>.json` (every number),
`.md` (AUC and mask IoU) and `.png` (AUC against level, one line per perturbation, one panel per checkpoint
and level of scoring), beside the first checkpoint or in --out. Every checkpoint's shard set passes the
`--evaluate` preprocessing check (model.training.run_eval.open_set) before anything is evaluated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.inputs import freq_input, rgb_input
from model.training.data import LRLSamples
from pipeline.errors import LrlError
from pipeline.kernels.perturb import LEVELS, PERTURBATIONS, perturb, perturb_sequence

CLEAN = "clean"


def parse_perturbations(text: str) -> tuple[str, ...]:
    """'all' -> every perturbation; 'gb,jpeg' -> ('gb', 'jpeg'), in the order given; LrlError naming an
    unknown one."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if names == ("all",):
        return tuple(PERTURBATIONS)
    unknown = [n for n in names if n not in PERTURBATIONS]
    if unknown or not names:
        raise LrlError(
            f"--perturb {text!r}: unknown {', '.join(unknown) or 'empty list'} "
            f"(choose all or from {', '.join(PERTURBATIONS)})"
        )
    return names


def parse_levels(text: str) -> tuple[int, ...]:
    """'1-5', '2', '1,3,5' or '1-2,5' -> sorted levels in 1..5; LrlError otherwise."""
    levels = set()
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            low, _, high = part.partition("-")
            levels.update(range(int(low), int(high or low) + 1))
    except ValueError:
        levels = set()
    if not levels or not levels <= set(LEVELS):
        raise LrlError(f"--levels {text!r}: give levels 1 to 5 as a range (1-5) or a list (1,3,5)")
    return tuple(sorted(levels))


def sample_rng(seed: int, name: str, level: int, index: int) -> np.random.Generator:
    """The randomness of one perturbed sample (or video, by its first sample): fixed by these four alone."""
    return np.random.default_rng([seed, list(PERTURBATIONS).index(name), level, index])


class PerturbedSamples(LRLSamples):
    """The split's samples under one perturbation and level, as LRLSamples gives them (rgb, freq, mask,
    label, index): x2 recomputed from the perturbed rgb at `alpha` over `freq_std`, or zeros (1, H, W) when
    `uses_freq` is False. A sequence perturbation (vc) runs on each video-and-face's crops in frame order,
    once per process for consecutive reads of one video (the evaluation reads in order; the shards hold a
    video's samples together)."""

    def __init__(
        self, shards, name: str, level: int, seed: int, alpha: float, freq_std: float, uses_freq: bool
    ):
        super().__init__(shards, freq_std=freq_std)
        self.name, self.level, self.seed, self.alpha, self.uses_freq = name, level, seed, alpha, uses_freq
        self.sequence = PERTURBATIONS[name].sequence
        self._cached: tuple[int, dict[int, np.ndarray]] | None = None
        if self.sequence:
            key = [f"{v}#{f}" for v, f in zip(shards.videos, shards.meta["face"].tolist(), strict=True)]
            _, self._group = np.unique(np.asarray(key, dtype=object), return_inverse=True)
            self._frames = np.asarray(shards.meta["frame"])

    def _sequence_rgb(self, index: int) -> np.ndarray:
        group = int(self._group[index])
        if self._cached is None or self._cached[0] != group:
            members = np.flatnonzero(self._group == group)
            members = members[np.argsort(self._frames[members], kind="stable")]
            frames = np.stack([self.shards[int(i)]["rgb"] for i in members])
            rng = sample_rng(self.seed, self.name, self.level, int(members[0]))
            out = perturb_sequence(frames, self.name, self.level, rng)
            self._cached = (group, dict(zip(members.tolist(), out, strict=True)))
        return self._cached[1][index]

    def __getitem__(self, index: int) -> dict:
        s = self.shards[index]
        if self.sequence:
            rgb = self._sequence_rgb(index)
        else:
            rng = sample_rng(self.seed, self.name, self.level, index)
            rgb = perturb(s["rgb"], self.name, self.level, rng)
        if self.uses_freq:
            from pipeline.kernels.dct import frequency_cue

            freq = freq_input(frequency_cue(rgb, self.alpha), self.freq_std)  # eq. 1-3 on the perturbed crop
        else:
            freq = torch.zeros(1, *rgb.shape[:2])
        return {
            "rgb": rgb_input(rgb),
            "freq": freq,
            "mask": torch.from_numpy(np.ascontiguousarray(s["mask"])[None].astype(np.float32)),
            "label": torch.tensor(float(s["label"])),
            "index": index,
        }


def row(rep: dict, checkpoint: str, perturbation: str, level: int) -> dict:
    """One table row from model.training.evaluate.report: overall frame / video scores, mask IoU of fakes."""
    p = PERTURBATIONS.get(perturbation)
    return {
        "checkpoint": checkpoint,
        "perturbation": perturbation,
        "level": level,
        "parameter": p.param(level) if p else None,
        "frame": rep["frame"]["overall"],
        "video": rep["video"]["overall"],
        "mask_iou_fake": rep["mask_iou"]["fake"],
    }


@dataclass
class Evaluated:
    """One checkpoint ready to run: its label in the table, file, network, config and what it reads."""

    label: str
    path: Path
    net: torch.nn.Module
    cfg: object
    about: dict
    shard_set: object  # run_eval.CheckedSet, checked against the checkpoint's preprocessing
    freq_std: float
    uses_freq: bool


def labels_of(paths: list[Path]) -> list[str]:
    """Short distinct names of checkpoints: their stems, else their folders (runs/full/best.pt -> full), else
    folder-stem; a number is added when those still repeat."""
    for names in (
        [p.stem for p in paths],
        [p.parent.name for p in paths],
        [f"{p.parent.name}-{p.stem}" for p in paths],
    ):
        if len(set(names)) == len(names):
            return names
    return [f"{p.parent.name}-{p.stem}-{i}" for i, p in enumerate(paths, 1)]


def _open(path: Path, label: str, opts, device_name):
    """Load one checkpoint (model.training.checkpoint) and check its shard set (run_eval.open_set)."""
    from model.training import checkpoint
    from model.training.run_eval import open_set

    state = checkpoint.load(path)
    net, cfg, trained = checkpoint.from_state(state, device_name)
    source = Path(opts.shards[0] if opts.shards else cfg.data.shards)
    shard_set = open_set(source, cfg, trained, net.shows, opts, path.name)
    if len(shard_set.samples) == 0:
        raise LrlError(f"{source}: no samples in split {opts.split!r}")
    freq_std = trained.freq_std or shard_set.samples.freq_std
    uses_freq = getattr(net, "freq", None) is not None
    about = {
        "label": label,
        "path": str(path.resolve()),
        "epoch": state.get("epoch"),
        "detector": cfg.detector,
        "variant": cfg.model.variant,
        "freq_std": freq_std,
        "trained_on": trained.to_dict(),
    }
    return Evaluated(label, path, net, cfg, about, shard_set, freq_std, uses_freq)


def _same_shards(runs: list[Evaluated]) -> None:
    places = {str(r.shard_set.source.resolve()) for r in runs}
    if len(places) > 1:
        raise LrlError(
            f"the checkpoints were trained on different shard sets ({', '.join(sorted(places))}): "
            "give --shards to evaluate them on the same one"
        )


def _predict(run: Evaluated, samples, device):
    from model.training.evaluate import predict

    cfg = run.cfg
    return predict(
        run.net,
        samples,
        device,
        cfg.data.batch_size,
        cfg.data.workers,
        cfg.run.bf16 and device.type == "cuda",
    )


def evaluate_robustness(
    ckpts,
    opts,
    perturbations=tuple(PERTURBATIONS),
    levels=LEVELS,
    seed: int = 0,
    progress: bool = False,
    device: str | None = None,
) -> str:
    """Evaluate each checkpoint of `ckpts` clean and under every perturbation x level on one shard set
    as `opts` (run_eval.EvalOptions: split, at most one of shards, default the checkpoints' common training
    shards, out, force, include_interpolated, datasets, keep) says; write the json, md and png (module
    docstring) and return the lines to print: the aligned table and the files written. Raises LrlError
    before evaluating anything when a checkpoint is unreadable, a shard set is refused by the preprocessing
    check (unless `force`) or holds no sample of the split, or the checkpoints' training shards differ and
    no `shards` is given."""
    from tqdm import tqdm

    from model.training import robustness_report as report_files
    from model.training.evaluate import report
    from pipeline.store.atomic import write_bytes, write_json
    from pipeline.store.index import digest

    split, out, datasets = opts.split, opts.out, opts.datasets
    include_interpolated = opts.include_interpolated
    paths = [Path(c) for c in ckpts]
    runs = [_open(p, label, opts, device) for p, label in zip(paths, labels_of(paths), strict=True)]
    _same_shards(runs)
    tasks = [(CLEAN, 0)] + [(name, level) for name in perturbations for level in levels]
    rows = []
    with tqdm(total=len(runs) * len(tasks), desc="robustness", disable=not progress) as bar:
        for run in runs:
            dev = next(run.net.parameters()).device
            alpha = run.shard_set.settings.alpha
            for name, level in tasks:
                bar.set_postfix_str(f"{run.label} {name} {level or ''}".rstrip())
                samples = (
                    LRLSamples(run.shard_set.samples, freq_std=run.freq_std)
                    if name == CLEAN
                    else PerturbedSamples(
                        run.shard_set.samples, name, level, seed, alpha, run.freq_std, run.uses_freq
                    )
                )
                rows.append(row(report(_predict(run, samples, dev)), run.label, name, level))
                bar.update()
    s = runs[0].shard_set
    key = json.dumps(
        [
            [r.about["path"] for r in runs],
            [r.about["epoch"] for r in runs],
            s.name,
            split,
            list(perturbations),
            list(levels),
            seed,
            include_interpolated,
        ]
    )
    tag = hashlib.sha256(key.encode()).hexdigest()[:10]
    name = f"robustness-{'+'.join(r.label for r in runs)}-{split}-{tag}"
    folder = Path(out or paths[0].parent)
    folder.mkdir(parents=True, exist_ok=True)
    labels = [r.label for r in runs]
    write_json(
        folder / f"{name}.json",
        {
            "checkpoints": [r.about for r in runs],
            "split": split,
            "seed": seed,
            "levels": list(levels),
            "shard_set": {
                "path": str(s.source.resolve()),
                "index": digest(s.index),
                "settings": s.settings.to_dict(),
                "forced": [r.shard_set.forced for r in runs],
            },
            "include_interpolated": include_interpolated,
            "datasets": list(datasets or []),
            "perturbations": {
                p: {
                    "title": PERTURBATIONS[p].title,
                    "parameter": PERTURBATIONS[p].parameter,
                    "levels": list(PERTURBATIONS[p].params),
                }
                for p in perturbations
            },
            "rows": rows,
        },
    )
    write_bytes(folder / f"{name}.md", report_files.markdown(rows, labels).encode())
    report_files.plot(folder / f"{name}.png", rows, labels)
    return "\n".join(
        report_files.text(rows, labels)
        + [f"robustness: {folder / name}.{ext}" for ext in ("json", "md", "png")]
    )
