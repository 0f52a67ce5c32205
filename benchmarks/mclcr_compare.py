"""LRL full vs MC-LCR and its ablations on the demo shards: mean +- std of test frame AUC over seeds.

Rows: LRL (Table 4's full model), MC-LCR, MC-LCR without SupCon (lambda_con = 0), without the style block,
without the amplitude / phase branch. Each row trains with configs/mclcr-demo.toml's optimiser, schedule,
batch and backbone (flags below override), one run per seed, the checkpoint chosen on val (best.pt), then
evaluated on test. Runs go one at a time, one torch thread each (--jobs 2: two at a time, in processes).

    python benchmarks/mclcr_compare.py --shards demo/work/shards --out demo/compare [--seeds 0,1,2]
        [--epochs 1] [--backbone NAME] [--pretrained imagenet|FILE|""] [--jobs 1]   ("": random weights)
        [--max-batches N] [--batch-size N]   (smoke runs: N batches per epoch)

Prints one Markdown table (as in docs/results.md), and writes OUT/compare.json with every run's numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROWS = {
    "LRL full": {"model": "lrl", "variant": "full"},
    "MC-LCR": {"model": "mclcr"},
    "MC-LCR w/o SupCon": {"model": "mclcr", "lambda_con": 0.0},
    "MC-LCR w/o style block": {"model": "mclcr", "mclcr_variant": "no_style"},
    "MC-LCR w/o amplitude/phase": {"model": "mclcr", "mclcr_variant": "no_freq"},
}
BASE = Path(__file__).resolve().parents[1] / "configs" / "mclcr-demo.toml"


def run_one(job: dict) -> dict:
    """Train one (row, seed) and evaluate its val-selected checkpoint on test; returns its numbers."""
    import torch

    from model.training.config import TrainConfig
    from model.training.loop import train
    from model.training.run_eval import evaluate_checkpoint

    torch.set_num_threads(1)
    cfg = TrainConfig.from_dict(job["config"])
    start = time.perf_counter()
    history = train(cfg, echo=lambda line: None)
    evaluate_checkpoint(Path(cfg.run.out) / "best.pt", "test")
    metrics = next(Path(cfg.run.out).glob("metrics-best-test-*.json"))  # one shard set per run folder
    test = json.loads(metrics.read_text())["frame"]["overall"]
    best = max(history, key=lambda h: h.get("val_auc", float("-inf")))
    return {
        "row": job["row"],
        "seed": cfg.run.seed,
        "test_auc": test["auc"],
        "test_acc": test["acc"],
        "val_auc": best.get("val_auc"),
        "best_epoch": best["epoch"],
        "seconds": time.perf_counter() - start,
    }


def table(results: list[dict]) -> str:
    lines = ["| model | test frame AUC (mean ± std) | per seed | s / run |", "| --- | --- | --- | --- |"]
    for row in ROWS:
        runs = sorted((r for r in results if r["row"] == row), key=lambda r: r["seed"])
        if not runs:
            continue
        aucs = [r["test_auc"] for r in runs]
        std = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
        per_seed = " / ".join(f"{a:.3f}" for a in aucs)
        secs = statistics.median(r["seconds"] for r in runs)
        lines.append(f"| {row} | {statistics.mean(aucs):.3f} ± {std:.3f} | {per_seed} | {secs:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--epochs", type=int, default=1
    )  # with ImageNet weights one epoch reaches val AUC ~0.99
    parser.add_argument("--backbone", default=None)
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated subset of the rows")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--max-batches", type=int, default=0, help="cap on batches per epoch (smoke runs)")
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    from pipeline.params import read_options_file
    from pipeline.store.atomic import write_json

    base = {
        **read_options_file(BASE),
        "epochs": args.epochs,
        "workers": 0,
        "shards": args.shards,
        "max_batches": args.max_batches,
    }
    if args.batch_size:
        base["batch_size"] = args.batch_size
    base.update(
        {
            k: v or None
            for k, v in (("backbone", args.backbone), ("pretrained", args.pretrained))
            if v is not None
        }
    )
    jobs = [
        {
            "row": row,
            "config": {
                **base,
                **ROWS[row],
                "seed": int(seed),
                "out": str(Path(args.out) / row.replace(" ", "_").replace("/", "-") / f"seed{seed}"),
            },
        }
        for row in args.rows.split(",")
        for seed in args.seeds.split(",")
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = []
        for r in pool.map(run_one, jobs):
            results.append(r)
            print(
                f"{r['row']:28s} seed {r['seed']}: test AUC {r['test_auc']:.4f} (val {r['val_auc']:.4f} at "
                f"epoch {r['best_epoch']}), {r['seconds']:.0f} s",
                flush=True,
            )
    write_json(Path(args.out) / "compare.json", results)
    print(table(results))


if __name__ == "__main__":
    main()
