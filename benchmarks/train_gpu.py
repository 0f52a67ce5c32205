"""GPU training throughput: the paper configuration and EfficientNet-Lite0, fp32 / bf16 / channels_last /
compile.

    python benchmarks/train_gpu.py          # on a CUDA device: estimated 3-8 minutes on one H200
    python benchmarks/train_gpu.py --tiny   # CPU, small backbones at 80 px, a few steps (a test runs it)

Models (variant `full`, batch 32, 299 px crops): the paper's `legacy_xception` (strides 8/16/32) and timm's
`tf_efficientnet_lite0` at the same strides, both from random weights (weights do not change the speed).
Settings per model: fp32, fp32 + channels_last, bf16 autocast, bf16 + channels_last, bf16 + channels_last +
torch.compile, and that under DistributedDataParallel in a one-process group (`ddp`: what `torchrun
--nproc_per_node 1 lrl-train` adds, gradient all-reduce hooks; nccl on CUDA, gloo on CPU) (`--grid`: the eight
combinations of the first three, then ddp). Data: real shards it builds first (the demo generator's tiny
tree, refreshed at the crop size: MTCNN crops, masks, DCT high-pass, HDF5), or `--shards WORK/shards`; read by
LRLSamples (flips on) through a DataLoader with `--workers` processes, sampled with replacement.

Each step is the project's training step (model.training.loop): batch to the device, forward under autocast,
lrl_loss, backward, Adam; then the device is synchronised, as the training loop's per-step loss logging does.
Per step it times the loader wait (`next(loader)`) and the step. After `--warmup` steps (the first one
includes torch.compile's compilation, reported as `first s`), `--steps` timed steps; the table gives medians:
samples/s = batch / median(wait + step), its ratio to the same model's fp32 row (measured in the same run),
step and wait in ms (median and mean: loader stalls are spiky), and peak device memory.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, RandomSampler

from model import build_model, lrl_loss
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.loop import to_device
from pipeline.store.reader import ShardDataset

PAPER = {"xception": ("legacy_xception", (8, 16, 32)), "lite0": ("tf_efficientnet_lite0", (8, 16, 32))}
TINY = {"mobilenet": ("mobilenetv3_small_050", (4, 8, 16)), "lite0": ("tf_efficientnet_lite0", (4, 8, 16))}


@dataclass(frozen=True)
class Setting:
    bf16: bool = False
    channels_last: bool = False
    compile: bool = False
    ddp: bool = False

    @property
    def name(self) -> str:
        parts = ["bf16" if self.bf16 else "fp32"] + ["cl"] * self.channels_last + ["compile"] * self.compile
        return "+".join(parts + ["ddp"] * self.ddp)


LADDER = (
    Setting(),
    Setting(channels_last=True),
    Setting(bf16=True),
    Setting(True, True),
    Setting(True, True, True),
    Setting(True, True, True, True),
)
GRID = tuple(Setting(*flags) for flags in itertools.product((False, True), repeat=3)) + (LADDER[-1],)


@dataclass
class Result:
    model: str
    setting: str
    samples_per_s: float
    step_ms: float
    wait_ms: float
    wait_mean_ms: float
    first_s: float
    peak_gib: float | None  # None off CUDA


def say(line: str) -> None:
    print(line, flush=True)


def build_shards(tmp: Path, size: int, frames: int) -> Path:
    """The demo generator's tiny tree refreshed into shards at `size` px (real pipeline, real crops)."""
    from pipeline.demo.tree import make_demo
    from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
    from pipeline.stages.refresh import refresh

    root = make_demo(tmp / "ffpp", size="tiny").root
    cfg = PrepConfig(
        extract=ExtractParams(frames=frames, crop=CropParams(size=size)), run=RunOptions(progress=False)
    )
    say(refresh(root, tmp / "work", cfg).line())
    return tmp / "work" / "shards"


def loader_for(samples: LRLSamples, batch: int, steps: int, workers: int, device) -> DataLoader:
    sampler = RandomSampler(samples, replacement=True, num_samples=steps * batch)
    return DataLoader(
        samples,
        batch_size=batch,
        sampler=sampler,
        num_workers=workers,
        drop_last=True,
        pin_memory=device.type == "cuda",
    )


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_steps(model, cfg: TrainConfig, loader, device, setting: Setting) -> tuple[list[float], list[float]]:
    """(loader waits, steps) in seconds, one per batch of `loader`."""
    mcfg, o = cfg.model, cfg.optim
    optimizer = torch.optim.Adam(
        model.parameters(), lr=o.lr, betas=(o.beta1, o.beta2), weight_decay=o.weight_decay
    )
    waits, steps = [], []
    batches = iter(loader)
    while True:
        t0 = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            return waits, steps
        t1 = time.perf_counter()
        batch = to_device(batch, device, setting.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=setting.bf16):
            out = model(batch["rgb"], batch["freq"])
        terms = lrl_loss(out, batch["label"], batch["mask"], mcfg)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        optimizer.step()
        sync(device)
        waits.append(t1 - t0)
        steps.append(time.perf_counter() - t1)


def measure(name: str, cfg: TrainConfig, samples: LRLSamples, setting: Setting, args, device) -> Result:
    torch.manual_seed(0)
    net = build_model(cfg.model).to(device).train()
    if setting.channels_last:
        net = net.to(memory_format=torch.channels_last)
    if setting.ddp:
        ids = [device.index or 0] if device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)
    model = torch.compile(net, backend=args.compile_backend) if setting.compile else net
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    loader = loader_for(samples, cfg.data.batch_size, args.warmup + args.steps, args.workers, device)
    waits, steps = timed_steps(model, cfg, loader, device, setting)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    if setting.compile:
        torch.compiler.reset()  # drop the compiled graphs (and the model they hold) before the next setting
    w, s = waits[args.warmup :], steps[args.warmup :]
    total = statistics.median(a + b for a, b in zip(w, s, strict=True))
    return Result(
        name,
        setting.name,
        cfg.data.batch_size / total,
        1e3 * statistics.median(s),
        1e3 * statistics.median(w),
        1e3 * statistics.fmean(w),
        waits[0] + steps[0],
        peak,
    )


def table(results: list[Result]) -> str:
    base = {r.model: r.samples_per_s for r in results if r.setting == "fp32"}
    rows = [
        f"{'model':10s} {'setting':16s} {'samples/s':>10s} {'ratio':>6s} {'step ms':>8s} {'wait ms':>8s} "
        f"{'wait mean':>9s} {'wait %':>7s} {'first s':>8s} {'peak GiB':>8s}"
    ]
    for r in results:
        ratio = r.samples_per_s / base[r.model] if r.model in base else float("nan")
        share = 100 * r.wait_ms / (r.wait_ms + r.step_ms)
        peak = "-" if r.peak_gib is None else f"{r.peak_gib:.2f}"
        rows.append(
            f"{r.model:10s} {r.setting:16s} {r.samples_per_s:10.1f} {ratio:6.2f} {r.step_ms:8.1f} "
            f"{r.wait_ms:8.2f} {r.wait_mean_ms:9.2f} {share:6.1f}% {r.first_s:8.1f} {peak:>8s}"
        )
    return "\n".join(rows)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split("\n")))
    p.add_argument("--tiny", action="store_true", help="CPU, small backbones at 80 px, batch 4, few steps")
    p.add_argument("--shards", type=Path, help="existing WORK/shards to read instead of building demo shards")
    p.add_argument("--split", default="train")
    p.add_argument("--models", default=None, help="comma-separated subset of the models")
    p.add_argument("--grid", action="store_true", help="all 8 combinations instead of the 5-setting ladder")
    p.add_argument("--steps", type=int, help="timed steps per setting (default 30; tiny 3)")
    p.add_argument("--warmup", type=int, help="untimed steps first (default 5; tiny 1)")
    p.add_argument("--batch", type=int, help="batch size (default 32, the paper's; tiny 4)")
    p.add_argument("--workers", type=int, help="DataLoader workers (default 8; tiny 0)")
    p.add_argument(
        "--compile-backend", help="torch.compile backend (default inductor; tiny: eager, no codegen)"
    )
    p.add_argument(
        "--budget-s", type=float, help="start no setting after this many seconds (default 420; tiny: none)"
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    if not args.tiny and not torch.cuda.is_available():
        say("no CUDA device: running --tiny (CPU)")
        args.tiny = True
    defaults = (
        dict(steps=3, warmup=1, batch=4, workers=0, compile_backend="eager", budget_s=0)
        if args.tiny
        else dict(steps=30, warmup=5, batch=32, workers=8, compile_backend="inductor", budget_s=420)
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def plan(args) -> list[tuple[str, Setting]]:
    """(model, setting) pairs, every compiled one last: a run cut short by --budget-s loses only those."""
    models = TINY if args.tiny else PAPER
    chosen = args.models.split(",") if args.models else list(models)
    unknown = sorted(set(chosen) - set(models))
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(models)}")
    settings = sorted(GRID if args.grid else LADDER, key=lambda st: st.compile)
    return [(name, st) for st in settings for name in chosen]


def one_process_group(device) -> None:
    """The process group of `torchrun --nproc_per_node 1` (rank 0 of 1), for the ddp setting; its store is a
    file (no port to collide with another run)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        store = Path(tempfile.mkdtemp()) / "store"
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, init_method=f"file://{store}", rank=0, world_size=1)


def run(args, folder: Path) -> list[Result]:
    device = torch.device("cpu" if args.tiny else "cuda")
    models = TINY if args.tiny else PAPER
    samples = LRLSamples(ShardDataset(folder, args.split), hflip=True)
    say(
        f"{len(samples)} {args.split} samples of {samples.shards.size} px from {folder}; batch {args.batch}, "
        f"{args.warmup} + {args.steps} steps, {args.workers} workers, {device}"
    )
    base = TrainConfig().replace(batch_size=args.batch, variant="full")
    results, start = [], time.perf_counter()
    for name, setting in plan(args):
        elapsed = time.perf_counter() - start
        if args.budget_s and elapsed > args.budget_s:
            say(f"[{elapsed:6.0f} s] {name} {setting.name}: skipped (past --budget-s {args.budget_s:.0f})")
            continue
        if setting.compile:
            say(f"[{elapsed:6.0f} s] {name} {setting.name}: compiling during the first step ...")
        if setting.ddp:
            one_process_group(device)
        backbone, strides = models[name]
        r = measure(name, base.replace(backbone=backbone, strides=strides), samples, setting, args, device)
        results.append(r)
        say(
            f"[{time.perf_counter() - start:6.0f} s] {name} {setting.name}: {r.samples_per_s:.1f} samples/s "
            f"(first step {r.first_s:.1f} s)"
        )
    order = list(models)
    return sorted(results, key=lambda r: order.index(r.model))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.tiny:
        torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.shards or build_shards(Path(tmp), 80 if args.tiny else 299, 4 if args.tiny else 8)
        results = run(args, folder)
    say(table(results))
    if args.json:
        from pipeline.store.atomic import write_json

        write_json(
            args.json,
            {"args": {k: str(v) for k, v in vars(args).items()}, "results": [asdict(r) for r in results]},
        )


if __name__ == "__main__":
    main(sys.argv[1:])
