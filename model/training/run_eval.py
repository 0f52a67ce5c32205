"""`lrl-train --evaluate CKPT --split SPLIT`: metrics JSON and ROC PNG beside the checkpoint."""

from __future__ import annotations

from pathlib import Path

from model import build_model
from model.training import checkpoint, distributed
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict, report, save_report, summary_line
from pipeline.errors import LrlError
from pipeline.store.reader import ShardDataset


def evaluate_checkpoint(ckpt: Path, split: str, shards: Path | None = None, out: Path | None = None) -> str:
    """Evaluate a checkpoint on one split; returns the summary line."""
    state = checkpoint.load(ckpt)
    cfg = TrainConfig.from_dict(state["config"])
    device = distributed.pick_device(cfg.device, distributed.Dist())
    net = build_model(cfg.model_config()).to(device)
    net.load_state_dict(state["model"])
    samples = LRLSamples(ShardDataset(shards or cfg.shards, split), freq_std=state["metrics"].get("freq_std"))
    if len(samples) == 0:
        raise LrlError(f"{shards or cfg.shards}: no samples in split {split!r}")
    pred = predict(net, samples, device, cfg.batch_size, cfg.workers, cfg.bf16 and device.type == "cuda")
    rep = report(pred)
    save_report(Path(out or Path(ckpt).parent), split, pred, rep)
    return summary_line(split, rep)
