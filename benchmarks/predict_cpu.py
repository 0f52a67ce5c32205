"""`lrl-predict` clips/s on a folder of videos: this checkout against a baseline checkout, same checkpoint.

    python benchmarks/predict_cpu.py --checkpoint RUN/best.pt --baseline ../main [--inputs DIR] [--busy]

Each round scores every video of --inputs (default ../shared/data/realdev: 82 FF++ c40, DFD c40 1080p and
Celeb-DF clips) with `lrl-predict --device cpu` of the baseline, then of this checkout, alternately, each in
its own process (PYTHONPATH and working directory its checkout). Per run: clips/s from the time lrl-predict
reports for scoring (after the checkpoint is loaded) and the process's wall time. Prints the medians, the
ratios new / baseline and how many inputs changed their label between the two. `--busy`: a `python -c
'while True: pass'` runs beside the measurements (one core busy).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
REALDEV = HERE.parent / "shared" / "data" / "realdev"


def predict_once(code: Path, ckpt: Path, inputs: Path, out: Path) -> tuple[float, float, dict]:
    """(seconds lrl-predict reports, wall seconds, {input: score}) of one run of `code`'s lrl-predict."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-c", "import cli; cli.predict()", "--checkpoint", str(ckpt), "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(
        cmd + ["--device", "cpu", str(inputs)], cwd=code, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    seconds = re.search(r"; ([0-9.]+) s;", last)
    if seconds is None:
        sys.exit(f"{code}: lrl-predict failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    scores = {r["path"]: r["score"] for r in json.loads((out / "predictions.json").read_text())["inputs"]}
    return float(seconds.group(1)), wall, scores


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, required=True, help="The baseline's checkout (e.g. main).")
    parser.add_argument("--inputs", type=Path, default=REALDEV)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", action="store_true", help="One core busy beside the runs.")
    args = parser.parse_args(argv)
    if not args.inputs.is_dir():
        sys.exit(f"{args.inputs}: no such folder")
    codes = {"baseline": args.baseline.resolve(), "new": HERE}
    seconds: dict[str, list[float]] = {name: [] for name in codes}
    walls: dict[str, list[float]] = {name: [] for name in codes}
    scores: dict[str, dict] = {}
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for name, code in codes.items():
                    s, wall, scores[name] = predict_once(
                        code, args.checkpoint.resolve(), args.inputs.resolve(), Path(tmp) / f"{name}-{r}"
                    )
                    seconds[name].append(s)
                    walls[name].append(wall)
                    line = f"{name:8} round {r}: {len(scores[name])} inputs, {s:.1f} s scoring, {wall:.1f} s"
                    print(line, flush=True)
    finally:
        if hog is not None:
            hog.kill()
    n = len(scores["new"])
    load = os.getloadavg()[0]
    how = "one core busy" if args.busy else "quiet"
    print(f"{args.inputs}: {n} inputs, {args.rounds} rounds, {how}, load {load:.2f}")
    med = {name: statistics.median(v) for name, v in seconds.items()}
    wall = {name: statistics.median(v) for name, v in walls.items()}
    for name in codes:
        print(f"  {name:8} {n / med[name]:6.2f} clips/s ({med[name]:.1f} s scoring, {wall[name]:.1f} s wall)")
    flips = sum(
        (a is None) != (b is None) or (a is not None and (a >= 0.5) != (b >= 0.5))
        for a, b in ((scores["baseline"].get(k), v) for k, v in scores["new"].items())
    )
    diff = max(
        (
            abs(a - scores["baseline"][k])
            for k, a in scores["new"].items()
            if a is not None and scores["baseline"].get(k) is not None
        ),
        default=0.0,
    )
    ratio, wall_ratio = med["baseline"] / med["new"], wall["baseline"] / wall["new"]
    print(f"  ratio new / baseline: {ratio:.2f}x clips/s, {wall_ratio:.2f}x wall")
    print(f"  labels changed: {flips} of {n}; largest score difference {diff:.4f}")


if __name__ == "__main__":
    main()
