"""Extract throughput on 1 and 2 local workers and on a Dask LocalCluster of 2 workers, in one run.

A demo tree (pipeline.demo.tree, tiny = 90 videos of 10 frames by default) is written into a temporary
folder; every measurement is a whole `extract` run (detect, then crop) into a fresh WORK, so no unit
is skipped. Per configuration: one warm-up run (its time, which includes starting the workers and
loading torch and MTCNN in them, is shown as "first"), then the median of --repeats runs on the
warm workers. Every worker runs with the runner's thread budget, max(1, cores // jobs) threads for
torch, OpenCV, BLAS and PyAV (pipeline.engine.threads), as `lrl-prep extract --jobs N` does:

- 1 worker: this process (the runner's serial path, `--jobs 1`: all cores' threads);
- loky x2: two local worker processes (joblib's loky, the default backend);
- dask x2: a dask.distributed LocalCluster of two single-threaded worker processes.

Target: loky x2 / 1 worker >= 1.6 in videos/s on a 2-core machine (issue 13). Other processes on the machine
make the times noisy, so each row also shows the 1-minute load average and the CPU seconds this
process and its workers used (psutil, which comes with the dask extra; "cores" = CPU s / wall s,
the share of the machine the run got).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from joblib.externals.loky import get_reusable_executor

from pipeline.demo.tree import make_demo
from pipeline.engine.backends import backend_context
from pipeline.params import Backend, CropParams, ExtractParams, PrepConfig, RunOptions
from pipeline.stages import extract
from pipeline.stages.context import run_stage

TARGET = 1.6


@dataclass(frozen=True)
class Config:
    name: str
    backend: Backend
    jobs: int


@dataclass
class Runs:
    first: float = 0.0
    seconds: list[float] = field(default_factory=list)
    videos: int = 0
    crops: int = 0
    load: list[float] = field(default_factory=list)  # 1-minute load average after each run
    cpu: list[float] = field(default_factory=list)  # CPU seconds of this process and its workers

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its live descendants (workers, nannies)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in (me, *me.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def extract_once(
    root: Path, work: Path, params: ExtractParams, config: Config
) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds, videos, crops) of one whole extract run into a fresh WORK."""
    shutil.rmtree(work, ignore_errors=True)
    cpu, start = cpu_seconds(), time.perf_counter()
    b = config.backend
    address = {"scheduler": b.address} if b.name == "dask" else {"ray_address": b.address}
    run = RunOptions(config.jobs, b.name, device="cpu", progress=False, **address)
    summary = run_stage(extract, work, PrepConfig(extract=params, run=run), root)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if summary.failed or summary.skipped:
        raise SystemExit(f"{config.name}: {summary.line()} {summary.failures[:3]}")
    return seconds, cpu, summary.done, summary.items


def measure(root: Path, work: Path, params: ExtractParams, config: Config, repeats: int) -> Runs:
    runs = Runs()
    with backend_context(config.backend):  # one cluster for the warm-up and every repeat
        runs.first, _, runs.videos, runs.crops = extract_once(root, work, params, config)
        for _ in range(repeats):
            seconds, cpu, _, _ = extract_once(root, work, params, config)
            runs.seconds.append(seconds)
            runs.cpu.append(cpu)
            runs.load.append(os.getloadavg()[0])
    return runs


def table(results: dict[str, Runs], base: str) -> str:
    ref = results[base]
    rows = [
        f"{'config':<10} {'first s':>8} {'median s':>9} {'videos/s':>9} {'crops/s':>8} {'x 1 worker':>10} "
        f"{'CPU s':>6} {'cores':>6} {'load':>9}"
    ]
    for name, r in results.items():
        rows.append(
            f"{name:<10} {r.first:>8.1f} {r.median:>9.2f} {r.videos / r.median:>9.2f} "
            f"{r.crops / r.median:>8.1f} {ref.median / r.median:>10.2f} {r.cpu_median:>6.1f} "
            f"{r.cpu_median / r.median:>6.2f} {min(r.load):>4.1f}-{max(r.load):.1f}"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", choices=["tiny", "small"], default="tiny")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=299, help="crop side")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    args = ap.parse_args()
    params = ExtractParams(frames=args.frames, crop=CropParams(size=args.size))
    configs = [Config("1 worker", Backend(), 1), Config("loky x2", Backend(), 2)]
    if not args.no_dask:
        configs.append(Config("dask x2", Backend("dask", workers=2), 2))
    with tempfile.TemporaryDirectory(prefix="lrl-scale-") as tmp:
        demo = make_demo(Path(tmp) / "root", seed=0, size=args.demo)
        get_reusable_executor().shutdown(wait=True)  # the measured loky workers start fresh
        print(
            f"{demo.line()}\n{os.cpu_count()} CPUs, load average before: "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.frames} frames, {args.size} px crops"
        )
        results = {c.name: measure(demo.root, Path(tmp) / "work", params, c, args.repeats) for c in configs}
    r = next(iter(results.values()))
    print(
        f"extract of {r.videos} videos ({r.crops} crops), median of {args.repeats} runs on warm workers; "
        f"load = 1-minute load average after the runs (min-max)"
    )
    print(table(results, "1 worker"))
    base = results["1 worker"].cpu_median
    print(
        "CPU seconds vs 1 worker (the cost of parallelism): "
        + ", ".join(f"{name} {r.cpu_median / base:.2f}x" for name, r in results.items() if name != "1 worker")
    )
    speedup = results["1 worker"].median / results["loky x2"].median
    print(f"loky x2 speed-up {speedup:.2f} (target >= {TARGET}): {'met' if speedup >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
