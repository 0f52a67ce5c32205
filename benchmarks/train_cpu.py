"""CPU training throughput of `configs/demo.toml`: this checkout against a baseline checkout, same shards.

    python benchmarks/train_cpu.py --shards WORK/shards --baseline ../main [--rounds 2] [--busy]

Each round trains one epoch (`lrl-train --config configs/demo.toml --epochs 1`, seed = the round's number)
with the baseline's code and configuration, then with this checkout's, alternately, each in its own process
(PYTHONPATH and working directory its checkout). Per run: samples/s of the epoch (log.jsonl: the training
pass alone), val AUC, the process's wall time (start-up, training, evaluation, checkpoints), and its epoch
line. `--max-batches`: shorter epochs (busy runs). Prints the medians and the ratios new / baseline.
`--busy`: a `python -c 'while True: pass'` runs beside the measurements (one core busy). WORK/shards: e.g.
`lrl-prep demo-data --out D/ffpp --size small` then `lrl-prep refresh --root D/ffpp --work D/work --frames
16 --size 80 --source official` (as `make demo`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    samples_per_s: float
    val_auc: float
    wall_s: float
    line: str


def train_once(code: Path, shards: Path, out: Path, seed: int, epochs: int, batches: int = 0) -> Run:
    """One `lrl-train` of `code`'s configs/demo.toml (`batches` > 0: that many per epoch), in its own
    process."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-c", "import cli; cli.train()", "--config", "configs/demo.toml"]
    cmd += ["--shards", str(shards), "--out", str(out), "--epochs", str(epochs), "--seed", str(seed)]
    cmd += ["--no-progress", "--max-batches", str(batches)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{code}: lrl-train failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    first = json.loads((out / "log.jsonl").read_text().splitlines()[0])
    line = next(x for x in done.stdout.splitlines() if x.startswith("epoch"))
    return Run(first["samples_per_s"], first.get("val_auc", float("nan")), wall, line)


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=Path, required=True, help="WORK/shards of the demo.")
    parser.add_argument("--baseline", type=Path, required=True, help="The baseline's checkout (e.g. main).")
    parser.add_argument("--rounds", type=int, default=2, help="Rounds (seeds 0, 1, ...).")
    parser.add_argument("--epochs", type=int, default=1, help="Epochs per run (samples/s of the first).")
    parser.add_argument("--max-batches", type=int, default=0, help="Batches per epoch (0: all).")
    parser.add_argument("--busy", action="store_true", help="One core busy beside the runs.")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse(argv)
    codes = {"baseline": args.baseline.resolve(), "new": HERE}
    runs: dict[str, list[Run]] = {name: [] for name in codes}
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.rounds):
                for name, code in codes.items():
                    out = Path(tmp) / f"{name}-{seed}"
                    run = train_once(code, args.shards.resolve(), out, seed, args.epochs, args.max_batches)
                    runs[name].append(run)
                    print(f"{name:8} seed {seed}: {run.line}  [{run.wall_s:.1f} s wall]", flush=True)
    finally:
        if hog is not None:
            hog.kill()
    load = os.getloadavg()[0]
    how = "one core busy" if args.busy else "quiet"
    print(f"configs/demo.toml, {args.rounds} rounds, {how}, load {load:.2f}")
    med = {name: statistics.median(r.samples_per_s for r in rs) for name, rs in runs.items()}
    wall = {name: statistics.median(r.wall_s for r in rs) for name, rs in runs.items()}
    for name, rs in runs.items():
        aucs = ", ".join(f"{r.val_auc:.4f}" for r in rs)
        print(f"  {name:8} {med[name]:6.1f} samples/s (median), {wall[name]:6.1f} s wall, val AUC {aucs}")
    print(
        f"  ratio new / baseline: {med['new'] / med['baseline']:.2f}x samples/s, "
        f"{wall['baseline'] / wall['new']:.2f}x wall"
    )


if __name__ == "__main__":
    main()
