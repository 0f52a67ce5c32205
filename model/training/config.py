"""Training configuration: the paper's defaults (section 4.1), overridable from a YAML/TOML file and flags.

TrainConfig is nested: `model` (the detector's own config, model.config.ModelConfig or
model.mclcr.config.MCLCRConfig, chosen by --model through model.DETECTORS), `optim`, `data` and `run`.
lrl-train's flags are the documented fields of all four, flat (`flag_fields`, in that order; MC-LCR's
`variant` is --mclcr-variant, the fields both detectors share are one flag). Files and flags are flat
(`from_flat`); RUN/config.json is nested (`to_dict`); `from_dict` reads both, so config.json files
written before the nesting still load.
"""

from __future__ import annotations

from dataclasses import Field, asdict, dataclass, fields, make_dataclass
from dataclasses import replace as dc_replace
from pathlib import Path

from pipeline.errors import LrlError
from pipeline.options import opt, split_csv
from pipeline.store.records import ORIG as ONE_QUALITY  # the quality of a dataset distributed at one quality

MODEL_FLAG = "model"  # the flag choosing the detector (model.DETECTORS)
CSV_FIELDS = ("qualities", "datasets", "methods")  # comma-separated lists (pipeline.options.split_csv)


@dataclass(frozen=True)
class OptimConfig:
    """Adam and its step schedule (section 4.1)."""

    lr: float = opt(2e-4, "Adam learning rate (section 4.1).")
    classifier_lr_scale: float = opt(1.0, "The classifier's learning rate is lr times this (the paper: 1).")
    beta1: float = opt(0.9, "Adam beta1.")
    beta2: float = opt(0.999, "Adam beta2.")
    weight_decay: float = opt(1e-5, "Adam weight decay.")
    lr_step: int = opt(10, "Halve (lr_gamma) the learning rate every lr_step epochs.")
    lr_gamma: float = opt(0.5, "Learning-rate decay factor per lr_step epochs.")


@dataclass(frozen=True)
class DataConfig:
    """Which samples a run reads, and how they are batched."""

    shards: str = ""
    batch_size: int = opt(32, "Samples per batch (per process under torchrun).")
    balanced: bool = opt(
        False,
        "Batches of half reals, half fakes (FF++ has 1 real to 4 fakes); always on for "
        "--model mclcr (SupCon needs a positive for every sample).",
    )
    hflip: bool = opt(True, "Random horizontal flips of rgb, freq and mask together.")
    augment: bool = opt(
        False,
        "Training-time perturbations (docs/robustness.md): half the samples get "
        "one of cs,cc,bw,gnc,gb,pixel,jpeg,patch at a uniform level 1-5 (off: the "
        "paper).",
    )
    workers: int = opt(2, "DataLoader worker processes.")
    qualities: tuple[str, ...] | None = opt(
        None,
        "Comma-separated qualities to train, validate and evaluate on, e.g. c40 (the paper's LQ setting of "
        "Tables 2 and 4); empty: every quality in the shards. A dataset distributed at one quality ('orig': "
        "Celeb-DF, DFDC) is never filtered by it.",
        kind="csv",
    )
    datasets: tuple[str, ...] | None = opt(
        None,
        "Comma-separated datasets to train and validate on (shard column 'dataset', e.g. ffpp); empty: those "
        "of the train split that have a val split (all of the train split when none has one), saved "
        "resolved. With --evaluate: the datasets to report (default all in the shard sets).",
        kind="csv",
    )
    methods: tuple[str, ...] | None = opt(
        None,
        "Comma-separated fake methods to train and validate on (shard column 'method', e.g. SelfBlend); "
        "the reals are always kept; empty: every method. --evaluate reports every method.",
        kind="csv",
    )
    train_split: str = opt("train", "Split to train on.")
    val_split: str = opt("val", "Split for model selection (best.pt by its frame AUC).")
    include_interpolated: bool = opt(
        False,
        "Also train, validate and evaluate on frames whose face box was "
        "interpolated between two detections (left out by default).",
    )

    @property
    def quality_list(self) -> tuple[str, ...] | None:
        """`qualities` for ShardDataset (None: all), ONE_QUALITY added: the filter narrows datasets made at
        several compressions (FF++, DFD) and never empties one distributed at one quality, so a model trained
        on FF++ c40 is still evaluated on all of Celeb-DF and DFDC."""
        listed = self.qualities
        return listed + (ONE_QUALITY,) if listed and ONE_QUALITY not in listed else listed


@dataclass(frozen=True)
class RunConfig:
    """Where and how long a run trains, and what it shows."""

    out: str = ""
    epochs: int = opt(50, "Training epochs.")
    seed: int = opt(0, "Seed of initialisation, sampling and flips.")
    device: str = opt(
        "auto", "Where to train: auto (CUDA when present), cpu or cuda.", ("auto", "cpu", "cuda")
    )
    bf16: bool = opt(True, "Autocast to bfloat16 on CUDA.")
    channels_last: bool = opt(True, "channels_last memory format on CUDA.")
    max_batches: int = opt(0, "Cap on batches per epoch (0 = all), for smoke runs.")
    progress: bool | None = opt(
        None,
        "Show progress bars (default: only when stderr is a terminal; a log gets one line per epoch).",
        switch=True,
    )
    tensorboard: bool | None = opt(
        None,
        "TensorBoard logs in RUN/tensorboard: loss terms, lr, validation metrics, "
        "sample masks and s_hat (default: on when tensorboard is installed).",
        switch=True,
    )

    @property
    def show_progress(self) -> bool:
        """Progress bars: as asked, else only when stderr is a terminal."""
        import sys

        return self.progress if self.progress is not None else sys.stderr.isatty()


SECTIONS = {"optim": OptimConfig, "data": DataConfig, "run": RunConfig}


def _detectors() -> dict[str, type]:
    from model import DETECTORS, config_class

    return {name: config_class(name) for name in DETECTORS}


def _flag(f: Field) -> str:
    return f.metadata.get("flag", f.name)


def _documented(cls: type) -> dict[str, str]:
    """flag -> field name of a detector config's documented fields."""
    return {_flag(f): f.name for f in fields(cls) if "help" in f.metadata}


def _model_fields() -> dict[str, tuple[str, Field]]:
    """flag -> (detector, field) of every detector's documented fields; a flag two detectors share is the
    first's (backbone, pretrained, strides)."""
    out: dict[str, tuple[str, Field]] = {}
    for name, cls in _detectors().items():
        for f in fields(cls):
            if "help" in f.metadata:
                out.setdefault(_flag(f), (name, f))
    return out


def flag_fields() -> type:
    """A flat dataclass of lrl-train's flags (cli.dataclass_options builds the options from it): --model,
    the detectors' documented fields, then optim, data and run's."""
    names = tuple(_detectors())
    model = (
        MODEL_FLAG,
        str,
        opt(
            names[0], "Detector: lrl (Chen et al. 2021) or mclcr (Wang et al. 2021, README 'MC-LCR').", names
        ),
    )

    def entry(name: str, f: Field):
        return (name, f.type, opt(f.default, **{k: v for k, v in f.metadata.items() if k != "flag"}))

    listed = [model] + [entry(flag, f) for flag, (_, f) in _model_fields().items()]
    listed += [entry(f.name, f) for cls in SECTIONS.values() for f in fields(cls) if "help" in f.metadata]
    return make_dataclass("TrainFlags", listed, frozen=True)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; saved resolved as RUN/config.json (nested: `to_dict`)."""

    model: object = (
        None  # the detector's config: ModelConfig (the default), MCLCRConfig, ... (model.DETECTORS)
    )
    optim: OptimConfig = OptimConfig()
    data: DataConfig = DataConfig()
    run: RunConfig = RunConfig()

    def __post_init__(self) -> None:
        if self.model is None:
            from model.config import ModelConfig

            object.__setattr__(self, "model", ModelConfig())

    @property
    def detector(self) -> str:
        """The registry name of the detector trained (model.DETECTORS): "lrl", "mclcr"."""
        from model import detector_name

        return detector_name(self.model)

    def to_dict(self) -> dict:
        """{"model": {"detector": name, <its config>}, "optim": {...}, "data": {...}, "run": {...}}."""
        return {
            "model": {"detector": self.detector, **asdict(self.model)},
            **{name: asdict(getattr(self, name)) for name in SECTIONS},
        }

    def flat(self) -> dict:
        """The flags' values ({flag: value}), as a config file holds them (`from_flat` reads it back)."""
        out = {MODEL_FLAG: self.detector}
        out |= {_flag(f): getattr(self.model, f.name) for f in fields(self.model) if "help" in f.metadata}
        for name in SECTIONS:
            out |= asdict(getattr(self, name))
        return out

    def replace(self, **flags) -> "TrainConfig":
        """A copy with some flags changed (flat names, as on the command line: "variant", "lr", "seed",
        "model", ...), each set on its own section; the others, undocumented fields included, are kept.
        Changing --model builds that detector's config with the flags both detectors share (backbone,
        pretrained, strides). A flag of another detector is ignored (as in a config file); an unknown one is
        refused (LrlError)."""
        detectors, model_fields = _detectors(), _model_fields()
        section_of = {f.name: name for name, sc in SECTIONS.items() for f in fields(sc)}
        unknown = sorted(set(flags) - set(section_of) - set(model_fields) - {MODEL_FLAG})
        if unknown:
            raise LrlError(f"unknown config keys: {', '.join(unknown)}")
        name = flags.get(MODEL_FLAG) or self.detector
        if name not in detectors:
            raise LrlError(f"unknown model {name!r}; choose one of {', '.join(detectors)}")
        cls, mine = detectors[name], _documented(detectors[name])
        values = {mine[k]: _value(k, v) for k, v in flags.items() if k in mine}
        if name == self.detector:
            model = dc_replace(self.model, **values)
        else:  # the flags both detectors document carry over
            old = _documented(type(self.model))
            model = cls(**{mine[f]: getattr(self.model, old[f]) for f in set(old) & set(mine)} | values)
        parts = {s: {k: _value(k, v) for k, v in flags.items() if section_of.get(k) == s} for s in SECTIONS}
        return TrainConfig(model, **{s: dc_replace(getattr(self, s), **parts[s]) for s in SECTIONS})

    @classmethod
    def from_flat(cls, d: dict) -> "TrainConfig":
        """From flat flag names (a config file, the command line, a config.json written before the nesting).
        Flags of another detector than --model's are read and not used (as they always were); an unknown key
        is refused."""
        detectors, model_fields = _detectors(), _model_fields()
        section_of = {f.name: name for name, sc in SECTIONS.items() for f in fields(sc)}
        unknown = sorted(set(d) - set(section_of) - set(model_fields) - {MODEL_FLAG})
        if unknown:
            raise LrlError(f"unknown config keys: {', '.join(unknown)}")
        name = d.get(MODEL_FLAG) or next(iter(detectors))
        if name not in detectors:
            raise LrlError(f"unknown model {name!r}; choose one of {', '.join(detectors)}")
        mine = {_flag(f): f.name for f in fields(detectors[name]) if "help" in f.metadata}
        model = detectors[name](**{field: _value(flag, d[flag]) for flag, field in mine.items() if flag in d})
        parts = {s: {k: _value(k, v) for k, v in d.items() if section_of.get(k) == s} for s in SECTIONS}
        return cls(model, **{s: SECTIONS[s](**parts[s]) for s in SECTIONS})

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """From `to_dict`'s nested form or the flat one (`from_flat`)."""
        if not isinstance(d.get(MODEL_FLAG), dict):
            return cls.from_flat(d)
        detectors = _detectors()
        model = dict(d[MODEL_FLAG])
        name = model.pop("detector", None)
        if name not in detectors:
            raise LrlError(f"config: unknown detector {name!r} under 'model' (one of {', '.join(detectors)})")
        unknown = sorted(set(d) - {MODEL_FLAG, *SECTIONS})
        if unknown:
            raise LrlError(f"unknown config keys: {', '.join(unknown)}")
        parts = {}
        for s, sc in (*SECTIONS.items(), (MODEL_FLAG, detectors[name])):
            given = d.get(s, {}) if s != MODEL_FLAG else model
            known = {f.name for f in fields(sc)}
            if set(given) - known:
                raise LrlError(
                    f"unknown config keys: {', '.join(f'{s}.{k}' for k in sorted(set(given) - known))}"
                )
            parts[s] = sc(**{k: _value(k, v) for k, v in given.items()})
        return cls(**parts)


def _value(key: str, value):
    """A config value in its field's type: lists as tuples (strides), comma-separated lists split."""
    if key in CSV_FIELDS:
        return split_csv(value)
    return tuple(value) if isinstance(value, list) else value


def resolve(values: dict, overrides: dict) -> TrainConfig:
    """Defaults, then the config file's `values` (flat, or nested as config.json), then the flags given on the
    command line (not None)."""
    base = TrainConfig.from_dict(values).flat() if isinstance(values.get(MODEL_FLAG), dict) else values
    return TrainConfig.from_flat({**base, **{k: v for k, v in overrides.items() if v is not None}})


def save(cfg: TrainConfig, run: Path) -> None:
    from pipeline.store.atomic import write_json

    write_json(Path(run) / "config.json", cfg.to_dict())
