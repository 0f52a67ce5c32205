"""`lrl-train --evaluate CKPT --split SPLIT [--figures]`: metrics JSON, ROC PNG (and Fig. 3 / 4) beside the checkpoint."""

from __future__ import annotations

from pathlib import Path

from model import build_model
from model.training import checkpoint, distributed
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict, report, save_report, summary_line
from pipeline.errors import LrlError
from pipeline.store.reader import ShardDataset


def evaluate_checkpoint(ckpt: Path, split: str, shards: Path | None = None, out: Path | None = None,
                        figures: bool = False) -> str:
    """Evaluate a checkpoint on one split; returns the summary line (with `figures`, then one line per note and
    one naming the figures written: model.training.figures)."""
    state = checkpoint.load(ckpt)
    cfg = TrainConfig.from_dict(state["config"])
    device = distributed.pick_device(cfg.device, distributed.Dist())
    net = build_model(cfg.model_config()).to(device)
    net.load_state_dict(state["model"])
    samples = LRLSamples(ShardDataset(shards or cfg.shards, split), freq_std=state["metrics"].get("freq_std"))
    if len(samples) == 0:
        raise LrlError(f"{shards or cfg.shards}: no samples in split {split!r}")
    collect = None
    if figures:
        from model.training.figures import SimilarityFigures

        collect = SimilarityFigures(samples.shards, cfg.k)
    bf16 = cfg.bf16 and device.type == "cuda"
    pred = predict(net, samples, device, cfg.batch_size, cfg.workers, bf16, on_batch=collect)
    rep = report(pred)
    folder = Path(out or Path(ckpt).parent)
    save_report(folder, split, pred, rep)
    lines = [summary_line(split, rep)]
    if collect is not None:
        panels, notes = collect.draw(folder, split, cfg.variant)
        lines += [f"figures: {note}" for note in notes]
        lines.append(f"figures: {len(panels)} PNGs in {folder}: {', '.join(p.name for p in panels)}")
    return "\n".join(lines)
