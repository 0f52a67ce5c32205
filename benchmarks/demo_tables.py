"""Every table of the package-face demo in one run (issue 24): meant for one GPU, checked on CPU with --tiny.

    PYTHONUNBUFFERED=1 python benchmarks/demo_tables.py --shards demo/work/shards --out DIR [--seeds 0,1,2]
        [--parts demo,ablation,compare,general,robustness,predict] [--parallel 6] [--compare-epochs 5]
        [--cross demo/cross/shards] [--ffpp FFPP] [--general SelfBlend,FaceSwapBlend] [--tiny]

One resumable sweep (model.training.sweep, `--parallel` runs at a time) of the parts' runs: demo
(configs/demo.toml as `make demo` trains it, first seed, also evaluated on `--cross`), ablation
(benchmarks/ablation.py's), compare (benchmarks/mclcr_compare.py's, ImageNet weights), general (trained on
one method of `--general`, tested on both), robustness (a `--variant rgb` run); then `--perturb all` on
the demo and rgb runs, and lrl-predict of the demo checkpoint on FF++ c23 004 and NeuralTextures 004_982
under `--ffpp`. Tables in DIR/tables.json and .md; the JSON and Markdown results packed into
DIR/../results.tgz (or --pack). `--tiny`: first seed, one batch of 4 per run, level 1. Exit 1 when a run
failed (the rest run).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path

import ablation
import mclcr_compare

from model.training.config import resolve
from model.training.sweep import Evaluation, grid, summarise, sweep, write_tables
from pipeline.params import read_options_file

REPO = Path(__file__).resolve().parents[1]
PARTS = ("demo", "ablation", "compare", "general", "robustness", "predict")
PREDICT_INPUTS = ("original_sequences/youtube/c23/videos/004.mp4",)
PREDICT_INPUTS += ("manipulated_sequences/NeuralTextures/c23/videos/004_982.mp4",)
DEMO_METRICS = {"frame AUC": "test:frame.overall.auc", "video AUC": "test:video.overall.auc"}


def plan(args, parts: set[str], out: Path) -> dict[str, tuple[list, dict]]:
    """part -> (its runs, its table's metrics)."""
    seeds = [int(s) for s in args.seeds.split(",")][: 1 if args.tiny else None]
    tiny = ablation.TINY if args.tiny else {}

    def base(config: str, **flags):
        return resolve(read_options_file(REPO / "configs" / config), {"shards": args.shards, **flags})

    demo = base("demo.toml").replace(**tiny)
    cross = (Evaluation("cross", shards=args.cross),) if args.cross else ()
    out_of = {"cross frame AUC": "cross:frame.overall.auc"} if args.cross else {}
    a, b = args.general.split(",")
    compare = base("mclcr-demo.toml", epochs=int(args.compare_epochs), pretrained="imagenet").replace(**tiny)
    tests = (Evaluation(), *cross)
    plans = {
        "demo": (grid(demo, out / "demo", {"demo": {}}, seeds[:1], evaluations=tests), out_of),
        "ablation": (grid(base("ablation.toml").replace(**tiny), out / "ablation", ablation.ROWS, seeds), {}),
        "compare": (grid(compare, out / "compare", mclcr_compare.ROWS, seeds), mclcr_compare.METRICS),
        "general": (
            grid(demo, out / "general", {f"trained on {m}": {"methods": m} for m in (a, b)}, seeds),
            {f"{m} frame AUC": f"test:frame.{m}.auc" for m in (a, b)},
        ),
        "robustness": (grid(demo, out / "robustness", {"rgb": {"variant": "rgb"}}, seeds[:1]), {}),
    }
    wanted = parts | ({"demo"} if parts & {"robustness", "predict"} else set())
    return {p: (runs, {**DEMO_METRICS, **more}) for p, (runs, more) in plans.items() if p in wanted}


def after(args, parts: set[str], out: Path, done: dict[str, list]) -> None:
    """Robustness of the demo and rgb runs, and the demo checkpoint's predictions, once they are trained."""
    ok = {p for p, results in done.items() if results and not any(r.error for r in results)}
    demo = Path(done["demo"][0].folder) / "best.pt" if "demo" in ok else None
    if "robustness" in parts and demo and "robustness" in ok:
        from model.training.robustness import evaluate_robustness
        from model.training.run_eval import EvalOptions

        rgb = Path(done["robustness"][0].folder) / "best.pt"
        levels = (1,) if args.tiny else (1, 2, 3, 4, 5)
        print(evaluate_robustness([demo, rgb], EvalOptions(out=out / "robustness"), levels=levels))
    inputs = [Path(args.ffpp) / p for p in PREDICT_INPUTS]
    if "predict" in parts and demo and all(p.is_file() for p in inputs):
        from pipeline.errors import LrlError
        from pipeline.predict.run import predict

        try:
            predict(demo, inputs, out / "predict")
        except LrlError as exc:
            print(f"predict: {exc}")
    elif "predict" in parts:
        print(f"predict skipped: --ffpp {args.ffpp} lacks {', '.join(PREDICT_INPUTS)}")


def pack(out: Path, target: Path) -> None:
    """OUT's JSON, JSONL and Markdown files (no checkpoints, no images) into one tar.gz (atomic)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for path in sorted(out.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
                tar.add(path, arcname=str(Path(out.name) / path.relative_to(out)))
    tmp.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True, help="the demo's WORK/shards")
    parser.add_argument("--out", required=True, help="folder of every run and table (DIR)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"a subset of {','.join(PARTS)}")
    parser.add_argument("--parallel", type=int, default=6, help="runs at a time (one process each)")
    parser.add_argument("--compare-epochs", default="5", help="epochs of each compare run")
    parser.add_argument("--general", default="SelfBlend,FaceSwapBlend", help="two fake methods")
    parser.add_argument("--cross", help="cross-dataset shards the demo run is also evaluated on")
    parser.add_argument("--ffpp", default="/work/shared/data/ffpp", help="FF++ tree for the predict part")
    parser.add_argument("--pack", help="the tar.gz of the results (default DIR/../results.tgz)")
    parser.add_argument("--tiny", action="store_true", help="plumbing check: 1 seed, 1 batch of 4 per run")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown parts {sorted(parts - set(PARTS))}: choose from {','.join(PARTS)}")
    out = Path(args.out).resolve()
    planned = plan(args, parts, out)
    results = sweep([run for runs, _ in planned.values() for run in runs], args.parallel)
    ordered = iter(results)
    done = {part: [next(ordered) for _ in runs] for part, (runs, _) in planned.items()}
    tables = [summarise(part, done[part], metrics) for part, (_, metrics) in planned.items()]
    write_tables(tables, out / "tables", results)
    after(args, parts, out, done)
    pack(out, Path(args.pack).resolve() if args.pack else out.parent / "results.tgz")
    print((out / "tables.md").read_text())
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
