"""Command line: `lrl-prep` (dataset preparation stages) and `lrl-train` (training, evaluation).

Heavy modules (torch, MTCNN, h5py, cv2) are imported inside the commands that use them, so
`lrl-prep --help` and a no-op refresh start fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from pipeline.errors import LrlError

PATH = click.Path(path_type=Path)
EXISTING = click.Path(exists=True, path_type=Path)
CONTEXT = {"help_option_names": ["-h", "--help"]}


def friendly(fn):
    """Turn LrlError (and OS errors) into a one-line message and exit code 2 (75 when WORK is locked)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from pipeline.lock import LOCKED_EXIT, WorkLocked

        try:
            return fn(*args, **kwargs)
        except WorkLocked as exc:
            click.echo(f"locked: {exc}", err=True)
            sys.exit(LOCKED_EXIT)
        except LrlError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)

    return wrapper


def options(*decorators):
    """Apply a group of click options in the order listed."""

    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def csv_option(name: str, help: str):
    """An option taking comma-separated values (or repeated), returned as a tuple."""

    def split(_ctx, _param, value):
        return tuple(v for item in value for v in item.split(",") if v) or None

    return click.option(name, multiple=True, callback=split, help=help)


def frames_option(_ctx, _param, value):
    """--frames: a positive count, or "all" (None)."""
    if str(value).lower() == "all":
        return None
    if not str(value).isdigit() or int(value) < 1:
        raise click.BadParameter(f"{value!r} is neither a positive number of frames nor 'all'")
    return int(value)


FILTERS = options(
    csv_option("--methods", "Methods to keep, e.g. youtube,Deepfakes (default all)."),
    csv_option("--qualities", "Qualities to keep: raw,c23,c40 (default all)."),
    csv_option("--splits", "Splits to keep: train,val,test,none (default all)."),
)
SCOPE = options(
    click.option("--dataset", default="ffpp", show_default=True, help="Dataset name used in WORK paths."),
    click.option("--split-dir", type=EXISTING,
                 help="Folder of {train,val,test}.json (default ROOT/splits or the official ones)."),
)
RUN = options(
    click.option("--jobs", type=click.IntRange(1), default=None, help="Parallel workers (default: all cores)."),
    click.option("--backend", type=click.Choice(["loky", "dask", "ray"]), default="loky", show_default=True,
                 help="Where workers run: local processes, a Dask cluster or a Ray cluster."),
    click.option("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)."),
    click.option("--ray-address", default=None, help="Ray cluster address (default: a local instance)."),
    click.option("--progress/--no-progress", default=True, help="Show a progress bar."),
)
EXTRACT = options(
    click.option("--frames", default="32", show_default=True, callback=frames_option,
                 help="Frames per video, evenly spaced over its length; 'all' keeps every frame."),
    click.option("--size", type=click.IntRange(16), default=299, show_default=True, help="Crop side in pixels."),
    click.option("--align", is_flag=True, help="Align the 5 landmarks to a template (similarity) instead of "
                                               "the FF++ square crop of 1.3x the face box."),
    click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                 help="Where MTCNN runs."),
)
MASKS = options(
    click.option("--threshold", type=click.FloatRange(0, 1, max_open=True), default=0.15, show_default=True,
                 help="Forged where grey(|fake - real|) / 255 > threshold (strictly)."),
    click.option("--reference-quality", type=click.Choice(["auto", "raw", "same"]), default="auto",
                 show_default=True, help="Pair the masks come from: raw crops applied to every quality, or the "
                                         "same quality; auto = raw when the raw fake and raw real crops exist."),
    click.option("--source", type=click.Choice(["diff", "official"]), default="diff", show_default=True,
                 help="diff: fake vs real crops (the paper); official: FF++ mask videos, warped to the crops."),
)
SHARDS = options(
    click.option("--alpha", type=click.FloatRange(0, 2, max_open=True), default=0.33, show_default=True,
                 help="Frequency cue: zero DCT coefficient (u, v) where u/H + v/W < alpha (paper eq. 2)."),
    click.option("--shard-samples", type=click.IntRange(1), default=4096, show_default=True,
                 help="Target samples per shard (each video stays whole in one shard)."),
    click.option("--compression", type=click.Choice(["blosc-lz4", "lzf", "none"]), default="blosc-lz4",
                 show_default=True, help="Compression of rgb and mask (freq is stored plain)."),
)


def backend_of(kw: dict):
    from pipeline.backends import Backend

    address = kw["scheduler"] if kw["backend"] == "dask" else kw["ray_address"]
    return Backend(kw["backend"], address, kw["jobs"] or 2)


def extract_params(kw: dict):
    from pipeline.crop import CropParams
    from pipeline.extract import ExtractParams

    return ExtractParams(frames=kw["frames"], crop=CropParams(size=kw["size"], align=kw["align"]))


def masks_params(kw: dict):
    from pipeline.masks_stage import MasksParams

    return MasksParams(kw["threshold"], kw["reference_quality"], kw["source"])


def shards_params(kw: dict):
    from pipeline.shards import ShardsParams

    return ShardsParams(kw["alpha"], kw["shard_samples"], kw["compression"])


def report(summary) -> None:
    """The summary line, one line per failure, exit 1 when any unit failed."""
    click.echo(summary.line())
    for key, reason in summary.failures:
        click.echo(f"failed: {key}: {reason}")
    if summary.failed:
        sys.exit(1)


@click.group(context_settings=CONTEXT)
def prep():
    """Prepare a FaceForensics++ tree for LRL: index, extract, masks, shards, refresh."""


@prep.command("demo-data")
@click.option("--out", type=PATH, required=True, help="Folder to write the demo tree into.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--size", type=click.Choice(["tiny", "small"]), default="small", show_default=True)
@friendly
def demo_data(out, seed, size):
    """Write a small synthetic FaceForensics++-shaped tree made from real face photographs."""
    from pipeline.demo import make_demo

    click.echo(make_demo(out, seed=seed, size=size).line())


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree.")
@click.option("--json", "json_out", type=PATH, help="Write the records and problems to this JSON file.")
@SCOPE
@FILTERS
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


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree.")
@click.option("--work", type=PATH, required=True, help="Work directory (created when missing).")
@EXTRACT
@SCOPE
@FILTERS
@RUN
@friendly
def extract(root, work, **kw):
    """Face crops (PNG) of every video: MTCNN once per real, shared by its fakes; exit 1 if any video failed."""
    from pipeline.extract import Scope, run

    split_dir = str(kw["split_dir"]) if kw["split_dir"] else None
    scope = Scope(kw["dataset"], split_dir, kw["methods"], kw["qualities"], kw["splits"])
    report(run(root, work, extract_params(kw), scope, jobs=kw["jobs"], device=kw["device"],
               progress=kw["progress"], backend=backend_of(kw)))


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree (official mask videos).")
@click.option("--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract`.")
@MASKS
@FILTERS
@RUN
@friendly
def masks(root, work, **kw):
    """Masks of every extracted fake (paper 3.3), 0/255 PNGs under WORK/masks; exit 1 if any video failed."""
    from pipeline.masks_stage import Selection, run

    selection = Selection(kw["methods"], kw["qualities"], kw["splits"])
    report(run(root, work, masks_params(kw), selection, jobs=kw["jobs"], progress=kw["progress"],
               backend=backend_of(kw)))


@prep.command()
@click.option("--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract` and `masks`.")
@SHARDS
@click.option("--verify", is_flag=True, help="Check every shard against index.json instead; exit 1 when any is bad.")
@RUN
@friendly
def shards(work, verify, **kw):
    """HDF5 shards of crops, frequency cues, masks and labels (index.json written last)."""
    if verify:
        from pipeline.shards_index import verify as verify_shards

        good, bad = verify_shards(work)
        for name, reason in bad:
            click.echo(f"bad: {name}: {reason}")
        click.echo(f"verify: {good} shards ok, {len(bad)} bad")
        sys.exit(1 if bad else 0)
    from pipeline.shards_stage import run

    summary = run(work, shards_params(kw), jobs=kw["jobs"] or 2, progress=kw["progress"], backend=backend_of(kw))
    click.echo(summary.line())
    for key, reason in summary.failures:
        click.echo(f"failed: {key}: {reason}")
    if summary.failed:
        raise LrlError(f"{summary.failed} shard(s) failed; {work / 'shards' / 'index.json'} left as it was")


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree.")
@click.option("--work", type=PATH, required=True, help="Work directory (created when missing).")
@click.option("--config", "config_file", type=EXISTING, help="YAML or TOML file of these options (flags win).")
@EXTRACT
@MASKS
@SHARDS
@SCOPE
@RUN
@click.pass_context
@friendly
def refresh(ctx, root, work, config_file, **kw):
    """Bring extract, masks and shards up to date with ROOT (for cron): exit 0 up to date, 1 failures,
    2 error, 75 WORK locked by another run."""
    from pipeline.extract import Scope
    from pipeline.refresh import RefreshConfig
    from pipeline.refresh import refresh as run_refresh

    kw = with_config_file(ctx, config_file, kw)
    split_dir = str(kw["split_dir"]) if kw["split_dir"] else None
    cfg = RefreshConfig(extract_params(kw), masks_params(kw), shards_params(kw), Scope(kw["dataset"], split_dir),
                        kw["jobs"], kw["device"], backend_of(kw))
    result = run_refresh(root, work, cfg, progress=kw["progress"])
    click.echo(result.line())
    for summary in result.summaries:
        for key, reason in summary.failures:
            click.echo(f"failed: {summary.stage}: {key}: {reason}")
    click.echo(f"log: {result.log}")
    if result.failed:
        sys.exit(1)


def with_config_file(ctx, config_file, kw: dict) -> dict:
    """Values from the config file for every option not given on the command line."""
    if not config_file:
        return kw
    from model.training.config import read_config_file

    values = read_config_file(config_file)
    unknown = sorted(set(values) - set(kw))
    if unknown:
        raise LrlError(f"{config_file}: unknown options {', '.join(unknown)}")
    merged = dict(kw)
    for name, value in values.items():
        if ctx.get_parameter_source(name) == ParameterSource.DEFAULT:
            param = next(p for p in ctx.command.params if p.name == name)
            merged[name] = param.process_value(ctx, value)
    return merged


@prep.command()
@click.option("--work", type=EXISTING, required=True, help="Work directory.")
@friendly
def status(work):
    """Per stage: units done, failed (with reasons), stale and pending."""
    from pipeline.status import status_report

    click.echo(status_report(work))


def train_options(fn):
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


@click.command(context_settings=CONTEXT)
@click.option("--shards", type=PATH, help="Shards folder (WORK/shards).")
@click.option("--out", type=PATH, help="Run folder: config, log.jsonl, checkpoints, metrics, plots.")
@click.option("--config", "config_file", type=EXISTING, help="YAML or TOML file of options (flags win).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--evaluate", "ckpt", type=PATH, help="Evaluate this checkpoint instead of training.")
@click.option("--split", default="test", show_default=True, help="Split to evaluate with --evaluate.")
@train_options
@friendly
def train(shards, out, config_file, resume, ckpt, split, **overrides):
    """Train the LRL network on HDF5 shards (paper defaults), or --evaluate a checkpoint."""
    if ckpt:
        from model.training.run_eval import evaluate_checkpoint

        click.echo(evaluate_checkpoint(ckpt, split, shards, out))
        return
    from model.training.config import resolve
    from model.training.loop import train as run_training

    overrides.update(shards=str(shards) if shards else None, out=str(out) if out else None)
    cfg = resolve(config_file, overrides)
    if not cfg.shards or not cfg.out:
        raise LrlError("--shards and --out are required (on the command line or in --config)")
    run_training(cfg, resume=resume, echo=click.echo)
