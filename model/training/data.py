"""Torch view of the shards: normalised tensors, identical flips of rgb / freq / mask, samplers.

Normalisation (model.inputs, which lrl-predict reads too): RGB to [-1, 1] as FaceForensics++ does
((x / 255 - 0.5) / 0.5); the frequency image (zero-mean high-pass grey levels) divided by the shard set's
`freq_std`, so it reaches the network with unit spread (unlike the peers' constant -1). Random choices
derive from (seed, epoch, index), so an epoch is reproducible after `--resume` whatever the worker layout.

Augmentation (`--augment`, off by default as in the paper, whose training has flips only): with probability
AUGMENT_P a training sample gets one perturbation of pipeline/kernels/perturb.py, drawn uniformly from
AUGMENT_KINDS (every per-crop one: vc needs a video's crop sequence) at a uniform level 1-5; its frequency
image is then recomputed from the perturbed crop by the shards' kernel at the shard set's alpha. Masks and
labels are kept (a perturbation does not move the forged region).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from model.inputs import freq_input, rgb_input
from pipeline.store.reader import ShardDataset

AUGMENT_P = 0.5
AUGMENT_KINDS = ("cs", "cc", "bw", "gnc", "gb", "pixel", "jpeg", "patch")


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, index])


class LRLSamples(Dataset):
    """Samples of one split as tensors: rgb (3,H,W), freq (1,H,W), mask (1,H,W), label ()."""

    def __init__(
        self,
        shards: ShardDataset,
        hflip: bool = False,
        seed: int = 0,
        freq_std: float | None = None,
        augment: bool = False,
    ):
        self.shards = shards
        self.freq_std = freq_std or shards.freq_std  # the training set's spread, also at evaluation
        self.hflip = hflip
        self.seed = seed
        self.epoch = 0
        self.alpha = _alpha(shards) if augment else None  # None: no augmentation

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.shards)

    def __getitem__(self, index: int) -> dict:
        s = self.shards[index]
        rgb, freq, mask = s["rgb"], s["freq"], s["mask"]
        rng = sample_rng(self.seed, self.epoch, index)
        if self.hflip and rng.random() < 0.5:
            rgb, freq, mask = rgb[:, ::-1], freq[:, ::-1], mask[:, ::-1]
        if self.alpha is not None and rng.random() < AUGMENT_P:
            rgb, freq = augmented(rgb, rng, self.alpha)
        return {
            "rgb": rgb_input(rgb),
            "freq": freq_input(freq, self.freq_std),
            "mask": torch.from_numpy(np.ascontiguousarray(mask)[None].astype(np.float32)),
            "label": torch.tensor(float(s["label"])),
            "index": index,
        }


def _alpha(shards: ShardDataset) -> float:
    from pipeline.store.index import preprocessing

    return float(preprocessing(shards.index).alpha)


def augmented(rgb: np.ndarray, rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(perturbed crop, its frequency image (H, W) float32, eq. 1-3): one of AUGMENT_KINDS at a level 1-5."""
    from pipeline.kernels.dct import frequency_cue
    from pipeline.kernels.perturb import perturb

    name = AUGMENT_KINDS[int(rng.integers(len(AUGMENT_KINDS)))]
    out = perturb(np.ascontiguousarray(rgb), name, int(rng.integers(1, 6)), rng)
    return out, frequency_cue(out, alpha)


class BalancedSampler(Sampler[int]):
    """Reals and fakes drawn equally often (with replacement) and alternated, split across ranks.

    Each rank's sequence alternates real and fake, so every batch of even size holds exactly half of each:
    under SupCon every sample has a positive (and a negative). With one class only, it draws from that one.
    """

    def __init__(self, labels: np.ndarray, num_replicas: int = 1, rank: int = 0, seed: int = 0):
        self.labels = np.asarray(labels)
        self.num_replicas, self.rank, self.seed = num_replicas, rank, seed
        self.epoch = 0
        self.num_samples = math.ceil(len(self.labels) / num_replicas)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        g = np.random.default_rng([self.seed, self.epoch])
        pools = [p for p in (np.flatnonzero(self.labels == 0), np.flatnonzero(self.labels != 0)) if len(p)]
        run = self.num_samples + self.num_samples % 2  # even: every rank's run starts with a real
        per_class = math.ceil(run * self.num_replicas / len(pools))
        drawn = np.stack([g.choice(pool, size=per_class, replace=True) for pool in pools], axis=1).reshape(-1)
        start = self.rank * run
        return iter(drawn[start : start + self.num_samples].tolist())
