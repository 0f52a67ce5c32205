"""A sweep: a grid of training runs, each trained, evaluated and recorded once, aggregated to mean ± sd.

Declare the grid, run it, aggregate it:

    from model.training.config import resolve
    from model.training.sweep import Evaluation, Fold, grid, summarise, sweep, write_tables
    from pipeline.params import read_options_file
    from pipeline.store.reader import SampleFilter

    base = resolve(read_options_file(Path("configs/ablation.toml")), {"shards": "demo/work/shards"})
    runs = grid(base, OUT, rows={v: {"variant": v} for v in VARIANTS}, seeds=(0, 1, 2))
    results = sweep(runs)                              # trains and evaluates what has no result yet
    table = summarise("Table 4", results, {"frame AUC": "test:frame.overall.auc"})
    write_tables([table], OUT / "ablation")            # OUT/ablation.json and OUT/ablation.md

- A row is a name and the flags it changes in `base` (`cfg.replace` names: "variant", "model", "lambda_con",
  "methods", ...); `grid` makes one Run per row x seed (x fold), in OUT/<row>/<rep> (rep: "s0", or
  "<fold>-s0" with folds), and each Run may also be built by hand.
- A training-set filter is a pipeline.store.reader.SampleFilter on a metadata column (video, dataset,
  method, quality, split): `Run.keep` limits the train and val samples. A Fold holds one out: its `train`
  filter becomes the runs' `keep`, its `test` filter the `keep` of every Evaluation on the training shards
  (an identity fold: exclude the held-out pair's videos from training, only them at test):
      folds = [Fold("pair0", SampleFilter(exclude=held), SampleFilter(only=held)) for held in ...]
      runs = grid(base, OUT, rows, seeds=(0,), folds=folds, evaluations=(Evaluation("test", split="train"),))
- Each Run is evaluated by its Evaluations (default: "test", the test split of its training shards;
  `shards` for another shard set, e.g. cross-dataset). The run opens its training shard set once and hands
  it to training and evaluation (pipeline.store.reader.ShardSet).
- Results land in the run's folder: the training run (config.json, log.jsonl, best.pt, ...), one folder
  per evaluation (RUN/<evaluation>/: metrics-*.json, roc-*.png, table-*.json/md) and RUN/result.json, a
  RunResult: the best epoch and its val AUC, per evaluation the report (model.training.evaluate.report:
  frame / video ACC, AUC, EER per method and overall, mask IoU) and the files written.
- Resume: run the same sweep again. A Run whose result.json holds the same spec (config, filter,
  evaluations) is skipped and its recorded result reused; one stopped during training continues from its
  last.pt; one whose spec changed is trained again from scratch. A failed run is reported (RunResult.error,
  no result.json: the next sweep tries it again) and the others go on.
- Progress: one line per run as it starts and ends (skipped, trained in N s, its test AUC, or the error),
  with the run's own epoch lines when `jobs` is 1; `jobs` > 1 runs that many in processes, each with
  cores // jobs torch threads.
- Tables: `summarise` gives per row the mean and sample standard deviation (ddof 1; 0 for one value) of each
  metric over its runs: a metric is "<evaluation>:<key>.<key>..." into the report (e.g.
  "test:video.overall.auc", "test:frame.Deepfakes.auc") or a RunResult field ("val_auc", "seconds").
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from model.training.config import TrainConfig
from pipeline.errors import LrlError
from pipeline.store.atomic import write_bytes, write_json
from pipeline.store.reader import SampleFilter

RESULT = "result.json"  # RUN/result.json: the RunResult of a finished run


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a run's best.pt: `split` of `shards` (None: the run's training shards), only the
    samples `keep` admits and the `datasets` given (None: all); its files in RUN/<name>/."""

    name: str = "test"
    split: str = "test"
    shards: str | None = None
    keep: SampleFilter | None = None
    datasets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Fold:
    """One held-out part: training keeps what `train` admits, evaluations on the training shards what
    `test` admits."""

    name: str
    train: SampleFilter
    test: SampleFilter


@dataclass(frozen=True)
class Run:
    """One training run of the grid: `config` (detector, variant, seed, shards; its run.out is the run's
    folder), the table `row` it counts in and what it repeats (`rep`: "s0", "pair1-s0"), the train and val
    samples it keeps (`keep`; None: all) and its evaluations."""

    row: str
    rep: str
    config: TrainConfig
    keep: SampleFilter | None = None
    evaluations: tuple[Evaluation, ...] = (Evaluation(),)

    @property
    def folder(self) -> Path:
        return Path(self.config.run.out)

    @property
    def name(self) -> str:
        return f"{self.row} {self.rep}"

    def spec(self) -> dict:
        """What the run's result depends on (its result is reused while this is unchanged)."""
        return {
            "config": self.config.to_dict(),
            "keep": self.keep.to_dict() if self.keep else None,
            "evaluations": [_plain(e) for e in self.evaluations],
        }


@dataclass(frozen=True)
class RunResult:
    """A finished (or failed) run: its best epoch by val AUC, per evaluation the report and the files
    written, the seconds it took this time and whether it was reused; `error` (one line) when it failed."""

    row: str
    rep: str
    folder: str
    detector: str = ""
    variant: str = ""
    seed: int = 0
    best_epoch: int | None = None
    val_auc: float | None = None
    reports: dict = field(default_factory=dict)  # evaluation name -> evaluate.report's dict
    files: dict = field(default_factory=dict)  # evaluation name -> [metrics, roc, table json, table md]
    spec: str = ""  # hash of Run.spec()
    seconds: float = 0.0
    reused: bool = False
    error: str | None = None

    def metric(self, path: str) -> float | None:
        """ "<evaluation>:<key>.<key>..." into a report (None when absent), or a field's name."""
        if ":" not in path:
            return getattr(self, path)
        name, _, keys = path.partition(":")
        value = self.reports.get(name)
        for key in keys.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value


def grid(
    base: TrainConfig,
    out: Path,
    rows: dict[str, dict],
    seeds=(0,),
    folds: list[Fold] | tuple[Fold, ...] = (),
    evaluations: tuple[Evaluation, ...] = (Evaluation(),),
) -> list[Run]:
    """One Run per row x fold x seed (rows outermost), each `base` with the row's flags, the seed and its
    folder OUT/<row>/<rep> (slugs of the names); with folds, a fold's test filter goes to every evaluation
    on the training shards that has none of its own."""
    runs = []
    for row, flags in rows.items():
        for fold in folds or (None,):
            for seed in seeds:
                rep = f"{fold.name}-s{seed}" if fold else f"s{seed}"
                folder = Path(out) / slug(row) / slug(rep)
                cfg = base.replace(**flags, seed=seed, out=str(folder))
                tests = tuple(
                    replace(e, keep=fold.test) if fold and e.shards is None and e.keep is None else e
                    for e in evaluations
                )
                runs.append(Run(row, rep, cfg, fold.train if fold else None, tests))
    return runs


def slug(name: str) -> str:
    """A folder name for a row or rep: spaces to _, slashes to -."""
    return name.replace(" ", "_").replace("/", "-")


def sweep(runs: list[Run], jobs: int = 1, echo=print) -> list[RunResult]:
    """Train and evaluate every run that has no result yet (module docstring), `jobs` at a time; the
    results in the order of `runs` (failed ones with `error` set). LrlError when two runs share a folder."""
    folders = [r.folder.resolve() for r in runs]
    twice = sorted({str(f) for f in folders if folders.count(f) > 1})
    if twice:
        raise LrlError(f"sweep: runs share a folder: {', '.join(twice)}")
    total, results = len(runs), {}
    if jobs <= 1:
        for i, run in enumerate(runs, 1):
            echo(f"[{i}/{total}] {run.name}: starting")
            results[i] = run_one(run, lambda line, n=run.name: echo(f"  {n}: {line}"))
            echo(f"[{i}/{total}] {progress_line(results[i])}")
        return [results[i] for i in sorted(results)]
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(jobs, initializer=_set_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(run_one, run): i for i, run in enumerate(runs, 1)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            echo(f"[{done}/{total}] {progress_line(results[futures[future]])}")
    return [results[i] for i in sorted(results)]


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def progress_line(r: RunResult) -> str:
    if r.error:
        return f"{r.row} {r.rep}: FAILED: {r.error}"
    first = next(iter(r.reports), None)
    auc = r.metric(f"{first}:frame.overall.auc") if first else None
    score = f" | {first} frame AUC {auc:.4f}" if isinstance(auc, float) else ""
    how = "reused (result exists)" if r.reused else f"trained in {r.seconds:.0f} s"
    return f"{r.row} {r.rep}: {how}, best epoch {r.best_epoch}{score}"


def run_one(run: Run, echo=lambda line: None) -> RunResult:
    """One run: its recorded result when the spec is unchanged, else trained (resumed from last.pt when its
    folder holds the same spec unfinished), evaluated and recorded in RUN/result.json."""
    spec = _digest(run.spec())
    recorded = _recorded(run.folder)
    if recorded is not None and recorded.spec == spec:
        return replace(recorded, reused=True, seconds=0.0)
    start = time.perf_counter()
    try:
        result = _train_and_evaluate(run, spec, echo)
    except LrlError as exc:
        return RunResult(run.row, run.rep, str(run.folder), spec=spec, error=str(exc))
    result = replace(result, seconds=round(time.perf_counter() - start, 1))
    write_json(run.folder / RESULT, asdict(result))
    return result


def _train_and_evaluate(run: Run, spec: str, echo) -> RunResult:
    from model.training.loop import train
    from model.training.run_eval import EvalOptions, evaluate_checkpoint
    from pipeline.store.reader import ShardSet

    cfg, folder = run.config, run.folder
    opened = ShardSet(cfg.data.shards)  # the one open of this run's shard set
    started = folder / "sweep-spec.txt"
    resume = (folder / "last.pt").is_file() and started.is_file() and started.read_text() == spec
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULT).unlink(missing_ok=True)
    write_bytes(started, spec.encode())
    history = train(cfg, resume=resume, echo=echo, overwrite=not resume, shards=opened, keep=run.keep)
    reports, files = {}, {}
    for e in run.evaluations:
        opts = EvalOptions(
            split=e.split,
            shards=(Path(e.shards),) if e.shards else (),
            out=folder / slug(e.name),
            keep=e.keep,
            datasets=e.datasets,
            include_interpolated=cfg.data.include_interpolated,
        )
        result = evaluate_checkpoint(folder / "best.pt", opts, opened=[opened])
        reports[e.name] = result.sets[0].report if result.sets else {}
        paths = [p for s in result.sets for p in (s.metrics, s.roc) if p]
        files[e.name] = [str(p) for p in paths + [result.table_json, result.table_md]]
    best = max(history, key=lambda h: h.get("val_auc", float("-inf"))) if history else {}
    return RunResult(
        run.row,
        run.rep,
        str(folder),
        cfg.detector,
        getattr(cfg.model, "variant", ""),
        cfg.run.seed,
        best.get("epoch"),
        best.get("val_auc"),
        reports,
        files,
        spec,
    )


def _recorded(folder: Path) -> RunResult | None:
    """RUN/result.json as a RunResult, or None when there is none (or it is unreadable: run again)."""
    try:
        return RunResult(**json.loads((folder / RESULT).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _plain(value) -> dict:
    return json.loads(json.dumps(asdict(value), default=str))


def _digest(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation (ddof 1; 0.0 for one value) of the values present; None when
    none is."""

    mean: float | None
    sd: float
    n: int
    values: tuple[float, ...]

    @classmethod
    def of(cls, values) -> "Stat":
        got = tuple(float(v) for v in values if v is not None)
        mean = statistics.fmean(got) if got else None
        return cls(mean, statistics.stdev(got) if len(got) > 1 else 0.0, len(got), got)

    def cell(self, digits: int = 3) -> str:
        return "n/a" if self.mean is None else f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"


@dataclass(frozen=True)
class Table:
    """Rows (in first-seen order) x metrics (by label), each cell a Stat over the row's runs."""

    title: str
    metrics: dict[str, str]  # column label -> metric path (RunResult.metric)
    rows: dict[str, dict[str, Stat]]
    runs: dict[str, int]  # row -> number of runs

    def markdown(self, extra: dict[str, list[str]] | None = None) -> str:
        """A Markdown table: row, each metric's mean ± sd, runs; `extra`: column label -> one cell per row
        (in row order), appended after `row` (e.g. the paper's numbers)."""
        extra = extra or {}
        heads = ["row", *extra, *self.metrics, "runs"]
        lines = ["| " + " | ".join(heads) + " |", "| " + " | ".join("---" for _ in heads) + " |"]
        for i, (row, stats) in enumerate(self.rows.items()):
            cells = [row, *(col[i] for col in extra.values()), *(stats[m].cell() for m in self.metrics)]
            lines.append("| " + " | ".join(cells + [str(self.runs[row])]) + " |")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Lists keep the order (the JSON files sort keys): columns [[label, path]], rows [{"row", "runs",
        "cells": {label: Stat}}]."""
        return {
            "title": self.title,
            "columns": [list(c) for c in self.metrics.items()],
            "rows": [
                {"row": row, "runs": self.runs[row], "cells": {m: asdict(s) for m, s in stats.items()}}
                for row, stats in self.rows.items()
            ],
        }


def summarise(title: str, results: list[RunResult], metrics: dict[str, str]) -> Table:
    """The table of `results` (failed ones left out): per row, per metric (label -> path) a Stat."""
    ok = [r for r in results if not r.error]
    rows = {row: [r for r in ok if r.row == row] for row in dict.fromkeys(r.row for r in ok)}
    stats = {
        row: {m: Stat.of(r.metric(p) for r in mine) for m, p in metrics.items()} for row, mine in rows.items()
    }
    return Table(title, dict(metrics), stats, {row: len(mine) for row, mine in rows.items()})


def write_tables(tables: list[Table], stem: Path, results: list[RunResult] = (), markdown=None) -> list[Path]:
    """STEM.json (every table and run result) and STEM.md (one section per table: `markdown(table)` or
    Table.markdown()); the paths written."""
    stem = Path(stem)
    write_json(
        stem.with_suffix(".json"),
        {"tables": [t.to_dict() for t in tables], "runs": [asdict(r) for r in results]},
    )
    text = "\n\n".join(f"## {t.title}\n\n{markdown(t) if markdown else t.markdown()}" for t in tables)
    write_bytes(stem.with_suffix(".md"), (text + "\n").encode())
    return [stem.with_suffix(".json"), stem.with_suffix(".md")]
