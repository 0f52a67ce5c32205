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
