"""A diverging run stops at the step it diverges, before any checkpoint is written from that state.

Checked after every optimizer step: each loss term (ce, sim, seg for LRL; ce, con for MC-LCR; the total
last) must be finite and at most LOSS_LIMIT, and every weight and buffer of the network finite; the
validation scores must be finite. Otherwise `Diverged` (an LrlError: one line, exit 2) names the epoch,
the step, the term and its value, with a hint; best.pt and last.pt stay as the last good epoch left
them. The reading chosen for "diverged" beyond NaN / inf: a term above LOSS_LIMIT (measured: at
--lr 1e3 the loss reached 6.4e7; converging runs of the paper's terms stay below 10).
"""

from __future__ import annotations

import math

import torch

from pipeline.errors import LrlError

LOSS_LIMIT = 1e4
NAMES = {
    "ce": "classification (ce)",
    "sim": "similarity (sim, eq. 10)",
    "seg": "segmentation (seg)",
    "con": "contrastive (con)",
    "total": "total",
}
KEPT = "nothing was saved from this state (best.pt and last.pt are as the last good epoch left them)"


class Diverged(LrlError):
    """Training produced a non-finite (or runaway) loss, weight or score."""


def hint(lr: float) -> str:
    return (
        f"hint: lower --lr (it is {lr:g}; the paper's is 2e-4) or check the shards with "
        "`lrl-prep shards --verify`"
    )


def check_step(terms: dict[str, float], net: torch.nn.Module, epoch: int, step: int, lr: float) -> None:
    """Diverged unless every loss term is finite and <= LOSS_LIMIT and every weight and buffer is finite.

    `terms`: the step's loss terms (name -> float, "total" among them); epoch and step count from 1."""
    where = f"training diverged at epoch {epoch}, step {step}"
    for name in sorted(terms, key=lambda n: n == "total"):  # a part before the total it makes
        value = terms[name]
        if not math.isfinite(value) or abs(value) > LOSS_LIMIT:
            what = "not finite" if not math.isfinite(value) else f"above {LOSS_LIMIT:g}"
            raise Diverged(
                f"{where}: the {NAMES.get(name, name)} loss is {value:.4g} ({what}); {KEPT}; {hint(lr)}"
            )
    tensors = [(name, t) for name, t in _tensors(net) if t.is_floating_point()]
    finite = torch.stack([torch.isfinite(t).all() for _, t in tensors])  # one device sync, not one per tensor
    if not bool(finite.all()):
        bad = tensors[int((~finite).nonzero()[0])][0]
        raise Diverged(
            f"{where}: the weight {bad} is not finite after the optimizer step; {KEPT}; {hint(lr)}"
        )


def check_scores(probs, epoch: int, lr: float) -> None:
    """Diverged unless every validation score of the epoch is finite."""
    finite = torch.isfinite(torch.as_tensor(probs))
    if not finite.all():
        raise Diverged(
            f"training diverged at epoch {epoch}: {int((~finite).sum())} of {finite.numel()} "
            f"validation scores are not finite; {KEPT}; {hint(lr)}"
        )


def _tensors(net: torch.nn.Module):
    yield from net.named_parameters()
    yield from net.named_buffers()
