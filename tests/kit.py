"""The shared test kit: the stages run quietly on one job, the tiny-training settings, and the flags of a
tiny lrl-train (conftest.py's fixtures build the tiny demo tree and the trained tiny checkpoint with them).
"""

from __future__ import annotations

from pathlib import Path

from model.training.config import TrainConfig
from pipeline.params import (
    Backend,
    ExtractParams,
    MasksParams,
    PrepConfig,
    RunOptions,
    Scope,
    Selection,
    ShardsParams,
)

# A model of seconds, not a good one: mobilenetv3_small_050 from random weights, taps at strides 4 / 8 / 16
# (80 px crops: 20, 10, 5 px levels, k = 5 gives 1x1 MPSM patches), small batches, no DataLoader workers.
TINY = dict(backbone="mobilenetv3_small_050", strides=(4, 8, 16), batch_size=8, workers=0)


def tiny_flags(batch_size: int = 8) -> list[str]:
    """TINY as lrl-train flags."""
    return ["--backbone", TINY["backbone"], "--strides", "4", "8", "16", "--workers", "0"] + [
        "--batch-size",
        str(batch_size),
    ]


def prep_args(verb: str, root, work, frames, size, *extra: str) -> list[str]:
    """`lrl-prep VERB --root ROOT --work WORK --frames N --size PX --jobs 1 --no-progress EXTRA...` as the
    arguments of CliRunner().invoke(cli.prep, ...)."""
    paths = ["--root", str(root), "--work", str(work)]
    return [
        verb,
        *paths,
        "--frames",
        str(frames),
        "--size",
        str(size),
        "--jobs",
        "1",
        "--no-progress",
        *extra,
    ]


def tiny_config(shards, out, **flags) -> TrainConfig:
    """TINY training on `shards` into `out`, one epoch unless `flags` say otherwise (TrainConfig flags)."""
    return TrainConfig.from_flat({**TINY, "epochs": 1, "shards": str(shards), "out": str(out), **flags})


def run_options(
    jobs: int | None = 1, device: str = "cpu", progress: bool = False, backend=None
) -> RunOptions:
    """Quiet run options: `jobs` workers on CPU, no progress bars; `backend` a pipeline.params.Backend."""
    backend = backend or Backend()
    address = {"scheduler": backend.address} if backend.name == "dask" else {"ray_address": backend.address}
    return RunOptions(jobs, backend.name, device=device, progress=progress, **address)


def run_extract(root, work, params=ExtractParams(), scope=Scope(), **run):
    """`lrl-prep extract` through run_stage; `run`: run_options' arguments."""
    from pipeline.stages import extract
    from pipeline.stages.context import run_stage

    return run_stage(
        extract, Path(work), PrepConfig(extract=params, scope=scope, run=run_options(**run)), root
    )


def run_masks(root, work, params=MasksParams(), selection=Selection(), **run):
    """`lrl-prep masks` of the fakes `selection` keeps, through run_stage."""
    from pipeline.stages import masks
    from pipeline.stages.context import run_stage

    s = selection
    scope = Scope(s.methods, s.qualities, s.splits, s.datasets)
    return run_stage(masks, Path(work), PrepConfig(masks=params, scope=scope, run=run_options(**run)), root)


def run_shards(work, params=None, **run):
    """`lrl-prep shards` through run_stage."""
    from pipeline.stages import shards
    from pipeline.stages.context import run_stage

    config = PrepConfig(shards=params or ShardsParams(), run=run_options(**run))
    return run_stage(shards, Path(work), config)
