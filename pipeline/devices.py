"""The torch device of a command: `--device auto | cpu | cuda` (auto: CUDA when present).

One resolver for face detection (pipeline.kernels.faces), training and evaluation
(model.training.distributed) and prediction. torch is imported inside the functions.
"""

from __future__ import annotations

from pipeline.errors import LrlError

DEVICES = ("auto", "cpu", "cuda")


def device_name(name: str) -> str:
    """ "cpu" or "cuda" for a --device value; auto picks cuda when available.

    Raises LrlError (one line) for a name not in DEVICES and for cuda without a CUDA device.
    """
    if name not in DEVICES:
        raise LrlError(f"--device {name}: choose one of {', '.join(DEVICES)}")
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise LrlError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    return name


def torch_device(name: str, local_rank: int = 0):
    """The torch.device of a --device value: on CUDA this process's local GPU (`local_rank`, made current)."""
    import torch

    if device_name(name) == "cuda":
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")
