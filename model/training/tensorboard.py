"""TensorBoard logs of a run in RUN/tensorboard (`lrl-train --tensorboard`, on by default when the
`tensorboard` package is installed): per epoch the loss terms, lr, samples/s and validation ACC / AUC,
and a few validation samples (the same ones every epoch) as images: RGB crop, true mask, predicted
mask M_hat (eq. 12) and, for MPSM variants, the similarity pattern s_hat (eq. 8-9).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from model.detector import MASK, SIMILARITY
from pipeline.errors import LrlError

SAMPLES = 4  # validation samples shown as images


def installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def open_writer(wanted: bool | None, run: Path):
    """A SummaryWriter on RUN/tensorboard, or None when off (wanted False, or None and not installed).

    Raises LrlError when asked for (True) and the package is missing.
    """
    if wanted is False or (wanted is None and not installed()):
        return None
    if not installed():
        raise LrlError("--tensorboard: the tensorboard package is not installed (pip install tensorboard)")
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(Path(run) / "tensorboard"))


def log_scalars(writer, stats: dict, loss_keys: tuple[str, ...]) -> None:
    """One epoch's loss terms, lr, speed and validation metrics, at step = epoch."""
    step = stats["epoch"]
    for key in loss_keys:
        writer.add_scalar(f"loss/{key}", stats[key], step)
    writer.add_scalar("lr", stats["lr"], step)
    writer.add_scalar("speed/samples_per_s", stats["samples_per_s"], step)
    for key in ("val_acc", "val_auc"):
        if key in stats:
            writer.add_scalar(f"val/{key[4:]}", stats[key], step)


@torch.no_grad()
def log_samples(writer, net, samples, device, step: int) -> None:
    """SAMPLES validation samples, evenly spread over the split: crop, true and predicted mask, s_hat."""
    if len(samples) == 0:
        return
    picks = np.unique(np.linspace(0, len(samples) - 1, SAMPLES).round().astype(int))
    batch = [samples[int(i)] for i in picks]
    rgb = torch.stack([b["rgb"] for b in batch]).to(device)
    freq = torch.stack([b["freq"] for b in batch]).to(device)
    was_training = net.training
    net.eval()
    out = net(rgb, freq)
    net.train(was_training)
    writer.add_images("val/rgb", (rgb.float().cpu() + 1) / 2, step)
    writer.add_images("val/mask_true", torch.stack([b["mask"] for b in batch]), step)
    if MASK in net.shows:  # MC-LCR has no mask head
        writer.add_images("val/mask_pred", torch.sigmoid(out.mask_logits.float()).cpu(), step)
    if SIMILARITY in net.shows:
        writer.add_images("val/s_hat", out.s_hat.float().cpu()[:, None], step)
