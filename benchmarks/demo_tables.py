"""Every table of the package-face demo in one run (issue 24): meant for one GPU, checked on CPU with --tiny.

    PYTHONUNBUFFERED=1 python benchmarks/demo_tables.py --shards demo/work/shards --out DIR [--seeds 0,1,2]
        [--parts demo,ablation,compare,general,robustness,predict] [--parallel 6] [--compare-epochs 5]
        [--cross demo/cross/shards] [--ffpp /work/shared/data/ffpp] [--general SelfBlend,FaceSwapBlend]
        [--tiny]

Parts (each a chain of commands; chains run `--parallel` at a time, each one process, device auto):
- demo: `lrl-train --config configs/demo.toml` (as `make demo` trains), then `--evaluate best.pt` on test
  (and on `--cross` shards when given);
- ablation: Table 4's five variants x seeds (benchmarks/ablation.py, configs/ablation.toml), one chain per
  seed, then one ablation.py over all seeds that reuses the runs and writes the summary;
- compare: LRL vs MC-LCR and its ablations x seeds (benchmarks/mclcr_compare.py --pretrained imagenet
  --epochs COMPARE_EPOCHS), one chain per row;
- general: train on SelfBlend only and test on FaceSwapBlend, and the reverse (lrl-train --methods), x seeds,
  configs/demo.toml; the test AUC per method from --evaluate;
- robustness: when lrl-train has --perturb, `--evaluate` the demo run and a `--variant rgb` run of
  configs/demo.toml with `--perturb all`;
- predict: lrl-predict with the demo checkpoint on FF++'s real c23 004 and NeuralTextures 004_982 under
  `--ffpp`, when that folder exists (else the command is printed and recorded).
DIR gets one folder per part; DIR/tables.json and DIR/tables.md hold every number; the JSON and Markdown
results (no checkpoints) are packed into DIR/../results.tgz (or --pack), again after every chain. `--tiny`
(plumbing check, CPU): first seed, one epoch of one batch of 4 per training, perturbation level 1. Exit 1
when a chain failed (the rest run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTS = ("demo", "ablation", "compare", "general", "robustness", "predict")
COMPARE_ROWS = (
    "LRL full",
    "MC-LCR",
    "MC-LCR w/o SupCon",
    "MC-LCR w/o style block",
    "MC-LCR w/o amplitude/phase",
)
TINY_TRAIN = ["--epochs", "1", "--max-batches", "1", "--batch-size", "4", "--workers", "0"]
PREDICT_INPUTS = (
    "original_sequences/youtube/c23/videos/004.mp4",
    "manipulated_sequences/NeuralTextures/c23/videos/004_982.mp4",
)


def lrl(command: str, *args) -> list[str]:
    """A CLI of this checkout (train, predict, prep) run by this Python, whatever is installed."""
    return [sys.executable, "-c", f"import cli; cli.{command}()", *map(str, args)]


def script(name: str, *args) -> list[str]:
    return [sys.executable, str(REPO / "benchmarks" / name), *map(str, args)]


def run_chain(name: str, commands: list[list[str]], logs: Path, threads: int) -> dict:
    """Run commands in order (stop at the first failure), output to logs/NAME.log; rc, seconds, log tail."""
    log = logs / f"{name.replace('/', '-')}.log"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": str(threads),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
    }
    start, rc = time.perf_counter(), 0
    print(f"[start] {name}", flush=True)
    with log.open("w") as out:
        for cmd in commands:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
            if rc:
                break
    seconds = round(time.perf_counter() - start, 1)
    tail = log.read_text(errors="replace").splitlines()[-15:]
    print(
        f"[{'done' if rc == 0 else f'FAILED rc {rc}'}] {name} ({seconds:.0f} s)"
        + ("" if rc == 0 else "\n  " + "\n  ".join(tail)),
        flush=True,
    )
    return {"chain": name, "rc": rc, "seconds": seconds, "log_tail": tail if rc else []}


def run_all(
    chains: dict[str, list[list[str]]], parallel: int, logs: Path, done=lambda result: None
) -> list[dict]:
    """Run the chains `parallel` at a time (each child gets cores / parallel threads); `done` after each."""
    threads = max(1, (os.cpu_count() or 1) // max(1, parallel))

    def one(item):
        result = run_chain(*item, logs, threads)
        done(result)
        return result

    with ThreadPoolExecutor(max(1, parallel)) as pool:
        return list(pool.map(one, chains.items()))


def metrics_of(run: Path) -> dict | None:
    """The test metrics --evaluate wrote for the run's own shards (the newest metrics-best-test-*.json)."""
    found = sorted(run.glob("metrics-best-test-*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(found[-1].read_text()) if found else None


def mean_std(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    return {
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def cell(m: dict) -> str:
    return "n/a" if m["mean"] is None else f"{m['mean']:.3f} ± {m['std']:.3f} (n={m.get('n', '?')})"


class Plan:
    def __init__(self, args):
        self.args, self.out = args, Path(args.out).resolve()
        self.shards = str(Path(args.shards).resolve())
        self.seeds = [int(s) for s in args.seeds.split(",")][: 1 if args.tiny else None]
        self.tiny = TINY_TRAIN if args.tiny else []
        a, b = args.general.split(",")
        self.general = ((a, b), (b, a))  # (trained on, tested on)

    def train(self, run: Path, *extra) -> list[list[str]]:
        """Train configs/demo.toml into RUN, then evaluate best.pt on test."""
        return [
            lrl(
                "train",
                "--config",
                REPO / "configs/demo.toml",
                "--shards",
                self.shards,
                "--out",
                run,
                *extra,
                *self.tiny,
            ),
            lrl("train", "--evaluate", run / "best.pt", "--split", "test"),
        ]

    def chains(self, parts: set[str]) -> dict[str, list[list[str]]]:
        out, chains = self.out, {}
        if "demo" in parts or "robustness" in parts or "predict" in parts:
            chains["demo"] = self.train(out / "demo" / "run")
            if self.args.cross:
                chains["demo"].append(
                    lrl(
                        "train",
                        "--evaluate",
                        out / "demo" / "run" / "best.pt",
                        "--shards",
                        self.shards,
                        "--shards",
                        Path(self.args.cross).resolve(),
                        "--split",
                        "test",
                        "--out",
                        out / "demo" / "cross",
                    )
                )
        if "ablation" in parts:
            for seed in self.seeds:
                chains[f"ablation/s{seed}"] = [
                    script(
                        "ablation.py",
                        "--shards",
                        self.shards,
                        "--out",
                        out / "ablation",
                        "--seeds",
                        seed,
                        *(["--tiny"] if self.args.tiny else []),
                    )
                ]
        if "compare" in parts:
            small = (
                ["--max-batches", "1", "--batch-size", "4", "--epochs", "1"]
                if self.args.tiny
                else ["--epochs", self.args.compare_epochs]
            )
            for row in COMPARE_ROWS:
                chains[f"compare/{slug(row)}"] = [
                    script(
                        "mclcr_compare.py",
                        "--shards",
                        self.shards,
                        "--out",
                        out / "compare" / slug(row),
                        "--rows",
                        row,
                        "--seeds",
                        ",".join(map(str, self.seeds)),
                        "--pretrained",
                        "imagenet",
                        *small,
                    )
                ]
        if "general" in parts:
            for trained, _ in self.general:
                for seed in self.seeds:
                    chains[f"general/{trained}-s{seed}"] = self.train(
                        out / "general" / f"{trained}-s{seed}", "--methods", trained, "--seed", seed
                    )
        if "robustness" in parts and has_perturb():
            chains["robustness-rgb"] = self.train(out / "robustness" / "rgb", "--variant", "rgb")
        return chains

    def after(self, parts: set[str], results: list[dict]) -> dict[str, list[list[str]]]:
        """What runs once the chains are done: the ablation summary, robustness, predict."""
        ok = {r["chain"] for r in results if r["rc"] == 0}
        out, chains = self.out, {}
        if "ablation" in parts and all(f"ablation/s{s}" in ok for s in self.seeds):
            chains["ablation/summary"] = [
                script(
                    "ablation.py",
                    "--shards",
                    self.shards,
                    "--out",
                    out / "ablation",
                    "--seeds",
                    ",".join(map(str, self.seeds)),
                    *(["--tiny"] if self.args.tiny else []),
                )
            ]
        if "robustness" in parts and has_perturb() and {"demo", "robustness-rgb"} <= ok:
            chains["robustness"] = [
                lrl(
                    "train",
                    "--evaluate",
                    out / "demo" / "run" / "best.pt",
                    "--evaluate",
                    out / "robustness" / "rgb" / "best.pt",
                    "--perturb",
                    "all",
                    "--levels",
                    "1" if self.args.tiny else "1-5",
                    "--out",
                    out / "robustness",
                )
            ]
        if "predict" in parts and "demo" in ok and predict_inputs(self.args.ffpp):
            chains["predict"] = [
                lrl(
                    "predict",
                    "--checkpoint",
                    out / "demo" / "run" / "best.pt",
                    "--out",
                    out / "predict",
                    *predict_inputs(self.args.ffpp),
                )
            ]
        return chains


def slug(row: str) -> str:
    return row.replace(" ", "_").replace("/", "-")


def has_perturb() -> bool:
    """Whether this checkout's lrl-train has --perturb (branch perturb landed)."""
    text = subprocess.run(
        lrl("train", "--help"),
        cwd=REPO,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
        },
    ).stdout
    return "--perturb" in text


def predict_inputs(ffpp: str | None) -> list[str]:
    """The two FF++ c23 videos under FFPP, or [] when they are not there."""
    files = [Path(ffpp or "") / p for p in PREDICT_INPUTS]
    return [str(f) for f in files] if ffpp and all(f.is_file() for f in files) else []


def collect(plan: Plan, parts: set[str], results: list[dict]) -> tuple[dict, str]:
    """tables.json's content and tables.md."""
    out, data, md = plan.out, {"chains": results, "seeds": plan.seeds, "tiny": plan.args.tiny}, []
    demo = metrics_of(out / "demo" / "run")
    if demo:
        data["demo"] = {"frame": demo["frame"], "video": demo["video"]}
        md += [
            "## demo (configs/demo.toml), test split",
            "",
            "| method | frame AUC | frame ACC | video AUC |",
            "| --- | --- | --- | --- |",
        ]
        md += [
            f"| {m} | {v['auc']} | {v['acc']} | {demo['video'].get(m, {}).get('auc')} |"
            for m, v in demo["frame"].items()
        ]
    ablation = out / "ablation" / "ablation.json"
    if "ablation" in parts and ablation.is_file():
        data["ablation"] = json.loads(ablation.read_text())["summary"]
        md += [
            "",
            "## Table 4 ablation (configs/ablation.toml)",
            "",
            "| variant | frame AUC | video AUC |",
            "| --- | --- | --- |",
        ]
        md += [
            f"| {v} | {cell({**s['frame_auc'], 'n': s['seeds']})} | "
            f"{cell({**s['video_auc'], 'n': s['seeds']})} |"
            for v, s in data["ablation"].items()
        ]
    runs = [
        r
        for row in COMPARE_ROWS
        for f in [out / "compare" / slug(row) / "compare.json"]
        if f.is_file()
        for r in json.loads(f.read_text())
    ]
    if runs:
        data["compare"] = {
            row: mean_std([r["test_auc"] for r in runs if r["row"] == row]) for row in COMPARE_ROWS
        }
        data["compare_runs"] = runs
        md += [
            "",
            f"## LRL vs MC-LCR (configs/mclcr-demo.toml, {plan.args.compare_epochs} epochs)",
            "",
            "| model | test frame AUC |",
            "| --- | --- |",
        ]
        md += [f"| {row} | {cell(m)} |" for row, m in data["compare"].items()]
    general = {}
    for trained, tested in plan.general:
        found = [metrics_of(out / "general" / f"{trained}-s{s}") for s in plan.seeds]
        found = [m for m in found if m]
        if found:
            general[trained] = {
                name: mean_std([m["frame"].get(name, {}).get("auc") for m in found])
                for name in (trained, tested)
            }
    if general:
        data["general"] = general
        md += [
            "",
            "## Generalisation (configs/demo.toml, --methods)",
            "",
            "| trained on | test frame AUC, same method | test frame AUC, other method |",
            "| --- | --- | --- |",
        ]
        md += [
            f"| {t} | {cell(general[t][t])} | {cell(general[t][o])} |"
            for t, o in plan.general
            if t in general
        ]
    robust = sorted((out / "robustness").glob("*.json")) if (out / "robustness").is_dir() else []
    if robust:
        data["robustness"] = {p.name: json.loads(p.read_text()) for p in robust}
    predictions = out / "predict" / "predictions.json"
    if predictions.is_file():
        data["predict"] = json.loads(predictions.read_text())
        md += ["", "## lrl-predict, demo checkpoint, FF++ c23", ""]
        md += [
            f"- {Path(i['path']).name}: {i.get('label')} {i.get('score')}"
            for i in data["predict"].get("inputs", [])
        ]
    elif "predict" in parts:
        data["predict"] = {
            "skipped": f"--ffpp {plan.args.ffpp}: the two FF++ videos are not here",
            "command": "lrl-predict --checkpoint "
            + str(out / "demo/run/best.pt")
            + " --out "
            + str(out / "predict")
            + " "
            + " ".join(f"FFPP/{p}" for p in PREDICT_INPUTS),
        }
    failed = [r["chain"] for r in results if r["rc"]]
    md += ["", f"chains: {len(results)}, failed: {', '.join(failed) or 'none'}"]
    return data, "\n".join(md) + "\n"


def pack(out: Path, target: Path) -> Path:
    """DIR's JSON, JSONL, Markdown and log files (no checkpoints, no images) into one tar.gz (atomic)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for path in sorted(out.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".md", ".log"):
                tar.add(path, arcname=str(Path(out.name) / path.relative_to(out)))
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True, help="the demo's WORK/shards")
    parser.add_argument("--out", required=True, help="folder of every run and table (DIR)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument("--parallel", type=int, default=6, help="chains run at a time (one process each)")
    parser.add_argument(
        "--compare-epochs", default="5", help="epochs of each compare run (configs/demo.toml: 5)"
    )
    parser.add_argument(
        "--general",
        default="SelfBlend,FaceSwapBlend",
        help="the two fake methods of the generalisation part: each trained alone, tested on both",
    )
    parser.add_argument(
        "--cross", help="cross-dataset shards (demo/cross/shards) the demo run is also evaluated on"
    )
    parser.add_argument("--ffpp", default="/work/shared/data/ffpp", help="FF++ tree for the predict part")
    parser.add_argument("--pack", help="the tar.gz of the results (default DIR/../results.tgz)")
    parser.add_argument(
        "--tiny", action="store_true", help="plumbing check: 1 seed, 1 batch of 4 per training"
    )
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}: choose from {','.join(PARTS)}")
    plan = Plan(args)
    logs = plan.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    target = Path(args.pack).resolve() if args.pack else plan.out.parent / "results.tgz"
    finished: list[dict] = []
    lock = threading.Lock()

    def save(result: dict | None = None) -> str:
        """tables.json, tables.md and the tar.gz from what has finished (after every chain: a run stopped by
        a time limit still leaves its results)."""
        with lock:
            if result is not None:
                finished.append(result)
            try:
                data, md = collect(plan, parts, list(finished))
            except Exception as exc:  # a table that cannot be read yet never stops the runs
                print(f"tables not written this time: {type(exc).__name__}: {exc}", flush=True)
                return ""
            data["seconds"] = round(time.perf_counter() - start, 1)
            (plan.out / "tables.json").write_text(json.dumps(data, indent=1, default=str))
            (plan.out / "tables.md").write_text(md)
            pack(plan.out, target)
            return md

    if "robustness" in parts and not has_perturb():
        print("robustness: this lrl-train has no --perturb (branch perturb not merged): skipped", flush=True)
    results = run_all(plan.chains(parts), args.parallel, logs, save)
    results += run_all(plan.after(parts, results), args.parallel, logs, save)
    md = save()
    data = json.loads((plan.out / "tables.json").read_text())
    print(md, flush=True)
    if "predict" in data and "skipped" in data["predict"]:
        print(f"predict skipped; run afterwards where FF++ is: {data['predict']['command']}", flush=True)
    print(
        f"wrote {plan.out / 'tables.json'}, {plan.out / 'tables.md'} and {target} in {data['seconds']:.0f} s",
        flush=True,
    )
    return 1 if any(r["rc"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
