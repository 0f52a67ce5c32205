"""`lrl-train --evaluate CKPT --split SPLIT [--figures]`: metrics JSON, ROC PNG (and Fig. 3 / 4) beside the checkpoint.

The shards must be preprocessed as the checkpoint's were (crop size, alpha of eq. 2, mask threshold,
reference quality and source, schema version, and the frequency spread within FREQ_STD_TOLERANCE):
a mismatch is refused with a one-line reason unless `force`. The checkpoint's own freq_std always
normalises the frequency input. Results are named by checkpoint, split and a short hash of the shard
index (`metrics-<ckpt>-<split>-<hash>.json`, `roc-...png`), so no evaluation overwrites another shard
set's; the metrics file records the checkpoint, the shards' path and both sets of settings.
"""

from __future__ import annotations

from pathlib import Path

from model import build_model
from model.training import checkpoint, distributed
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict, report, save_report, summary_line
from pipeline.errors import LrlError
from pipeline.store.index import digest, load_index, preprocessing
from pipeline.store.reader import ShardDataset

FREQ_STD_TOLERANCE = 0.05  # relative: the same preprocessing of the same data gives the same freq_std


def mismatches(trained: dict | None, given: dict) -> list[str]:
    """How the given shards' preprocessing differs from the one the checkpoint was trained on."""
    if trained is None:
        return ["the checkpoint records no shard preprocessing (made before lrl recorded it)"]
    out = [f"{name} {given.get(name)!r}, trained on {trained.get(name)!r}"
           for name in ("size", "alpha", "schema_version") if given.get(name) != trained.get(name)]
    mask_given, mask_trained = given.get("mask_params") or {}, trained.get("mask_params") or {}
    out += [f"mask {name} {mask_given.get(name)!r}, trained on {mask_trained.get(name)!r}"
            for name in sorted(set(mask_given) | set(mask_trained)) if mask_given.get(name) != mask_trained.get(name)]
    std, ref = given.get("freq_std") or 0.0, trained.get("freq_std") or 0.0
    if abs(std - ref) > FREQ_STD_TOLERANCE * max(abs(ref), 1e-12):
        out.append(f"freq_std {std:.4g}, trained on {ref:.4g}")
    return out


def evaluate_checkpoint(ckpt: Path, split: str, shards: Path | None = None, out: Path | None = None,
                        figures: bool = False, force: bool = False, include_interpolated: bool = False) -> str:
    """Evaluate a checkpoint on one split; returns the summary line, one line per file written (with
    `figures`, then one line per note and one naming the figures written: model.training.figures).
    Frames whose face box was interpolated are left out unless `include_interpolated`.

    Raises LrlError when the shards are preprocessed unlike the checkpoint's (unless `force`) or the
    split has no samples."""
    state = checkpoint.load(ckpt)
    cfg = TrainConfig.from_dict(state["config"])
    source = Path(shards or cfg.shards)
    index = load_index(source)
    given, trained = preprocessing(index), state["metrics"].get("shards")
    differ = mismatches(trained, given)
    if differ and not force:
        raise LrlError(f"{source}: shards unlike {Path(ckpt).name}'s: {'; '.join(differ)} (--force evaluates anyway)")
    device = distributed.pick_device(cfg.device, distributed.Dist())
    net = build_model(cfg.model_config()).to(device)
    net.load_state_dict(state["model"])
    dataset = ShardDataset(source, split, interpolated=include_interpolated, qualities=cfg.quality_list)
    samples = LRLSamples(dataset, freq_std=state["metrics"].get("freq_std"))
    if len(samples) == 0:
        raise LrlError(f"{source}: no samples in split {split!r}")
    collect = None
    if figures and cfg.model != "lrl":
        raise LrlError(f"{ckpt}: --figures draws LRL's Fig. 3 and 4 (masks, s_hat); a {cfg.model} model has neither")
    if figures:
        from model.training.figures import SimilarityFigures

        collect = SimilarityFigures(samples.shards, cfg.k)
    bf16 = cfg.bf16 and device.type == "cuda"
    pred = predict(net, samples, device, cfg.batch_size, cfg.workers, bf16, on_batch=collect)
    rep = report(pred)
    folder = Path(out or Path(ckpt).parent)
    about = {"checkpoint": {"path": str(Path(ckpt).resolve()), "epoch": state.get("epoch"), "trained_on": trained},
             "shards": {"path": str(source.resolve()), "index": digest(index), "split": split, "settings": given},
             "forced": differ if force else []}
    name = f"{Path(ckpt).stem}-{split}-{digest(index)}"
    lines = [summary_line(split, rep)] + save_report(folder, name, pred, {**about, **rep})
    if collect is not None:
        panels, notes = collect.draw(folder, split, cfg.variant)
        lines += [f"figures: {note}" for note in notes]
        lines.append(f"figures: {len(panels)} PNGs in {folder}: {', '.join(p.name for p in panels)}")
    return "\n".join(lines)
