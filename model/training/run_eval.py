"""`lrl-train --evaluate CKPT [--shards A --shards B ...] [--datasets a,b] --split SPLIT [--figures]`.

One checkpoint on one or several shard sets (several WORKs: the paper's Table 3 trains on FF++ and tests
on Celeb-DF, DFDC and DFD). Per shard set: the summary line, `metrics-<ckpt>-<split>-<hash>.json` and
`roc-...png` beside the checkpoint (hash: a short hash of its index, so no evaluation overwrites another
shard set's; `-<datasets>` added when --datasets kept only some). Then Table 3's layout, one row per
dataset of every shard set (model.training.table), printed aligned and written as
`table-<ckpt>-<split>-<hash>.json` (checkpoint, shard sets, rows) and `.md` (hash of the evaluated
shard sets and datasets).

Every shard set is checked against the checkpoint's preprocessing before any is evaluated, and a
difference is refused with a one-line reason naming the shard set unless `force`. What is compared, and
when it matters, is the one rule of pipeline.store.preprocessing.Preprocessing.differences: crop size and
alpha always; the mask settings only where mask IoU is measured (a detector that shows a mask, and fakes
whose mask is known in the evaluated samples); freq_std is a statistic of the data, only noted (the
checkpoint's own freq_std always normalises the input); schema version and extract settings never.
The metrics and table files name the detector and its variant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from model.detector import MASK, SIMILARITY
from model.training import checkpoint, table
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict, report, save_report, summary_line
from pipeline.errors import LrlError
from pipeline.store.atomic import write_bytes, write_json
from pipeline.store.index import digest, preprocessing
from pipeline.store.preprocessing import ALWAYS, MASK_IOU, NOTE, Preprocessing
from pipeline.store.reader import SampleFilter, ShardDataset, ShardSet


def mismatches(trained: Preprocessing, given: Preprocessing, masks_matter: bool = True) -> list[str]:
    """The differences of `given` from `trained` that refuse an evaluation: those that matter ALWAYS, and
    the mask settings (MASK_IOU) when `masks_matter` (Preprocessing.differences)."""
    refused = (ALWAYS, MASK_IOU) if masks_matter else (ALWAYS,)
    return [d.text for d in given.differences(trained) if d.when in refused]


def freq_std_note(source: Path, given: Preprocessing, trained: Preprocessing) -> str | None:
    """A line when a shard set's freq_std is more than the tolerance away from the checkpoint's (the NOTE
    difference of Preprocessing.differences)."""
    if not any(d.when == NOTE for d in given.differences(trained)):
        return None
    std, used = given.freq_std, trained.freq_std
    return (
        f"note: {source}: freq_std {std:.4g}, {100 * (std / used - 1):+.1f}% from the checkpoint's "
        f"{used:.4g}, which normalises the frequency input (a statistic of this data, not a setting)"
    )


@dataclass(frozen=True)
class EvalOptions:
    """What `lrl-train --evaluate` (and --perturb) evaluates: one split of each shard set in `shards`
    (none: the checkpoint's training shards), only the `datasets` given (None: all) and the samples `keep`
    admits (a SampleFilter; None: all), frames with an interpolated face box only with
    `include_interpolated`; files in `out` (None: beside the checkpoint); `figures`: Fig. 3 and 4; `force`:
    evaluate shards preprocessed unlike the checkpoint's."""

    split: str = "test"
    shards: tuple[Path, ...] = ()
    out: Path | None = None
    figures: bool = False
    force: bool = False
    include_interpolated: bool = False
    datasets: tuple[str, ...] | None = None
    keep: SampleFilter | None = None


@dataclass
class CheckedSet:
    """One shard set to evaluate: its samples (after the filters) and what the check found."""

    source: Path
    index: dict
    settings: Preprocessing
    forced: list[str]  # the differences evaluated anyway (--force); open_set refuses them otherwise
    samples: ShardDataset
    tag: str  # "" or "-<datasets>" when --datasets kept only some

    @property
    def name(self) -> str:
        return f"{digest(self.index)}{self.tag}"


@dataclass(frozen=True)
class SetResult:
    """One evaluated shard set: its report (model.training.evaluate.report: frame / video / mask_iou) and the
    files written: metrics JSON, ROC PNG (None when one class makes it undefined)."""

    source: Path
    index: str  # digest of its index.json
    report: dict
    metrics: Path
    roc: Path | None


@dataclass(frozen=True)
class EvalResult:
    """What evaluate_checkpoint measured and wrote: per shard set its SetResult, Table 3's rows
    (model.training.table) and the table files; `lines` are what it prints (str(result))."""

    sets: list[SetResult]
    rows: list[dict]
    table_json: Path
    table_md: Path
    lines: list[str]

    def __str__(self) -> str:
        return "\n".join(self.lines)


def open_set(
    source, cfg: TrainConfig, trained: Preprocessing, shows: frozenset[str], opts: EvalOptions, ckpt_name: str
) -> CheckedSet:
    """Read one shard set's metadata (`source`: a path, or a reader.ShardSet already open) and check its
    preprocessing against `trained` (mask settings when the detector `shows` a mask); LrlError naming it
    when refused."""
    opened = source if isinstance(source, ShardSet) else ShardSet(source)
    samples = ShardDataset(
        opened,
        opts.split,
        interpolated=opts.include_interpolated,
        qualities=cfg.data.quality_list,
        datasets=opts.datasets,
        keep=opts.keep,
    )
    known_fakes = (samples.labels == 1) & (samples.meta["mask_known"] != 0)
    given = preprocessing(opened.index)
    differ = mismatches(trained, given, masks_matter=MASK in shows and bool(known_fakes.any()))
    if differ and not opts.force:
        raise LrlError(
            f"{opened.source}: shards unlike {ckpt_name}'s: {'; '.join(differ)} (--force evaluates anyway)"
        )
    present = sorted(set(samples.meta["dataset"].tolist()))
    tag = f"-{'+'.join(present)}" if opts.datasets else ""
    return CheckedSet(opened.source, opened.index, given, differ, samples, tag)


def evaluate_checkpoint(ckpt: Path, opts: EvalOptions = EvalOptions(), opened=()) -> EvalResult:
    """Evaluate a checkpoint as `opts` says (EvalOptions). `opened`: reader.ShardSets already open, used for
    the shard sets they are (a training run hands its own over: one open per run). The result's lines:
    per shard set the summary line and one line per file written (with `figures`, one shard set only: one
    line per note and one naming the figures written, model.training.figures), then the table and the
    files it was written to.

    Nothing is written until every shard set is predicted (a network that cannot run on one leaves no
    files of the others). Raises LrlError, before evaluating anything, when a shard set is given twice, is
    preprocessed unlike the checkpoint's (unless `force`) or holds no sample of the split, or when a dataset
    of `datasets` is in none of them."""
    state = checkpoint.load(ckpt)
    net, cfg, trained = checkpoint.from_state(state)
    split, datasets = opts.split, opts.datasets
    sources = [Path(s) for s in opts.shards] or [Path(cfg.data.shards)]
    twice = sorted({str(s) for s in sources if [t.resolve() for t in sources].count(s.resolve()) > 1})
    if twice:
        raise LrlError(f"--shards {', '.join(twice)}: given twice (each shard set once)")
    if opts.figures and not {MASK, SIMILARITY} & net.shows:
        raise LrlError(
            f"{ckpt}: --figures draws LRL's Fig. 3 and 4 (masks, s_hat); a {cfg.detector} model has neither"
        )
    if opts.figures and len(sources) > 1:
        raise LrlError("--figures draws from one shard set: give one --shards")
    ready = {s.source.resolve(): s for s in opened}
    lines, sets = [], []
    for source in sources:
        shard_set = open_set(
            ready.get(source.resolve(), source), cfg, trained, net.shows, opts, Path(ckpt).name
        )
        if len(shard_set.samples) == 0 and datasets:
            lines.append(f"{source}: no {', '.join(datasets)} samples in split {split!r}: not evaluated")
        elif len(shard_set.samples) == 0:
            raise LrlError(f"{source}: no samples in split {split!r}")
        else:
            sets.append(shard_set)
    found = {name for s in sets for name in s.samples.meta["dataset"].tolist()}
    missing = sorted(set(datasets or ()) - found)
    if missing:
        raise LrlError(
            f"--datasets {', '.join(missing)}: no such samples in split {split!r} of "
            f"{', '.join(map(str, sources))}"
        )
    folder = Path(opts.out or Path(ckpt).parent)
    about = {
        "path": str(Path(ckpt).resolve()),
        "epoch": state.get("epoch"),
        "trained_on": trained.to_dict() if trained.recorded else None,
        "freq_std": trained.freq_std,
        "detector": cfg.detector,
        "variant": cfg.model.variant,
    }
    rows, listed, results = [], [], []
    predicted = [
        _predict_set(s, net, cfg, trained.freq_std, opts.figures) for s in sets
    ]  # all before any file is written
    for s, (pred, collect) in zip(sets, predicted, strict=True):
        label = split if len(sources) == 1 else f"{s.source} {split}"
        set_lines, set_rows, result = _write_set(
            s, pred, collect, cfg, label, folder, {**about, "stem": Path(ckpt).stem, "split": split}
        )
        lines += set_lines
        rows += set_rows
        results.append(result)
        used = trained if trained.freq_std else Preprocessing(freq_std=s.samples.freq_std)
        note = freq_std_note(s.source, s.settings, used)
        lines += [note] if note else []
        listed.append(
            {
                "path": str(s.source.resolve()),
                "index": digest(s.index),
                "settings": s.settings.to_dict(),
                "forced": s.forced,
                "freq_std_note": note,
            }
        )
    kept = [opts.keep.to_dict()] if opts.keep else []  # a filter names its own table
    key = json.dumps([[s.name for s in sets], split, opts.include_interpolated, *kept])
    name = f"table-{Path(ckpt).stem}-{split}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    write_json(
        folder / f"{name}.json",
        {
            "checkpoint": about,
            "split": split,
            "datasets": list(datasets or []),
            "include_interpolated": opts.include_interpolated,
            "sample_filter": opts.keep.to_dict() if opts.keep else None,
            "shard_sets": listed,
            "columns": list(table.HEADINGS),
            "rows": rows,
        },
    )
    write_bytes(folder / f"{name}.md", table.markdown(rows).encode())
    json_path, md_path = folder / f"{name}.json", folder / f"{name}.md"
    lines += table.text(rows) + [f"table: {json_path}", f"table: {md_path}"]
    return EvalResult(results, rows, json_path, md_path, lines)


def _predict_set(s: CheckedSet, net, cfg: TrainConfig, freq_std: float | None, figures: bool):
    """(predictions, the Fig. 3 / 4 collector or None) of one shard set; writes nothing."""
    samples = LRLSamples(s.samples, freq_std=freq_std)
    collect = None
    if figures:
        from model.training.figures import SimilarityFigures

        collect = SimilarityFigures(samples.shards, cfg.model.k)
    device = next(net.parameters()).device
    bf16 = cfg.run.bf16 and device.type == "cuda"
    return predict(
        net, samples, device, cfg.data.batch_size, cfg.data.workers, bf16, on_batch=collect
    ), collect


def _write_set(
    s: CheckedSet, pred, collect, cfg: TrainConfig, label: str, folder: Path, about: dict
) -> tuple[list[str], list[dict], SetResult]:
    """Write one predicted shard set's files: (its lines: summary, files, figures; its table rows; its
    SetResult). `about`: the checkpoint's path, epoch and trained_on, and the stem and split naming the
    files."""
    split = about["split"]
    rep = report(pred)
    header = {
        "checkpoint": {k: about[k] for k in ("path", "epoch", "trained_on", "detector", "variant")},
        "shards": {
            "path": str(s.source.resolve()),
            "index": digest(s.index),
            "split": split,
            "settings": s.settings.to_dict(),
        },
        "forced": s.forced,
    }
    name = f"{about['stem']}-{split}-{s.name}"
    metrics_path, roc_path, why = save_report(folder, name, pred, {**header, **rep})
    lines = [summary_line(label, rep), f"metrics: {metrics_path}"]
    lines.append(f"roc: not written: {why}" if why else f"roc: {roc_path}")
    if collect is not None:
        panels, notes = collect.draw(folder, split, cfg.model.variant)
        lines += [f"figures: {note}" for note in notes]
        lines.append(f"figures: {len(panels)} PNGs in {folder}: {', '.join(p.name for p in panels)}")
    result = SetResult(s.source, digest(s.index), rep, metrics_path, None if why else roc_path)
    return lines, table.dataset_rows(pred, str(s.source)), result
