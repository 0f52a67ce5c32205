"""Checkpoints: model, optimizer, scheduler, epoch, RNG states, config and the shards' preprocessing; loadable
with weights_only. `load` is the one reader of checkpoint files; `load_checkpoint` (or `from_state`, for a
caller that also wants the epoch or the optimizer) the one way to a trained network, its TrainConfig and its
pipeline.store.preprocessing.Preprocessing, for evaluation, lrl-predict, the figures and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import torch

from model.weights import read_tensors
from pipeline.errors import LrlError, short_reason
from pipeline.store.atomic import atomic_path
from pipeline.store.preprocessing import Preprocessing


def save(path: Path, model, optimizer, scheduler, epoch: int, config: dict, metrics: dict) -> None:
    """Write a checkpoint atomically. `epoch` is the number of epochs completed."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "config": config,
        "metrics": metrics,
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    with atomic_path(Path(path)) as tmp:
        torch.save(state, tmp)


def load(path: Path, map_location="cpu") -> dict:
    """Read a checkpoint with weights_only=True; a clear one-line error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise LrlError(f"{path}: no such checkpoint")
    try:
        state = read_tensors(path, map_location)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt files
        text = str(exc).split("WeightsUnpickler error:", 1)[-1]  # torch's cause, after its advice
        why = short_reason(text) or type(exc).__name__
        raise LrlError(f"{path}: not a readable lrl checkpoint ({why})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise LrlError(f"{path}: not an lrl checkpoint (no model state or config inside)")
    return state


def from_state(state: dict, device: str | None = None):
    """(network in eval mode on `device`, TrainConfig, Preprocessing) of a checkpoint `load` read. `device`:
    auto, cpu or cuda (None: the config's own). The backbone weights are not read again (the state holds
    them); the input normalisation still follows the config's `pretrained`. The preprocessing is the
    checkpoint's `metrics["shards"]` with its own `metrics["freq_std"]` (a record with `recorded` False
    for checkpoints made before lrl recorded it)."""
    from model import build_model
    from model.training.config import TrainConfig
    from pipeline.devices import torch_device as resolve

    cfg = TrainConfig.from_dict(state["config"])
    torch_device = resolve(device or cfg.run.device)
    net = build_model(cfg.model, load_weights=False)
    net.load_state_dict(state["model"])
    metrics = state.get("metrics") or {}
    prep = Preprocessing.from_dict(metrics.get("shards"), metrics.get("freq_std"))
    return net.to(torch_device).eval(), cfg, prep


def load_checkpoint(path: Path, device: str | None = None):
    """(network in eval mode on `device`, TrainConfig, Preprocessing) of the checkpoint at `path`
    (from_state); LrlError (one line, naming the file) when it is not a readable lrl checkpoint."""
    return from_state(load(path), device)


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["rng_cpu"])
    if torch.cuda.is_available() and state.get("rng_cuda"):
        torch.cuda.set_rng_state_all(state["rng_cuda"])
