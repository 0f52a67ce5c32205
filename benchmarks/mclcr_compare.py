"""LRL full vs MC-LCR and its ablations on the demo shards: mean ± sd of test frame AUC over seeds.

Rows: LRL (Table 4's full model), MC-LCR, MC-LCR without SupCon (lambda_con = 0), without the style block,
without the amplitude / phase branch. Each row trains with configs/mclcr-demo.toml's optimiser, schedule,
batch and backbone (flags below override), one run per seed, the checkpoint chosen on val (best.pt), then
evaluated on test: a sweep (model.training.sweep), so a stopped comparison continues where it stopped.

    python benchmarks/mclcr_compare.py --shards demo/work/shards --out demo/compare [--seeds 0,1,2]
        [--epochs 1] [--backbone NAME] [--pretrained imagenet|FILE|""] [--jobs 1]   ("": random weights)
        [--rows "MC-LCR,LRL full"] [--max-batches N] [--batch-size N]   (smoke runs: N batches per epoch)

Prints one Markdown table (as in docs/results.md) and writes OUT/compare.json (every run's numbers) and .md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.training.config import resolve
from model.training.sweep import grid, summarise, sweep, write_tables
from pipeline.params import read_options_file

ROWS = {
    "LRL full": {"model": "lrl", "variant": "full"},
    "MC-LCR": {"model": "mclcr"},
    "MC-LCR w/o SupCon": {"model": "mclcr", "lambda_con": 0.0},
    "MC-LCR w/o style block": {"model": "mclcr", "mclcr_variant": "no_style"},
    "MC-LCR w/o amplitude/phase": {"model": "mclcr", "mclcr_variant": "no_freq"},
}
METRICS = {"test frame AUC": "test:frame.overall.auc", "s / run": "seconds"}
BASE = Path(__file__).resolve().parents[1] / "configs" / "mclcr-demo.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--shards", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--epochs", type=int, default=1)  # with ImageNet weights one epoch: val AUC ~0.99
    for name, default in (("--seeds", "0,1,2"), ("--backbone", None), ("--pretrained", None)):
        parser.add_argument(name, default=default)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated subset of the rows")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (processes)")
    parser.add_argument("--max-batches", type=int, default=0, help="cap on batches per epoch (smoke runs)")
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args(argv)
    flags = {"epochs": args.epochs, "workers": 0, "shards": args.shards, "max_batches": args.max_batches}
    flags |= {"batch_size": args.batch_size, "backbone": args.backbone or None}
    base = resolve(read_options_file(BASE), flags)
    if args.pretrained is not None:
        base = base.replace(pretrained=args.pretrained or None)  # "": random weights
    rows = {row: ROWS[row] for row in args.rows.split(",")}
    seeds = [int(s) for s in args.seeds.split(",")]
    results = sweep(grid(base, Path(args.out), rows, seeds), args.jobs)
    table = summarise(f"LRL vs MC-LCR ({args.epochs} epochs, {len(seeds)} seeds)", results, METRICS)
    write_tables([table], Path(args.out) / "compare", results)
    print(table.markdown())
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
