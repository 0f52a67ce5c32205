"""CPU training throughput with the real shard loader against the same model fed from memory.

Builds the tiny demo tree, refreshes it (8 frames, 80 px crops) into shards, then trains the demo
configuration for the same number of steps twice per round, alternately: (a) through
`LRLSamples` + DataLoader workers reading the HDF5 shards, (b) from batches already in memory as
tensors. Prints the medians and the ratio a / b (target >= 0.9: the loader is not the bottleneck).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from model import build_model
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.distributed import Dist
from model.training.loop import train_one_epoch
from pipeline.demo.tree import make_demo
from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
from pipeline.stages.refresh import refresh
from pipeline.store.reader import ShardDataset

ROUNDS = 3
STEPS = 12


def shards(tmp: Path) -> Path:
    root = make_demo(tmp / "ffpp", size="tiny").root
    refresh(
        root,
        tmp / "work",
        PrepConfig(extract=ExtractParams(frames=8, crop=CropParams(size=80)), run=RunOptions(progress=False)),
    )
    return tmp / "work" / "shards"


def timed(net, batches, cfg: TrainConfig) -> float:
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.optim.lr)
    start = time.perf_counter()
    train_one_epoch(net, batches, optimizer, cfg, torch.device("cpu"), Dist(), 0)
    return STEPS * cfg.data.batch_size / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = shards(Path(tmp))
        cfg = TrainConfig().replace(
            backbone="mobilenetv3_small_050",
            strides=(4, 8, 16),
            variant="full",
            batch_size=16,
            workers=2,
            max_batches=STEPS,
        )
        samples = LRLSamples(ShardDataset(folder, "train"), hflip=True)
        loader = DataLoader(
            samples,
            batch_size=cfg.data.batch_size,
            shuffle=True,
            num_workers=cfg.data.workers,
            drop_last=True,
            persistent_workers=True,
        )
        memory = [b for _, b in zip(range(STEPS), loader, strict=False)]
        net = build_model(cfg.model)
        timed(net, memory, cfg)  # warm-up
        a, b = [], []
        for _ in range(ROUNDS):
            a.append(timed(net, loader, cfg))
            b.append(timed(net, memory, cfg))
    ma, mb = statistics.median(a), statistics.median(b)
    print(
        f"samples: {len(samples)}, batch {cfg.data.batch_size}, {STEPS} steps x {ROUNDS} rounds, "
        f"{cfg.model.backbone} at 80 px"
    )
    print(f"shard loader ({cfg.data.workers} workers): {ma:7.1f} samples/s (median)")
    print(f"tensors in memory:          {mb:7.1f} samples/s (median)")
    print(f"ratio loader / memory: {ma / mb:.2f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
