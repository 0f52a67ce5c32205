"""Table 4 ablation on the demo: the five variants x seeds, model chosen on val, test AUC as mean +- std.

    python benchmarks/ablation.py --shards demo/work/shards --out demo/ablation
                                  [--config configs/ablation.toml] [--seeds 0,1,2] [--tiny]

Each (variant, seed) trains `--config` (the setting, chosen by measurement: see configs/ablation.toml) with
that variant and seed into OUT/<variant>-s<seed>/, keeps best.pt by validation AUC (never test), then
evaluates it on the test split. A run whose test metrics exist under the same config and shard index is
reused, so a stopped ablation continues. Prints the table (mean +- sample std over seeds, ddof = 1, beside the
paper's Table 4, FF++ LQ) and writes OUT/ablation.json and OUT/ablation.png. `--tiny` (tests): one
batch of 4 per run with a small random-init backbone, seeds 0 and 1: it checks the plumbing, not the model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from model.config import VARIANTS
from model.training.config import TrainConfig, resolve
from model.training.loop import train, training_datasets
from model.training.run_eval import evaluate_checkpoint
from pipeline.params import read_options_file
from pipeline.store.atomic import write_json
from pipeline.store.index import digest, load_index

# Table 4 of the paper (FF++ LQ, frame level, %): variant -> (row, ACC, AUC).
PAPER = {
    "rgb": (1, 89.15, 93.03),
    "rgb_freq": (2, 89.99, 93.13),
    "rgb_freq_rfam": (3, 90.05, 93.78),
    "rgb_mpsm": (4, 91.06, 94.96),
    "full": (5, 91.47, 95.21),
}
METRICS = ("frame_acc", "frame_auc", "video_auc")
TINY = dict(
    backbone="mobilenetv3_small_050",
    strides=(4, 8, 16),
    pretrained=None,
    qualities="",
    epochs=1,
    max_batches=1,
    batch_size=4,
    workers=0,
)


def run_one(cfg: TrainConfig) -> dict:
    """Train (or reuse) one run; its best epoch by val AUC and that checkpoint's test metrics."""
    run = Path(cfg.run.out)
    cfg = cfg.replace(datasets=training_datasets(cfg)[0])  # resolved, as train() saves config.json
    metrics = run / f"metrics-best-test-{digest(load_index(Path(cfg.data.shards)))}.json"  # run_eval's naming
    reuse = (
        metrics.is_file()
        and (run / "config.json").is_file()
        and json.loads((run / "config.json").read_text()) == json.loads(json.dumps(cfg.to_dict()))
    )
    start = time.perf_counter()
    if not reuse:
        train(cfg, echo=lambda line: print(f"  {run.name}: {line}", flush=True))
        evaluate_checkpoint(run / "best.pt", "test")
    history = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    best = max(history, key=lambda h: h.get("val_auc", float("-inf")))
    test = json.loads(metrics.read_text())
    return {
        "variant": cfg.model.variant,
        "seed": cfg.run.seed,
        "best_epoch": best["epoch"],
        "val_auc": best.get("val_auc"),
        "frame_acc": test["frame"]["overall"]["acc"],
        "frame_auc": test["frame"]["overall"]["auc"],
        "video_auc": test["video"]["overall"]["auc"],
        "seconds": round(time.perf_counter() - start, 1),
        "reused": reuse,
    }


def summarise(runs: list[dict]) -> dict:
    """Per variant: mean and sample std (0 with one seed) of each metric over its seeds."""
    out = {}
    for variant in VARIANTS:
        mine = [r for r in runs if r["variant"] == variant]
        if not mine:
            continue
        out[variant] = {"seeds": len(mine)}
        for key in METRICS:
            values = [r[key] for r in mine if r[key] is not None]
            out[variant][key] = {
                "mean": statistics.fmean(values) if values else None,
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
    return out


def table(summary: dict) -> str:
    """The ablation table: paper's Table 4 row, ACC, AUC, then ours (mean +- std over seeds)."""

    def cell(m: dict) -> str:
        return "n/a" if m["mean"] is None else f"{m['mean']:.3f} ± {m['std']:.3f}"

    lines = [
        "| row | variant | paper ACC | paper AUC | frame ACC | frame AUC | video AUC | seeds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant, s in summary.items():
        row, acc, auc = PAPER[variant]
        cells = " | ".join(cell(s[k]) for k in METRICS)
        lines.append(f"| {row} | {variant} | {acc / 100:.4f} | {auc / 100:.4f} | {cells} | {s['seeds']} |")
    return "\n".join(lines)


def plot(summary: dict, path: Path) -> None:
    """Frame and video AUC per variant (mean, +- std bars), the paper's AUC as a marker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    xs = range(len(names))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for offset, key, label in ((-0.18, "frame_auc", "frame AUC"), (0.18, "video_auc", "video AUC")):
        means = [summary[n][key]["mean"] or 0.0 for n in names]
        ax.bar(
            [x + offset for x in xs],
            means,
            0.34,
            yerr=[summary[n][key]["std"] for n in names],
            capsize=3,
            label=f"ours, {label}",
        )
    ax.plot(
        list(xs), [PAPER[n][2] / 100 for n in names], "k_", markersize=22, mew=2, label="paper, AUC (FF++ LQ)"
    )
    lows = [
        summary[n][k]["mean"] - summary[n][k]["std"]
        for n in names
        for k in ("frame_auc", "video_auc")
        if summary[n][k]["mean"] is not None
    ]
    ax.set_ylim(max(0.0, min(lows + [0.9]) - 0.05), 1.0)
    ax.set_xticks(list(xs), [f"{PAPER[n][0]}: {n}" for n in names], fontsize=8)
    ax.set(ylabel="test AUC", title=f"Table 4 ablation on the demo ({summary[names[0]]['seeds']} seeds)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True, help="WORK/shards of the demo")
    parser.add_argument("--out", required=True, help="folder for the runs, ablation.json and ablation.png")
    parser.add_argument("--config", default="configs/ablation.toml", help="the training setting (TOML/YAML)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (for tests)")
    args = parser.parse_args(argv)
    base = resolve(read_options_file(Path(args.config)), {"shards": args.shards, "out": args.out})
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.tiny:
        base, seeds = base.replace(**TINY), seeds[:2]
    out = Path(args.out)
    runs = []
    for variant in VARIANTS:
        for seed in seeds:
            cfg = base.replace(variant=variant, seed=seed, out=str(out / f"{variant}-s{seed}"))
            runs.append(run_one(cfg))
            r = runs[-1]
            print(
                f"{variant} seed {seed}: best epoch {r['best_epoch']} val AUC {r['val_auc']:.4f} | test "
                f"frame AUC {r['frame_auc']:.4f} video AUC {r['video_auc']:.4f} ({r['seconds']:.0f} s)",
                flush=True,
            )
    summary = summarise(runs)
    result = {"config": base.to_dict(), "seeds": seeds, "runs": runs, "summary": summary, "paper": PAPER}
    write_json(out / "ablation.json", result)
    plot(summary, out / "ablation.png")
    print(table(summary))
    print(f"wrote {out / 'ablation.json'} and {out / 'ablation.png'}")
    return result


if __name__ == "__main__":
    main()
