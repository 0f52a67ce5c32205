"""A no-op `lrl-prep refresh` on the demo tree, against the bare start-up of the CLI.

Builds the tiny demo, refreshes it once (cold), then times REPEATS runs of the same refresh with
nothing changed, each in a new process as cron would start it, against `lrl-prep --help` (the
interpreter and CLI import alone). Prints medians and the ratio; the issue's bound is 2 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.demo.tree import make_demo

REPEATS = 5
ARGS = ["--frames", "4", "--size", "64", "--no-progress"]


def cli(*args: str) -> float:
    script = Path(sys.executable).parent / "lrl-prep"
    start = time.perf_counter()
    subprocess.run([str(script), *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_demo(Path(tmp) / "ffpp", size="tiny").root
        work = str(Path(tmp) / "work")
        cold = cli("refresh", "--root", str(root), "--work", work, *ARGS)
        noop = [cli("refresh", "--root", str(root), "--work", work, *ARGS) for _ in range(REPEATS)]
        bare = [cli("--help") for _ in range(REPEATS)]
    n, b = statistics.median(noop), statistics.median(bare)
    print(f"first refresh (tiny demo, 90 videos): {cold:.1f} s")
    print(
        f"no-op refresh: {n:.2f} s median of {REPEATS} (bound 2 s); lrl-prep --help: {b:.2f} s; ratio "
        f"{n / b:.1f}x"
    )


if __name__ == "__main__":
    main()
