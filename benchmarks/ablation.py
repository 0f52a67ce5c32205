"""Table 4 ablation on the demo: the five variants x seeds, model chosen on val, test AUC as mean ± sd.

    python benchmarks/ablation.py --shards demo/work/shards --out demo/ablation
                                  [--config configs/ablation.toml] [--seeds 0,1,2] [--jobs 1] [--tiny]

A sweep (model.training.sweep): each (variant, seed) trains `--config` (the setting, chosen by measurement:
see configs/ablation.toml) into OUT/<variant>/s<seed>/, keeps best.pt by validation AUC (never test), then
evaluates it on the test split; a run whose result exists under the same spec is reused, so a stopped
ablation continues. Prints the table (mean ± sample sd over seeds, ddof 1, beside the paper's Table 4,
FF++ LQ) and writes OUT/ablation.json, .md and .png. `--tiny` (tests): one batch of 4 per run with a small
random-init backbone, seeds 0 and 1: it checks the plumbing, not the model. Exit 1 when a run failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.config import VARIANTS
from model.training.config import resolve
from model.training.plots import bars_png
from model.training.sweep import grid, summarise, sweep, write_tables
from pipeline.params import read_options_file

# Table 4 of the paper (FF++ LQ, frame level, %): variant -> (row, ACC, AUC).
PAPER = {
    "rgb": (1, 89.15, 93.03),
    "rgb_freq": (2, 89.99, 93.13),
    "rgb_freq_rfam": (3, 90.05, 93.78),
    "rgb_mpsm": (4, 91.06, 94.96),
    "full": (5, 91.47, 95.21),
}
ROWS = {v: {"variant": v} for v in VARIANTS}
METRICS = {"frame ACC": "test:frame.overall.acc", "frame AUC": "test:frame.overall.auc"}
METRICS["video AUC"] = "test:video.overall.auc"
# --tiny: one batch of 4 per run, a small random-init backbone (also demo_tables.py --tiny)
TINY = dict(backbone="mobilenetv3_small_050", strides=(4, 8, 16), pretrained=None, qualities="")
TINY |= dict(epochs=1, max_batches=1, batch_size=4, workers=0)


def paper_columns(rows) -> dict[str, list[str]]:
    """The paper's Table 4 row number, ACC and AUC (as fractions) beside each of our rows."""
    return {
        "paper row": [str(PAPER[v][0]) for v in rows],
        "paper ACC": [f"{PAPER[v][1] / 100:.4f}" for v in rows],
        "paper AUC": [f"{PAPER[v][2] / 100:.4f}" for v in rows],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True, help="WORK/shards of the demo")
    parser.add_argument("--out", required=True, help="folder for the runs and ablation.json/.md/.png")
    parser.add_argument("--config", default="configs/ablation.toml", help="the training setting (TOML/YAML)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (processes)")
    parser.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (for tests)")
    args = parser.parse_args(argv)
    base = resolve(read_options_file(Path(args.config)), {"shards": args.shards})
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.tiny:
        base, seeds = base.replace(**TINY), seeds[:2]
    out = Path(args.out)
    results = sweep(grid(base, out, ROWS, seeds), args.jobs)
    table = summarise(f"Table 4 ablation on the demo ({len(seeds)} seeds)", results, METRICS)
    files = write_tables([table], out / "ablation", results, lambda t: t.markdown(paper_columns(t.rows)))
    paper_auc = {v: PAPER[v][2] / 100 for v in table.rows}
    bars_png(out / "ablation.png", table, ("frame AUC", "video AUC"), paper_auc, table.title)
    print(table.markdown(paper_columns(table.rows)) + f"\nwrote {', '.join(map(str, files))}, ablation.png")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
