"""Collapse guard: how far the predicted similarity pattern s_hat stays from "everything alike".

The literal reading of eq. 10 drove s_hat to 1 everywhere (model/losses.py): the mean off-diagonal
1 - s_hat fell from 0.46 to 0.008 in 250 steps, for reals and fakes alike, and the classifier that reads
s_hat stayed at chance. Per epoch the trainer logs that mean separately for real and fake training samples
(`dissim_real`, `dissim_fake` in log.jsonl and on the epoch line) and prints a warning when both fall
under COLLAPSE. A healthy model keeps reals near 0 (their target s is 1 everywhere) and fakes near the
mean target of their masks (0.03-0.27 per method on the demo); only both near 0 means collapse.
"""

from __future__ import annotations

import torch

COLLAPSE = 0.01  # both means under this: s_hat ~ 1 for every sample (collapsed runs measured 0.008)


def off_diagonal_dissimilarity(s_hat: torch.Tensor) -> torch.Tensor:
    """(B, N, N) -> (B,): mean of 1 - s_hat_ij over the N (N - 1) entries i != j (the diagonal
    is always 1)."""
    n = s_hat.shape[-1]
    total = (1.0 - s_hat.float()).sum(dim=(1, 2)) - (1.0 - s_hat.float().diagonal(dim1=1, dim2=2)).sum(1)
    return total / max(n * (n - 1), 1)


def dissimilarity_sums(s_hat: torch.Tensor | None, label: torch.Tensor) -> torch.Tensor:
    """float64 (4,): sum of off-diagonal 1 - s_hat over reals, number of reals, the same over fakes."""
    if s_hat is None:
        return torch.zeros(4, dtype=torch.float64)
    d = off_diagonal_dissimilarity(s_hat.detach()).double().cpu()
    fake = label.detach().cpu().reshape(-1) > 0.5
    return torch.stack([d[~fake].sum(), (~fake).sum().double(), d[fake].sum(), fake.sum().double()])


def dissimilarity_stats(sums: torch.Tensor) -> dict:
    """{"dissim_real", "dissim_fake"} from accumulated dissimilarity_sums (a key is left out without
    samples)."""
    out = {}
    for name, (total, count) in (("dissim_real", sums[0:2]), ("dissim_fake", sums[2:4])):
        if count > 0:
            out[name] = float(total / count)
    return out


def collapse_warning(h: dict) -> str | None:
    """The warning line for an epoch whose reals and fakes both have s_hat ~ 1, else None."""
    real, fake = h.get("dissim_real"), h.get("dissim_fake")
    if real is None or fake is None or max(real, fake) >= COLLAPSE:
        return None
    return (
        f"warning: epoch {h['epoch']}: s_hat is collapsing to 1 "
        f"(mean off-diagonal 1 - s_hat: reals {real:.4f}, "
        f"fakes {fake:.4f}, both < {COLLAPSE}); the classifier on s_hat cannot separate them"
    )
