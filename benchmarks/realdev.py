"""The papers' tables on real forgeries (`make realdev`): folds of identity over ../shared/data/realdev.

    python benchmarks/realdev.py --realdev ../shared/data/realdev --out realdev [--quick]
        [--frames 16] [--size 80] [--threshold 0.15] [--folds 0,1,2,3,4] [--tables table4,compare]
        [--models full,rgb] [--epochs N] [--config configs/realdev.toml] [--mask-thresholds 0.05,0.1]
    python benchmarks/realdev.py --transfer [--seeds 0,1,2] [--demo demo/ffpp]   (the transfer study)
    python benchmarks/realdev.py --recipe --config configs/transfer.toml         (`make transfer`)

Prepares, with `lrl-prep refresh` (the paper's diff masks at --threshold), one WORK per fold of the five
FF++ c40 reciprocal pairs (pipeline.dataset.folds: the held-out pair tests, the next pair validates, three
train; the fold's split files in OUT/splits/fold-K) and one WORK of the cross-dataset clips (Celeb-DF v2, all
22 as its test split, and the DFD actor reals), all under OUT/work/<frames>f-<size>px-t<threshold>/ through
views of REALDEV made of symbolic links in OUT/roots (nothing is copied). Then trains each (model, fold) of
the tables into OUT/runs/<prep>/<model>/fold-K (configs/realdev.toml; best.pt by val AUC), evaluates it on the
held-out pair (frame and video AUC, per method) and on the cross clips (Celeb-DF AUC; DFD reals: mean video
score and the share called fake at 0.5), and writes result.json beside it. A (model, fold)
whose result.json holds the same config is skipped, a killed training resumes from its last.pt: a stopped
run continues where it was. OUT/tables.json and OUT/tables.md (mean ± sd over folds beside the papers'
numbers, and each method's mask area) are rewritten after every run. `--quick` (the plumbing check): fold 0,
one epoch, one model per table (full, MC-LCR), runs in OUT/quick/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")
VARIANTS = ("rgb", "rgb_freq", "rgb_freq_rfam", "rgb_mpsm", "full")  # Table 4's rows, in order
# MC-LCR rows (benchmarks/mclcr_compare.py): the detector's fields over configs/realdev.toml
MCLCR = {"model": "mclcr", "patch": 8, "lambda_con": 0.5, "temperature": 0.07}
COMPARE = {
    "MC-LCR": {**MCLCR, "mclcr_variant": "full"},
    "MC-LCR w/o SupCon": {**MCLCR, "mclcr_variant": "full", "lambda_con": 0.0},
    "MC-LCR w/o style block": {**MCLCR, "mclcr_variant": "no_style"},
    "MC-LCR w/o amplitude/phase": {**MCLCR, "mclcr_variant": "no_freq"},
}
TABLES = {
    "table4": {v: {"variant": v} for v in VARIANTS},  # LRL full is Table 4's last row and compare's first
    "compare": COMPARE,
}
QUICK_MODELS = {"table4": ("full",), "compare": ("MC-LCR",)}
# The papers' numbers (%): LRL Table 4 (FF++ LQ, frame ACC, AUC), Table 2 (FF++ LQ, ACC per method),
# Table 3 (trained on FF++, AUC on Celeb-DF / DFD). MC-LCR: only its abstract is public (no numbers).
PAPER_T4 = {
    "rgb": (89.15, 93.03),
    "rgb_freq": (89.99, 93.13),
    "rgb_freq_rfam": (90.05, 93.78),
    "rgb_mpsm": (91.06, 94.96),
    "full": (91.47, 95.21),
}
PAPER_T2 = {"Deepfakes": 98.84, "Face2Face": 95.53, "FaceSwap": 97.53, "NeuralTextures": 89.31}
PAPER_T3 = {"celebdf": 78.26, "dfd": 89.24}
LOCKED = 75  # lrl-prep's exit code when WORK is locked by another run
QUALITY = "c40"  # the FF++ and DFD clips used (realdev holds c40 only): masks from the c40 pairs
FFPP_PARTS = tuple(
    f"{d}/{m}/{QUALITY}"
    for d, m in [("original_sequences", "youtube")] + [("manipulated_sequences", m) for m in METHODS]
)
DFD_PARTS = (f"original_sequences/actors/{QUALITY}",)
CELEBDF_PARTS = ("Celeb-real", "Celeb-synthesis")
# --tiny (tests): a small random-init backbone, one batch of 4 per epoch: the plumbing, not a model
TINY = {"backbone": "mobilenetv3_small_050", "pretrained": None, "max_batches": 1, "batch_size": 4}


def say(line: str) -> None:
    print(line, flush=True)


# ------------------------------------------------------------------ preparation


def link_view(view: Path, source: Path, parts) -> Path:
    """VIEW holding symbolic links to SOURCE's `parts` (folders), so an index of VIEW sees only them."""
    for part in parts:
        link = view / part
        if not (source / part).is_dir():
            raise SystemExit(f"{source / part}: missing (is --realdev a realdev folder? see PROVENANCE.md)")
        if link.is_symlink():
            continue
        if link.exists():  # e.g. reached through a link of an older view: never write into REALDEV
            raise SystemExit(f"{link}: exists and is no link of this view: remove {view} and run again")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to((source / part).resolve(), target_is_directory=True)
    return view


def celebdf_view(view: Path, source: Path) -> Path:
    """Celeb-DF's clips with a List_of_testing_videos.txt naming all of them (1 real, 0 fake), so every clip
    is in split test (the realdev copy has no list: the index would put them all in train)."""
    from pipeline.dataset.layout import CELEB_FAKE, CELEBDF_TEST_LIST
    from pipeline.store.atomic import write_bytes

    link_view(view, source, CELEBDF_PARTS)
    lines = [
        f"{0 if folder == CELEB_FAKE else 1} {folder}/{clip.name}"
        for folder in CELEBDF_PARTS
        for clip in sorted((source / folder).glob("*.mp4"))
    ]
    write_bytes(view / CELEBDF_TEST_LIST, ("\n".join(lines) + "\n").encode())
    return view


def write_fold_splits(out: Path, ffpp_view: Path, folds: list[int], n: int) -> dict[int, Path]:
    """OUT/splits/fold-K/{train,val,test}.json of each fold (pipeline.dataset.folds); fold -> folder."""
    from pipeline.dataset.adapters import scan
    from pipeline.dataset.folds import check, identity_folds, split_pairs
    from pipeline.store.atomic import write_json

    records = scan(ffpp_view).records
    every = identity_folds(records, n)
    dirs = {}
    for k in folds:
        folder = out / "splits" / f"fold-{k}"
        for split, pairs in split_pairs(every[k], records).items():
            write_json(folder / f"{split}.json", pairs)
        placed = scan(ffpp_view, split_dir=folder).records
        wrong = check([r for r in placed if r.dataset == "ffpp"], lambda r: r.split)
        if wrong:
            raise SystemExit(f"{folder}: fold {k} is not a fold of identity: {wrong[0]}")
        dirs[k] = folder
    return dirs


def refresh(root: Path, work: Path, prep: dict, split_dir: Path | None = None) -> None:
    """`lrl-prep refresh` of ROOT into WORK (a subprocess of this checkout's CLI); exit on failure."""
    args = ["--root", root, "--work", work, "--frames", prep["frames"], "--size", prep["size"]]
    args += ["--threshold", prep["threshold"]] + (["--split-dir", split_dir] if split_dir else [])
    args += ["--source", prep["source"]] if "source" in prep else []
    cmd = [sys.executable, "-c", "import cli; cli.prep()", "refresh", *map(str, args)]
    start = time.perf_counter()
    rc = subprocess.run(cmd, cwd=REPO, env=child_env()).returncode
    while rc == LOCKED:  # another refresh holds WORK (a second realdev.py on the same OUT): wait for it
        time.sleep(10)
        rc = subprocess.run(cmd, cwd=REPO, env=child_env()).returncode
    if rc not in (0, 1):  # 1: some unit failed or an input is unusable (printed): the rest is usable
        raise SystemExit(f"lrl-prep refresh --root {root} --work {work}: exit {rc}")
    say(f"prepared {work} ({time.perf_counter() - start:.0f} s)")


def child_env() -> dict:
    paths = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def work_base(out: Path, prep: dict) -> Path:
    return out / "work" / f"{prep['frames']}f-{prep['size']}px-t{prep['threshold']}"


def prepare(realdev: Path, out: Path, prep: dict, folds: list[int], n: int) -> tuple[dict[int, Path], Path]:
    """Views, fold splits and refreshed WORKs: (fold -> its shards, the cross shards)."""
    roots = out / "roots"
    ffpp = link_view(roots / "ffpp", realdev / "ffpp", FFPP_PARTS)
    dfd = link_view(roots / "dfd", realdev / "ffpp", DFD_PARTS)
    celebdf = celebdf_view(roots / "celebdf", realdev / "celebdf")
    base = work_base(out, prep)
    shards = {}
    for k, split_dir in write_fold_splits(out, ffpp, folds, n).items():
        refresh(ffpp, base / f"fold-{k}", prep, split_dir)
        shards[k] = base / f"fold-{k}" / "shards"
    refresh(celebdf, base / "cross", prep)
    refresh(dfd, base / "cross", prep)
    return shards, base / "cross" / "shards"


def mask_areas(shards: Path) -> dict:
    """Per fake method of a shard set (every split): samples and the mean and median share of the crop its
    masks mark forged."""
    import numpy as np

    from pipeline.store.reader import ShardDataset

    values: dict[str, list[float]] = {}
    for split in ("train", "val", "test"):
        ds = ShardDataset(shards, split, fields=("mask",), interpolated=False)
        for i in np.flatnonzero(ds.labels == 1):
            s = ds[int(i)]
            values.setdefault(s["method"], []).append(float((s["mask"] > 0).mean()))
        ds.close()
    return {
        m: {
            "samples": len(v),
            "mean": statistics.fmean(v),
            "median": statistics.median(v),
            "empty": statistics.fmean(x == 0 for x in v),
        }
        for m, v in sorted(values.items())
    }


def mask_thresholds(out: Path, prep: dict, thresholds: list[str]) -> dict:
    """Mask area per method of fold 0's WORK at each threshold (only masks and shards are redone), then
    that WORK back at --threshold: threshold -> mask_areas."""
    work, view = work_base(out, prep) / "fold-0", out / "roots" / "ffpp"
    found = {}
    for t in thresholds + [prep["threshold"]]:
        refresh(view, work, prep | {"threshold": t}, out / "splits" / "fold-0")
        found[t] = mask_areas(work / "shards")
    return {t: found[t] for t in thresholds}


# ------------------------------------------------------------------ runs


def run_config(base_file: Path, shards: Path, run: Path, overrides: dict, epochs: int | None):
    from model.training.config import resolve
    from model.training.loop import training_datasets
    from pipeline.params import read_options_file

    values = {**read_options_file(base_file), **overrides}
    cfg = resolve(values, {"shards": str(shards), "out": str(run), "epochs": epochs})
    return cfg.replace(datasets=training_datasets(cfg)[0])  # resolved, as train() saves config.json


def same_config(run: Path, cfg) -> bool:
    saved = run / "config.json"
    return saved.is_file() and json.loads(saved.read_text()) == json.loads(json.dumps(cfg.to_dict()))


def history(run: Path) -> list[dict]:
    log = run / "log.jsonl"
    return [json.loads(x) for x in log.read_text().splitlines()] if log.is_file() else []


def inputs_of(cfg, cross: Path) -> dict:
    """The digests of a run's shard sets (its training WORK's, the cross one's): a rebuilt shard set (new
    crops or masks) is a new input, so its runs train and evaluate again."""
    from pipeline.store.index import digest, load_index

    return {"shards": digest(load_index(Path(cfg.data.shards))), "cross": digest(load_index(cross))}


def train_run(cfg, label: str, inputs: dict) -> None:
    """Train RUN, resuming from its last.pt when it holds the same config and shards; nothing when it is
    complete. RUN/inputs.json records the shard digests it trains on."""
    from model.training.loop import train
    from pipeline.store.atomic import write_json

    run = Path(cfg.run.out)
    marker = run / "inputs.json"
    same = same_config(run, cfg) and marker.is_file() and json.loads(marker.read_text()) == inputs
    done = history(run) if same else []
    if len(done) >= cfg.run.epochs:
        return
    resume = bool(done) and (run / "last.pt").is_file()
    if resume:
        say(f"  {label}: resuming after epoch {len(done)}")
    write_json(marker, inputs)
    train(cfg, resume=resume, overwrite=not resume, echo=lambda line: say(f"  {label}: {line}"))


def predictions(ckpt: Path, shards: Path, split: str):
    """Predictions (model.training.evaluate) of a checkpoint on one split of a shard set."""
    from model.training import checkpoint
    from model.training.data import LRLSamples
    from model.training.evaluate import predict
    from pipeline.store.reader import ShardDataset

    state = checkpoint.load(ckpt)
    net, cfg, trained = checkpoint.from_state(state, "cpu")
    ds = ShardDataset(shards, split, interpolated=False, qualities=cfg.data.quality_list)
    samples = LRLSamples(ds, freq_std=trained.freq_std or None)
    import torch

    return predict(net, samples, torch.device("cpu"), cfg.data.batch_size)


def evaluate(run: Path, shards: Path | None, cross: Path) -> dict:
    """best.pt on the held-out pair (frame / video AUC and ACC, per method; skipped when `shards` is None)
    and on the cross clips."""

    from model.training import metrics
    from model.training.evaluate import report

    ckpt = run / "best.pt"
    test = {}
    if shards is not None:
        rep = report(predictions(ckpt, shards, "test"))
        test = {
            m: {"frame_auc": rep["frame"][m]["auc"], "frame_acc": rep["frame"][m]["acc"]}
            | {"video_auc": rep["video"][m]["auc"], "video_acc": rep["video"][m]["acc"]}
            for m in rep["frame"]
        }
    pred = predictions(ckpt, cross, "test")
    out = {"test": test, "cross": {}}
    for name in sorted(set(pred.datasets.tolist())):
        part = pred.subset(pred.datasets == name)
        labels, scores, _ = metrics.video_level(part.videos, part.labels, part.probs, part.faces)
        r = report(part)
        out["cross"][name] = {
            "frame_auc": r["frame"]["overall"]["auc"],
            "video_auc": r["video"]["overall"]["auc"],
            "videos": len(labels),
            "real_mean_score": float(scores[labels == 0].mean()) if (labels == 0).any() else None,
            "real_called_fake": float((scores[labels == 0] > 0.5).mean()) if (labels == 0).any() else None,
            "fake_mean_score": float(scores[labels == 1].mean()) if (labels == 1).any() else None,
        }
    best = max(history(run), key=lambda h: h.get("val_auc", float("-inf")))
    return out | {"best_epoch": best["epoch"], "val_auc": best.get("val_auc")}


def run_one(job: dict, cross: Path) -> dict:
    """Train (or resume, or reuse) one (model, fold) and evaluate it; its result (also RUN/result.json)."""
    from pipeline.store.atomic import write_json

    cfg, run = job["cfg"], Path(job["cfg"].run.out)
    result_file, inputs = run / "result.json", inputs_of(cfg, cross)
    if result_file.is_file() and same_config(run, cfg):
        result = json.loads(result_file.read_text())
        if result.get("inputs") == inputs:
            return result
    start = time.perf_counter()
    train_run(cfg, f"{job['model']} {rep(job)}", inputs)
    result = {"table": job["table"], "model": job["model"], "fold": job["fold"], "inputs": inputs}
    held_out = None if job["table"] == "transfer" else Path(cfg.data.shards)
    result |= evaluate(run, held_out, cross) | {"seconds": round(time.perf_counter() - start, 1)}
    write_json(result_file, result)
    return result


def plan(args, shards: dict[int, Path], runs: Path) -> list[dict]:
    """Every (table, model, fold) to run, in order: fold-major, so partial tables have all models."""
    tables = args.tables.split(",")
    jobs = []
    for k in sorted(shards):
        for table in tables:
            models = QUICK_MODELS[table] if args.quick else tuple(TABLES[table])
            models = [m for m in models if not args.models or m in args.models.split(",")]
            for model in models:
                if table == "compare" and model in TABLES["table4"]:
                    continue
                overrides = TABLES[table][model] | (TINY if args.tiny else {})
                cfg = run_config(
                    Path(args.config), shards[k], runs / slug(model) / f"fold-{k}", overrides, args.epochs
                )
                jobs.append({"table": table, "model": model, "fold": k, "cfg": cfg})
    return jobs


def slug(name: str) -> str:
    return name.replace(" ", "_").replace("/", "-")


# ------------------------------------------------------------------ transfer


def prep_cli(*args) -> int:
    """`lrl-prep ARGS` of this checkout in a subprocess; its exit code."""
    cmd = [sys.executable, "-c", "import cli; cli.prep()", *map(str, args)]
    return subprocess.run(cmd, cwd=REPO, env=child_env()).returncode


def blend_tree(out: Path, ffpp_view: Path, work: Path) -> Path:
    """OUT/blend: `lrl-prep blend` of the FF++ reals (SelfBlend and FaceSwapBlend, swap sources inside the
    official split of each real), reusing WORK's face detections."""
    start = time.perf_counter()
    rc = prep_cli("blend", "--root", ffpp_view, "--out", out / "blend", "--work", work)
    if rc not in (0, 1):
        raise SystemExit(f"lrl-prep blend --root {ffpp_view}: exit {rc}")
    say(f"blended {out / 'blend'} ({time.perf_counter() - start:.0f} s)")
    return out / "blend"


def transfer_view(out: Path, realdev: Path, blend: Path) -> Path:
    """The FF++ c40 reals and fakes of REALDEV and the c40 blends of OUT/blend, as one tree of links."""
    from pipeline.dataset.layout import BLEND_METHODS

    view = link_view(out / "roots" / "transfer", realdev / "ffpp", FFPP_PARTS)
    return link_view(view, blend, [f"manipulated_sequences/{m}/{QUALITY}" for m in BLEND_METHODS])


def blends_view(out: Path, realdev: Path, blend: Path) -> Path:
    """The FF++ c40 reals and only their c40 blends with the blend masks (SBI's protocol, its own masks)."""
    from pipeline.dataset.layout import BLEND_METHODS

    view = link_view(out / "roots" / "blends", realdev / "ffpp", FFPP_PARTS[:1])
    parts = [f"manipulated_sequences/{m}/{q}" for m in BLEND_METHODS for q in (QUALITY, "masks")]
    return link_view(view, blend, parts)


def all_train_splits(out: Path, view: Path) -> Path:
    """OUT/splits/all: every pair of VIEW in train, val and test empty (the recipe trains on everything)."""
    from pipeline.dataset.adapters import scan
    from pipeline.dataset.folds import Fold, split_pairs, units
    from pipeline.store.atomic import write_json

    records = [r for r in scan(view).records if r.dataset == "ffpp"]
    fold = Fold(0, 1, train=tuple(units(records)), val=(), test=())
    folder = out / "splits" / "all"
    for split, pairs in split_pairs(fold, records).items():
        write_json(folder / f"{split}.json", pairs)
    return folder


def transfer_sets(demo: bool) -> dict[str, tuple[str, str]]:
    """Training set name -> (WORK name, fake methods kept) of the transfer study: a, c and d read the diff
    masks (the paper's rule, for FF++ fakes and blends alike), b its blends' own masks (SBI's protocol)."""
    from pipeline.dataset.layout import BLEND_METHODS

    sets = {
        "a: FF++ fakes": ("transfer", ",".join(METHODS)),
        "b: blends of the FF++ reals (SBI)": ("transfer-blendmask", ",".join(BLEND_METHODS)),
        "c: both": ("transfer", ",".join(METHODS + BLEND_METHODS)),
    }
    if demo:
        sets["d: both + package-face demo"] = ("transfer-demo", ",".join(METHODS + BLEND_METHODS))
    return sets


def chosen(args, name: str) -> bool:
    """Whether --models (letters a-d) keeps transfer set NAME."""
    return not args.models or name.split(":")[0] in args.models.split(",")


def transfer_plan(args, base: Path, runs: Path) -> list[dict]:
    """(set, seed) runs of the transfer study: official splits of the five pairs (3 train, 2 val)."""
    jobs = []
    for seed in [int(x) for x in args.seeds.split(",")]:
        for name, (work, methods) in transfer_sets(bool(args.demo)).items():
            if not chosen(args, name):
                continue
            overrides = {"methods": methods, "seed": seed} | (TINY if args.tiny else {})
            overrides |= {"variant": args.variant} if args.variant else {}
            run = runs / f"{slug(name.split(':')[0])}{'-' + args.variant if args.variant else ''}-s{seed}"
            cfg = run_config(Path(args.config), base / work / "shards", run, overrides, args.epochs)
            model = f"{name} ({args.variant})" if args.variant else name
            jobs.append({"table": "transfer", "model": model, "fold": seed, "cfg": cfg})
    return jobs


def prepare_transfer(args, realdev: Path, out: Path, prep: dict, base: Path) -> Path:
    """OUT/blend, the transfer view and its WORK (official splits), and with --demo the WORK with the demo
    tree too. Returns the view."""
    blend = blend_tree(out, out / "roots" / "ffpp", base / "fold-0")
    view = transfer_view(out, realdev, blend)
    works = {w for name, (w, _) in transfer_sets(False).items() if chosen(args, name)}
    if args.recipe or "transfer" in works:
        refresh(view, base / "transfer", prep)
    if "transfer-blendmask" in works and not args.recipe:
        refresh(blends_view(out, realdev, blend), base / "transfer-blendmask", prep | {"source": "official"})
    if args.demo:
        refresh(view, base / "transfer-demo", prep)
        refresh(Path(args.demo), base / "transfer-demo", prep)
    return view


def recipe(args, realdev: Path, out: Path, prep: dict, base: Path, view: Path) -> dict:
    """`make transfer`: configs/transfer.toml on every pair, the blends (and --demo) into OUT/transfer, then
    lrl-predict on the Celeb-DF and DFD clips: Celeb-DF video AUC, DFD reals' mean score and share > 0.5."""
    from model.training.metrics import score
    from pipeline.store.atomic import write_json

    work = base / "recipe"
    refresh(view, work, prep, all_train_splits(out, view))
    if args.demo:
        refresh(Path(args.demo), work, prep)
    run = out / "transfer"
    overrides = TINY if args.tiny else {}
    cfg = run_config(Path(args.config), work / "shards", run, overrides, args.epochs)
    start = time.perf_counter()
    train_run(cfg, "transfer", inputs_of(cfg, work / "shards"))
    trained = time.perf_counter() - start
    from pipeline.dataset.adapters import scan

    clips = {r.path: r for view in ("celebdf", "dfd") for r in scan(out / "roots" / view).records}
    cmd = [sys.executable, "-c", "import cli; cli.predict()", "--checkpoint", run / "best.pt"]
    cmd += ["--out", run / "predict", "--device", "cpu", *sorted(clips)]
    rc = subprocess.run([str(c) for c in cmd], cwd=REPO, env=child_env()).returncode
    if rc not in (0, 1):
        raise SystemExit(f"lrl-predict: exit {rc}")
    scored = json.loads((run / "predict" / "predictions.json").read_text())["inputs"]
    got = {str(Path(i["path"]).resolve()): i["score"] for i in scored if i.get("score") is not None}
    got = {p: got[str(Path(p).resolve())] for p in clips if str(Path(p).resolve()) in got}
    celeb = [(r.label, got[p]) for p, r in clips.items() if r.dataset == "celebdf" and p in got]
    dfd = [got[p] for p, r in clips.items() if r.dataset == "dfd" and not r.label and p in got]
    labels, scores = zip(*celeb, strict=True) if celeb else ((), ())
    result = {
        "config": str(args.config),
        "train_seconds": round(trained, 1),
        "seconds": round(time.perf_counter() - start, 1),
        "celebdf_video_auc": score(list(labels), list(scores)).auc if celeb else None,
        "celebdf_scored": len(celeb),
        "dfd_real_mean_score": statistics.fmean(dfd) if dfd else None,
        "dfd_real_called_fake": statistics.fmean(x > 0.5 for x in dfd) if dfd else None,
        "dfd_scored": len(dfd),
    }
    write_json(run / "transfer.json", result)
    say(json.dumps(result, indent=1))
    return result


# ------------------------------------------------------------------ tables


def mean_sd(values) -> dict:
    """Mean and sample standard deviation (ddof 1; None with one value) of the values that are not None."""
    xs = [v for v in values if v is not None]
    return {
        "mean": statistics.fmean(xs) if xs else None,
        "sd": statistics.stdev(xs) if len(xs) > 1 else None,
        "n": len(xs),
    }


def cell(m: dict) -> str:
    if m["mean"] is None:
        return "n/a"
    sd = "" if m["sd"] is None else f" ± {m['sd']:.3f}"
    return f"{m['mean']:.3f}{sd} (n={m['n']})"


def summarise(results: list[dict]) -> dict:
    """Per model, mean ± sd over folds of every number of its results."""
    by_model: dict[str, list[dict]] = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    out = {}
    for model, rs in by_model.items():
        test = {
            m: {
                k: mean_sd(r["test"].get(m, {}).get(k) for r in rs)
                for k in ("frame_auc", "frame_acc", "video_auc")
            }
            for m in ("overall",) + METHODS
        }
        cross = {
            d: {k: mean_sd(r["cross"].get(d, {}).get(k) for r in rs) for k in next(iter(rs))["cross"][d]}
            for d in next(iter(rs))["cross"]
        }
        out[model] = {"folds": sorted(r["fold"] for r in rs), "test": test, "cross": cross}
    return out


def markdown(summary: dict, masks: dict, about: dict) -> str:
    lines = [f"# Real forgeries, folds of identity ({about['prep']})", ""]
    if masks:
        lines += ["## Mask area (diff masks of the c40 pairs, share of the crop marked forged)", ""]
        lines += ["| method | samples | mean | median | empty masks |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {m} | {v['samples']} | {v['mean']:.4f} | {v['median']:.4f} | {v['empty']:.3f} |"
            for m, v in masks.items()
        ]
        lines.append("")
    by_threshold = about.get("mask_thresholds") or {}
    if by_threshold:
        ts = list(by_threshold)
        lines += ["## Mask area by threshold (fold 0's WORK, mean share of the crop; empty masks)", ""]
        lines += ["| method | " + " | ".join(f"t = {t}" for t in ts) + " |", "| --- |" + " --- |" * len(ts)]
        for m in sorted({m for v in by_threshold.values() for m in v}):
            got = [by_threshold[t].get(m) for t in ts]
            lines.append(
                f"| {m} | "
                + " | ".join("n/a" if g is None else f"{g['mean']:.4f} ({g['empty']:.2f})" for g in got)
                + " |"
            )
        lines.append("")
    t4 = [v for v in VARIANTS if v in summary]
    if t4:
        lines += ["## Table 4: the five variants, held-out pair (FF++ c40)", ""]
        lines += [
            "| variant | paper ACC | paper AUC | frame ACC | frame AUC | video AUC |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for v in t4:
            o = summary[v]["test"]["overall"]
            acc, auc = PAPER_T4[v]
            paper = f"| {v} | {acc / 100:.4f} | {auc / 100:.4f} |"
            lines.append(
                f"{paper} {cell(o['frame_acc'])} | {cell(o['frame_auc'])} | {cell(o['video_auc'])} |"
            )
        lines.append("")
    rows = [m for m in ("full", *COMPARE) if m in summary]
    if any(m in summary for m in COMPARE):
        lines += ["## LRL against MC-LCR and its ablations (no published numbers: abstract only)", ""]
        lines += ["| model | frame AUC | video AUC |", "| --- | --- | --- |"]
        for m in rows:
            o = summary[m]["test"]["overall"]
            lines.append(
                f"| {'LRL full' if m == 'full' else m} | {cell(o['frame_auc'])} | {cell(o['video_auc'])} |"
            )
        lines.append("")
    if "full" in summary:
        lines += ["## Table 2: per method, full model (each method's fakes against the held-out reals)", ""]
        lines += [
            "| method | paper ACC | frame ACC | frame AUC | video AUC |",
            "| --- | --- | --- | --- | --- |",
        ]
        for m in METHODS:
            t = summary["full"]["test"][m]
            lines.append(
                f"| {m} | {PAPER_T2[m] / 100:.4f} | {cell(t['frame_acc'])} | {cell(t['frame_auc'])} | "
                f"{cell(t['video_auc'])} |"
            )
        lines.append("")
    if any(v["cross"] for v in summary.values()):
        lines += ["## Table 3 mini: Celeb-DF v2 and the DFD reals, never trained on", ""]
        lines += [
            "| model | Celeb-DF frame AUC | Celeb-DF video AUC (paper 0.7826) | DFD reals mean score | "
            "DFD reals called fake |",
            "| --- | --- | --- | --- | --- |",
        ]
        for m in [x for x in summary if summary[x]["cross"]]:
            c = summary[m]["cross"]
            cd, dfd = c.get("celebdf", {}), c.get("dfd", {})
            na = {"mean": None}
            lines.append(
                f"| {m} | {cell(cd.get('frame_auc', na))} | {cell(cd.get('video_auc', na))} | "
                f"{cell(dfd.get('real_mean_score', na))} | {cell(dfd.get('real_called_fake', na))} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_tables(out: Path, results: list[dict], masks: dict, about: dict, name: str = "tables") -> str:
    """OUT/NAME.json (every run, the summary, the papers' numbers) and OUT/NAME.md; the Markdown."""
    from pipeline.store.atomic import write_bytes, write_json

    summary = summarise(results)
    paper = {"table4": PAPER_T4, "table2_acc": PAPER_T2, "table3_auc": PAPER_T3}
    write_json(
        out / f"{name}.json", {**about, "masks": masks, "summary": summary, "runs": results, "paper": paper}
    )
    md = markdown(summary, masks, about)
    write_bytes(out / f"{name}.md", md.encode())
    return md


def rep(job: dict) -> str:
    """What a run repeats: its fold, or its seed in the transfer study (stored in the same field)."""
    return f"{'seed' if job['table'] == 'transfer' else 'fold'} {job['fold']}"


def run_all(jobs: list[dict], cross: Path, write, start: float) -> list[dict]:
    """Run the jobs in order, showing progress, `write(results)` after each."""
    results = []
    for i, job in enumerate(jobs, 1):
        say(
            f"[{i}/{len(jobs)}] {job['table']} {job['model']} {rep(job)} "
            f"({time.perf_counter() - start:.0f} s)"
        )
        results.append(run_one(job, cross))
        o = results[-1]["test"].get("overall", {})
        c = results[-1]["cross"].get("celebdf", {})
        say(
            f"  test frame AUC {o.get('frame_auc')} video AUC {o.get('video_auc')}; Celeb-DF video AUC "
            f"{c.get('video_auc')}; {results[-1]['seconds']} s"
        )
        write(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdev", default=str(REPO.parent / "shared" / "data" / "realdev"))
    parser.add_argument("--out", default="realdev")
    parser.add_argument(
        "--quick", action="store_true", help="plumbing check: fold 0, 1 epoch, 1 model per table"
    )
    parser.add_argument("--frames", default="16", help="frames per video (lrl-prep refresh --frames)")
    parser.add_argument("--size", default="80", help="crop side in pixels")
    parser.add_argument("--threshold", default="0.15", help="diff-mask threshold (the paper: 0.15)")
    parser.add_argument("--folds", default="0,1,2,3,4", help="which folds to run")
    parser.add_argument(
        "--n-folds", type=int, default=5, help="folds of identity (one group of persons each)"
    )
    parser.add_argument("--tiny", action="store_true", help="tests: a small random-init model, 1 batch of 4")
    parser.add_argument("--tables", default="table4,compare", help="table4 (with 2, 3), compare")
    parser.add_argument("--models", help="only these models of the tables (full,rgb) or transfer sets (a,b)")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--config", default=str(REPO / "configs" / "realdev.toml"))
    parser.add_argument("--mask-thresholds", help="e.g. 0.05,0.1: also measure fold 0's mask area at these")
    parser.add_argument("--prepare-only", action="store_true", help="refresh the WORKs, measure masks, stop")
    parser.add_argument(
        "--transfer", action="store_true", help="the transfer study (sets a-c, d with --demo)"
    )
    parser.add_argument("--recipe", action="store_true", help="`make transfer`: train OUT/transfer/best.pt")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the transfer study")
    parser.add_argument("--variant", help="the transfer study's LRL variant (default: the config's, full)")
    parser.add_argument("--demo", help="ROOT of the package-face demo (demo/ffpp): transfer set d, recipe")
    args = parser.parse_args(argv)
    realdev, out = Path(args.realdev), Path(args.out)
    if not realdev.is_dir():
        raise SystemExit(f"{realdev}: no such folder (--realdev / REALDEV: ../shared/data/realdev)")
    if args.demo and not Path(args.demo).is_dir():
        raise SystemExit(f"--demo {args.demo}: no such folder (make demo writes demo/ffpp)")
    folds = [0] if args.quick or args.recipe or args.transfer else [int(k) for k in args.folds.split(",")]
    if any(not 0 <= k < args.n_folds for k in folds):
        raise SystemExit(
            f"--folds {args.folds}: folds are 0 to {args.n_folds - 1} (--n-folds {args.n_folds})"
        )
    args.epochs = 1 if args.quick else args.epochs
    prep = {"frames": args.frames, "size": args.size, "threshold": args.threshold}
    start = time.perf_counter()
    shards, cross = prepare(realdev, out, prep, folds, args.n_folds)
    about = {"prep": ", ".join(f"{k} {v}" for k, v in prep.items()), "quick": args.quick, "folds": folds}
    if args.transfer or args.recipe:
        base = work_base(out, prep)
        view = prepare_transfer(args, realdev, out, prep, base)
        if args.recipe:
            recipe(args, realdev, out, prep, base, view)
            return 0
        works = sorted({w for name, (w, _) in transfer_sets(bool(args.demo)).items() if chosen(args, name)})
        masks = {f"{w}: {m}": v for w in works for m, v in mask_areas(base / w / "shards").items()}
        jobs = transfer_plan(args, base, out / "transfer-runs" / base.name)
        name = f"transfer-tables{'-' + args.variant if args.variant else ''}"
        run_all(jobs, cross, lambda rs: write_tables(out, rs, masks, about, name), start)
        say((out / f"{name}.md").read_text())
        return 0
    if args.mask_thresholds and 0 in folds:
        about["mask_thresholds"] = mask_thresholds(out, prep, args.mask_thresholds.split(","))
    masks = mask_areas(shards[folds[0]])
    say(f"mask area per method: {json.dumps({m: round(v['mean'], 4) for m, v in masks.items()})}")
    if args.prepare_only:
        write_tables(out, [], masks, about)
        return 0
    runs = out / ("quick" if args.quick else "") / "runs" / work_base(out, prep).name  # one per preparation
    run_all(plan(args, shards, runs), cross, lambda rs: write_tables(out, rs, masks, about), start)
    say((out / "tables.md").read_text())
    say(f"wrote {out / 'tables.json'} and {out / 'tables.md'} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
