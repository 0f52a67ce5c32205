"""The network's input, one definition for training, evaluation and lrl-predict (which reads nothing else of
the trainer): RGB crops to [-1, 1] as FaceForensics++ does ((x / 255 - 0.5) / 0.5), and the stored frequency
image (zero-mean high-pass grey levels, pipeline.kernels.dct) divided by the training set's constant
`freq_std` (index.json), so it reaches the network with unit spread; never (x / 255 - 0.5) / 0.5, which
would feed it -1 +- 0.05."""

from __future__ import annotations

import numpy as np
import torch


def rgb_input(rgb: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float32 (..., 3, H, W) in [-1, 1], (x / 255 - 0.5) / 0.5."""
    x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(rgb, -1, -3)))
    return x.float().div_(127.5).sub_(1.0)


def freq_input(freq: np.ndarray, freq_std: float) -> torch.Tensor:
    """Stored high-pass (..., H, W) -> float32 (..., 1, H, W) over freq_std."""
    x = np.ascontiguousarray(freq, dtype=np.float32) / np.float32(freq_std)
    return torch.from_numpy(x[..., None, :, :])
