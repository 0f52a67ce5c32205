"""Command line: `lrl-prep` (dataset preparation stages) and `lrl-train` (training, evaluation).

Heavy modules (torch, MTCNN, h5py, cv2) are imported inside the commands that use them, so
`lrl-prep --help` and a no-op refresh start fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from pipeline.errors import LrlError

PATH = click.Path(path_type=Path)
EXISTING = click.Path(exists=True, path_type=Path)


def friendly(fn):
    """Turn LrlError (and a few OS errors) into a one-line message and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LrlError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)

    return wrapper


def csv_option(name: str, help: str):
    """An option taking comma-separated values (or repeated), returned as a tuple."""

    def split(_ctx, _param, value):
        return tuple(v for item in value for v in item.split(",") if v) or None

    return click.option(name, multiple=True, callback=split, help=help)


filters = [
    csv_option("--methods", "Methods to keep, e.g. youtube,Deepfakes (default all)."),
    csv_option("--qualities", "Qualities to keep: raw,c23,c40 (default all)."),
    csv_option("--splits", "Splits to keep: train,val,test,none (default all)."),
]


def with_filters(fn):
    for option in reversed(filters):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def prep():
    """Prepare a FaceForensics++ tree for LRL: index, extract, masks, shards, refresh."""


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree.")
@click.option("--json", "json_out", type=PATH, help="Write the records and problems to this JSON file.")
@click.option("--dataset", default="ffpp", show_default=True, help="Dataset name used in WORK paths.")
@click.option("--split-dir", type=EXISTING, help="Folder of {train,val,test}.json (default ROOT/splits or the official ones).")
@with_filters
@friendly
def index(root, json_out, dataset, split_dir, methods, qualities, splits):
    """Scan a FaceForensics++ tree: counts per method / quality / split / label, and problems."""
    from pipeline.atomic import write_json
    from pipeline.index import counts_table, scan

    found = scan(root, dataset, split_dir).filter(methods, qualities, splits)
    click.echo(counts_table(found))
    for problem in found.problems:
        click.echo(f"problem: {problem}")
    if json_out:
        write_json(json_out, {
            "records": [r.to_dict() for r in found.records],
            "problems": [{"path": p.path, "reason": p.reason} for p in found.problems],
        })
    if not found.records:
        raise LrlError(f"{root}: no video could be indexed")


@prep.command("demo-data")
@click.option("--out", type=PATH, required=True, help="Folder to write the demo tree into.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--size", type=click.Choice(["tiny", "small"]), default="small", show_default=True)
@friendly
def demo_data(out, seed, size):
    """Write a small synthetic FaceForensics++-shaped tree made from real face photographs."""
    from pipeline.demo import make_demo

    info = make_demo(out, seed=seed, size=size)
    click.echo(info.line())


@prep.command()
@click.option("--work", type=EXISTING, required=True, help="Work directory.")
@friendly
def status(work):
    """Per stage: units done, failed (with reasons), stale and pending."""
    from pipeline.status import status_report

    click.echo(status_report(work))



def config_options(fn):
    """One --option per TrainConfig field (default None: only the flags given override the file)."""
    from dataclasses import fields

    from model.training.config import TrainConfig

    for f in reversed(fields(TrainConfig)):
        if f.name in ("shards", "out"):
            continue
        name = f.name.replace("_", "-")
        if isinstance(f.default, bool):
            fn = click.option(f"--{name}/--no-{name}", f.name, default=None)(fn)
        elif isinstance(f.default, tuple):
            fn = click.option(f"--{name}", f.name, type=int, nargs=len(f.default), default=None,
                              help=f"default: {' '.join(map(str, f.default))}")(fn)
        else:
            kind = type(f.default) if f.default is not None else str
            fn = click.option(f"--{name}", f.name, type=kind, default=None, help=f"default: {f.default}")(fn)
    return fn


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--shards", type=PATH, help="Shards folder (WORK/shards).")
@click.option("--out", type=PATH, help="Run folder: config, log.jsonl, checkpoints, metrics, plots.")
@click.option("--config", "config_file", type=EXISTING, help="YAML or TOML file of options.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--evaluate", "ckpt", type=PATH, help="Evaluate this checkpoint instead of training.")
@click.option("--split", default="test", show_default=True, help="Split to evaluate with --evaluate.")
@config_options
@friendly
def train(shards, out, config_file, resume, ckpt, split, **options):
    """Train the LRL network on HDF5 shards (paper defaults), or --evaluate a checkpoint."""
    from model.training.config import resolve

    if ckpt:
        from model.training.run_eval import evaluate_checkpoint

        click.echo(evaluate_checkpoint(ckpt, split, shards, out))
        return
    options.update(shards=str(shards) if shards else None, out=str(out) if out else None)
    cfg = resolve(config_file, options)
    if not cfg.shards or not cfg.out:
        raise LrlError("--shards and --out are required (on the command line or in --config)")
    from model.training.loop import train as run_training

    run_training(cfg, resume=resume, echo=click.echo)


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree (official mask videos).")
@click.option("--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract`.")
@click.option("--threshold", type=click.FloatRange(0, 1, max_open=True), default=0.15, show_default=True,
              help="Forged where grey(|fake - real|) / 255 > threshold (strictly).")
@click.option("--reference-quality", type=click.Choice(["auto", "raw", "same"]), default="auto",
              show_default=True,
              help="Pair the masks come from: raw crops applied to every quality, or the same quality; "
                   "auto = raw when the raw fake and raw real crops exist.")
@click.option("--source", type=click.Choice(["diff", "official"]), default="diff", show_default=True,
              help="diff: fake vs real crops (the paper); official: FF++ mask videos, warped to the crops.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: all cores).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@with_filters
@friendly
def masks(root, work, threshold, reference_quality, source, jobs, progress, methods, qualities, splits):
    """Masks of every extracted fake (paper 3.3), 0/255 PNGs under WORK/masks; exit 1 if any video failed."""
    from pipeline.masks_stage import MasksParams, Selection, run

    params = MasksParams(threshold, reference_quality, source)
    summary = run(root, work, params, Selection(methods, qualities, splits), jobs=jobs, progress=progress)
    click.echo(summary.line())
    for key, reason in summary.failures:
        click.echo(f"failed: {key}: {reason}")
    if summary.failed:
        sys.exit(1)


@prep.command()
@click.option("--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract` and `masks`.")
@click.option("--alpha", type=click.FloatRange(0, 2, max_open=True), default=0.33, show_default=True,
              help="Frequency cue: zero DCT coefficient (u, v) where u/H + v/W < alpha (paper eq. 2).")
@click.option("--shard-samples", type=click.IntRange(1), default=4096, show_default=True,
              help="Target samples per shard (each video stays whole in one shard).")
@click.option("--compression", default="blosc-lz4", show_default=True,
              help="Compression of rgb and mask: blosc-lz4, lzf or none (freq is stored plain).")
@click.option("--jobs", type=click.IntRange(1), default=2, show_default=True, help="Parallel workers, one shard each.")
@click.option("--verify", is_flag=True, help="Check every shard against index.json instead; exit 1 when any is bad.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@friendly
def shards(work, alpha, shard_samples, compression, jobs, verify, progress):
    """HDF5 shards of crops, frequency cues (paper eq. 1-3), masks and labels; WORK/shards/index.json last."""
    if verify:
        from pipeline.shards_index import verify as verify_shards

        good, bad = verify_shards(work)
        for name, reason in bad:
            click.echo(f"bad: {name}: {reason}")
        click.echo(f"verify: {good} shards ok, {len(bad)} bad")
        sys.exit(1 if bad else 0)
    from pipeline.shards import ShardsParams
    from pipeline.shards_stage import run

    summary = run(work, ShardsParams(alpha, shard_samples, compression), jobs=jobs, progress=progress)
    click.echo(summary.line())
    for key, reason in summary.failures:
        click.echo(f"failed: {key}: {reason}")
    if summary.failed:
        raise LrlError(f"{summary.failed} shard(s) failed; {work / 'shards' / 'index.json'} left as it was")


def frames_option(_ctx, _param, value):
    """--frames: a positive count, or "all" (None)."""
    if value.lower() == "all":
        return None
    if not value.isdigit() or int(value) < 1:
        raise click.BadParameter(f"{value!r} is neither a positive number of frames nor 'all'")
    return int(value)


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree.")
@click.option("--work", type=PATH, required=True, help="Work directory (created when missing).")
@click.option("--frames", default="32", show_default=True, callback=frames_option,
              help="Frames per video, evenly spaced over its length; 'all' keeps every frame.")
@click.option("--size", type=click.IntRange(16), default=299, show_default=True, help="Crop side in pixels.")
@click.option("--align", is_flag=True, help="Align the 5 landmarks to a template (similarity) instead of "
                                            "the FF++ square crop of 1.3x the face box.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: all cores).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where MTCNN runs.")
@click.option("--dataset", default="ffpp", show_default=True, help="Dataset name used in WORK paths.")
@click.option("--split-dir", type=EXISTING, help="Folder of {train,val,test}.json (default ROOT/splits or the official ones).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@with_filters
@friendly
def extract(root, work, frames, size, align, jobs, device, dataset, split_dir, progress, methods, qualities, splits):
    """Face crops (PNG) of every video: MTCNN once per real, shared by its fakes; exit 1 if any video failed."""
    from pipeline.crop import CropParams
    from pipeline.extract import ExtractParams, Scope, run

    params = ExtractParams(frames=frames, crop=CropParams(size=size, align=align))
    scope = Scope(dataset, str(split_dir) if split_dir else None, methods, qualities, splits)
    summary = run(root, work, params, scope, jobs=jobs, device=device, progress=progress)
    click.echo(summary.line())
    for key, reason in summary.failures:
        click.echo(f"failed: {key}: {reason}")
    if summary.failed:
        sys.exit(1)
