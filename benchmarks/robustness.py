"""Cost of the robustness evaluation (model.training.robustness): seconds per 1,000 frames per perturbation,
against the clean evaluation (`--evaluate`'s pass over the stored shards) measured in the same run.

For each perturbation (at --level) two timings, medians of --repeats runs, in seconds of this process's CPU
time (time.process_time: one thread and no DataLoader worker, so it is the work done, steady on a loaded
machine where wall time is not; wall time of the evaluation printed beside):
- eval: a whole evaluation pass, model.training.evaluate.predict over PerturbedSamples (read, perturb,
  recompute x2 when the network reads it, forward), as `lrl-train --evaluate CKPT --perturb` runs it;
- kernel: the perturbation and the frequency cue alone on the same crops (no network), the part it adds.
The clean row is the same predict over LRLSamples (stored x2). Ratios are eval / clean eval. One process,
--threads threads for torch / OpenCV / BLAS (pipeline.engine.threads), DataLoader workers 0.

    python benchmarks/robustness.py --checkpoint RUN/best.pt [--shards WORK/shards] [--split test]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def median_seconds(fn, repeats: int) -> tuple[float, float]:
    """(median CPU seconds, median wall seconds) of `repeats` calls of fn."""
    cpu, wall = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(cpu), statistics.median(wall)


def kernel_pass(samples) -> None:
    """The perturbation (and x2) of every sample, without the network."""
    for i in range(len(samples)):
        samples[i]


def measure(args) -> tuple[int, list[tuple[str, tuple[float, float], float | None]]]:
    """(frames, [(name, eval (CPU, wall) seconds, kernel CPU seconds or None for clean)]) over the split."""
    import torch

    from model.training.data import LRLSamples
    from model.training.evaluate import predict
    from model.training.robustness import PerturbedSamples, _open
    from model.training.run_eval import EvalOptions
    from pipeline.kernels.perturb import PERTURBATIONS

    opts = EvalOptions(split=args.split, shards=(Path(args.shards),) if args.shards else ())
    run = _open(Path(args.checkpoint), "bench", opts, "cpu")
    data = run.shard_set.samples
    alpha = run.shard_set.settings.alpha

    def evaluate(samples):
        return lambda: predict(run.net, samples, torch.device("cpu"), args.batch, 0)

    rows = [("clean", median_seconds(evaluate(LRLSamples(data, freq_std=run.freq_std)), args.repeats), None)]
    for name in args.perturb or list(PERTURBATIONS):
        samples = PerturbedSamples(data, name, args.level, 0, alpha, run.freq_std, run.uses_freq)
        rows.append(
            (
                name,
                median_seconds(evaluate(samples), args.repeats),
                median_seconds(lambda s=samples: kernel_pass(s), args.repeats)[0],
            )
        )
    return len(data), rows


def table(rows, frames: int) -> list[str]:
    """CPU seconds per 1,000 frames of the evaluation, its ratio to the clean one, the kernel's CPU seconds
    per 1,000 frames, and the evaluation's wall seconds per 1,000 frames."""
    clean = rows[0][1][0]
    out = [
        f"{'perturbation':<13}{'eval cpu s/1k':>14}{'x clean':>9}{'kernel cpu s/1k':>17}"
        f"{'eval wall s/1k':>16}"
    ]
    for name, (cpu, wall), kernel in rows:
        k = f"{1000 * kernel / frames:>17.2f}" if kernel is not None else f"{'-':>17}"
        out.append(
            f"{name:<13}{1000 * cpu / frames:>14.2f}{cpu / clean:>9.2f}{k}{1000 * wall / frames:>16.2f}"
        )
    return out


def main(argv=None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="A checkpoint written by lrl-train.")
    parser.add_argument("--shards", help="Shards folder (default: the checkpoint's training shards).")
    parser.add_argument("--split", default="test")
    parser.add_argument("--level", type=int, default=3, help="Level of every perturbation (1-5).")
    parser.add_argument("--perturb", nargs="*", help="Perturbations to time (default: all).")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    from pipeline.engine.threads import apply_budget

    apply_budget(args.threads)
    frames, rows = measure(args)
    lines = [
        f"{frames} frames of split {args.split!r}, level {args.level}, {args.threads} thread(s), "
        f"medians of {args.repeats}"
    ] + table(rows, frames)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
