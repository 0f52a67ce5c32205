"""torchrun / DDP plumbing: one process per GPU (or CPU process with gloo), rank 0 logs and saves."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from pipeline.devices import torch_device


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def pick_device(name: str, dist: Dist) -> torch.device:
    """`auto` takes CUDA (this process's local GPU) when present, else the CPU (pipeline.devices)."""
    return torch_device(name, dist.local_rank)


def init(device_name: str) -> Dist:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    dist = Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    return dist


def barrier(dist: Dist) -> None:
    if dist.enabled:
        torch.distributed.barrier()


def shutdown(dist: Dist) -> None:
    if dist.enabled:
        torch.distributed.destroy_process_group()


def sum_over_ranks(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """All-reduce (sum) a CPU tensor over the ranks, through `device` (NCCL reduces only CUDA tensors)."""
    out = t.to(device)
    torch.distributed.all_reduce(out)
    return out.cpu()
