"""The one reader of torch files (checkpoints, packaged backbone weights): tensors only (weights_only)."""

from __future__ import annotations

from pathlib import Path

import torch


def read_tensors(path: Path | str, map_location="cpu"):
    """The object saved at `path`, read with weights_only=True (tensors, dicts, lists, numbers, strings).
    Raises whatever torch raises for a missing or corrupt file; callers turn it into their one-line error."""
    return torch.load(path, map_location=map_location, weights_only=True)
