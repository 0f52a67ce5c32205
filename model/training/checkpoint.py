"""Checkpoints: model, optimizer, scheduler, epoch, RNG states and config; loadable with weights_only."""

from __future__ import annotations

from pathlib import Path

import torch

from pipeline.errors import LrlError, short_reason
from pipeline.store.atomic import atomic_path


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
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt files
        text = str(exc).split("WeightsUnpickler error:", 1)[-1]  # torch's cause, after its advice
        why = short_reason(text) or type(exc).__name__
        raise LrlError(f"{path}: not a readable lrl checkpoint ({why})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise LrlError(f"{path}: not an lrl checkpoint (no model state or config inside)")
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["rng_cpu"])
    if torch.cuda.is_available() and state.get("rng_cuda"):
        torch.cuda.set_rng_state_all(state["rng_cuda"])
