"""Training configuration: the paper's defaults (section 4.1), overridable from a YAML/TOML file and flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from model.config import SIM_LOSSES, VARIANTS, ModelConfig
from model.mclcr.config import MCLCR_VARIANTS, MCLCRConfig
from pipeline.errors import LrlError

ONE_QUALITY = "orig"  # the quality of a dataset distributed at one quality (Celeb-DF, DFDC: pipeline.dataset.layout)


def csv_list(text: str | None) -> tuple[str, ...] | None:
    """'a, b' -> ('a', 'b'); None for an empty or absent list (keep all)."""
    return tuple(v.strip() for v in (text or "").split(",") if v.strip()) or None


def _opt(default, help: str, choices: tuple | None = None, **cli):
    """A field carrying its lrl-train help and choices (and click extras: switch) (cli builds the flags)."""
    return field(default=default, metadata={"help": help, "choices": choices, **cli})


@dataclass
class TrainConfig:
    """Everything a run needs; saved resolved as RUN/config.json. Each documented field is an lrl-train flag."""

    shards: str = ""
    out: str = ""
    model: str = _opt("lrl", "Detector: lrl (Chen et al. 2021) or mclcr (Wang et al. 2021, README 'MC-LCR').",
                      ("lrl", "mclcr"))
    backbone: str = _opt("legacy_xception", "timm backbone of both streams (the paper: legacy_xception; the demo: "
                                            "tf_efficientnet_lite0).")
    pretrained: str | None = _opt(None, "Backbone weights for both streams: 'imagenet' (shipped by an installed "
                                        "package, for tf_efficientnet_lite0) or a local timm state-dict file; "
                                        "nothing downloads. None: random init.")
    variant: str = _opt("full", "Table 4 variant: rgb, rgb_freq, rgb_freq_rfam, rgb_mpsm, full (the paper's).",
                        tuple(VARIANTS))
    strides: tuple[int, int, int] = _opt((8, 16, 32), "Output strides of the low / mid / high feature taps.")
    k: int = _opt(5, "MPSM patches per side (k x k patches, section 3.3).")
    lambda1: float = _opt(10.0, "Weight of the similarity loss L_sim (eq. 13).")
    lambda2: float = _opt(1.0, "Weight of the segmentation loss L_seg (eq. 13).")
    sim_loss: str = _opt("mse", "Reading of eq. 10: mse (mean square over the k^2 x k^2 entries) or norm (the "
                                "literal Frobenius norm, whose constant-size gradient collapses s_hat to 1; kept "
                                "for the record).", SIM_LOSSES)
    mclcr_variant: str = _opt("full", "MC-LCR ablation: full, no_style (no style block), no_freq (no "
                                      "amplitude/phase branch).", tuple(MCLCR_VARIANTS))
    patch: int = _opt(8, "MC-LCR: side in pixels of the patches whose amplitude and phase spectra are read.")
    lambda_con: float = _opt(0.5, "MC-LCR: weight of the supervised contrastive loss (L_ce + lambda_con L_supcon).")
    temperature: float = _opt(0.07, "MC-LCR: SupCon temperature (Khosla et al. 2020: 0.07).")
    lr: float = _opt(2e-4, "Adam learning rate (section 4.1).")
    classifier_lr_scale: float = _opt(1.0, "The classifier's learning rate is lr times this (the paper: 1).")
    beta1: float = _opt(0.9, "Adam beta1.")
    beta2: float = _opt(0.999, "Adam beta2.")
    weight_decay: float = _opt(1e-5, "Adam weight decay.")
    batch_size: int = _opt(32, "Samples per batch (per process under torchrun).")
    epochs: int = _opt(50, "Training epochs.")
    lr_step: int = _opt(10, "Halve (lr_gamma) the learning rate every lr_step epochs.")
    lr_gamma: float = _opt(0.5, "Learning-rate decay factor per lr_step epochs.")
    balanced: bool = _opt(False, "Batches of half reals, half fakes (FF++ has 1 real to 4 fakes); always on for "
                                 "--model mclcr (SupCon needs a positive for every sample).")
    hflip: bool = _opt(True, "Random horizontal flips of rgb, freq and mask together.")
    augment: bool = _opt(False, "Training-time perturbations (docs/robustness.md): half the samples get "
                                "one of cs,cc,bw,gnc,gb,pixel,jpeg,patch at a uniform level 1-5 (off: the "
                                "paper).")
    workers: int = _opt(2, "DataLoader worker processes.")
    seed: int = _opt(0, "Seed of initialisation, sampling and flips.")
    device: str = _opt("auto", "Where to train: auto (CUDA when present), cpu or cuda.", ("auto", "cpu", "cuda"))
    bf16: bool = _opt(True, "Autocast to bfloat16 on CUDA.")
    channels_last: bool = _opt(True, "channels_last memory format on CUDA.")
    qualities: str = _opt("", "Comma-separated qualities to train, validate and evaluate on, e.g. c40 (the "
                              "paper's LQ setting of Tables 2 and 4); empty: every quality in the shards. A dataset "
                              "distributed at one quality ('orig': Celeb-DF, DFDC) is never filtered by it.")
    datasets: str = _opt("", "Comma-separated datasets to train and validate on (shard column 'dataset', e.g. ffpp); "
                             "empty: those of the train split that have a val split (all of the train split when "
                             "none has one), saved resolved. With --evaluate: the datasets to report (default all "
                             "in the shard sets).")
    train_split: str = _opt("train", "Split to train on.")
    val_split: str = _opt("val", "Split for model selection (best.pt by its frame AUC).")
    max_batches: int = _opt(0, "Cap on batches per epoch (0 = all), for smoke runs.")
    progress: bool | None = _opt(None, "Show progress bars (default: only when stderr is a terminal; a log gets "
                                       "one line per epoch).", switch=True)
    include_interpolated: bool = _opt(False, "Also train, validate and evaluate on frames whose face box was "
                                             "interpolated between two detections (left out by default).")
    tensorboard: bool | None = _opt(None, "TensorBoard logs in RUN/tensorboard: loss terms, lr, validation metrics, "
                                          "sample masks and s_hat (default: on when tensorboard is installed).",
                                    switch=True)

    @property
    def show_progress(self) -> bool:
        """Progress bars: as asked, else only when stderr is a terminal."""
        import sys

        return self.progress if self.progress is not None else sys.stderr.isatty()

    @property
    def quality_list(self) -> tuple[str, ...] | None:
        """`qualities` as a tuple for ShardDataset (None: all), ONE_QUALITY added: the filter narrows datasets
        made at several compressions (FF++, DFD) and never empties one distributed at one quality, so a
        model trained on FF++ c40 is still evaluated on all of Celeb-DF and DFDC."""
        listed = csv_list(self.qualities)
        return listed + (ONE_QUALITY,) if listed and ONE_QUALITY not in listed else listed

    @property
    def dataset_list(self) -> tuple[str, ...] | None:
        """`datasets` as a tuple for ShardDataset (None: all; train() resolves the default first)."""
        return csv_list(self.datasets)

    def to_dict(self) -> dict:
        return asdict(self)

    def model_config(self) -> ModelConfig | MCLCRConfig:
        """The network this run trains (and its loss weights)."""
        if self.model == "mclcr":
            return MCLCRConfig(backbone=self.backbone, variant=self.mclcr_variant, strides=self.strides,
                               pretrained=self.pretrained, patch=self.patch, lambda_con=self.lambda_con,
                               temperature=self.temperature)
        return ModelConfig(backbone=self.backbone, variant=self.variant, strides=self.strides, k=self.k,
                           lambda1=self.lambda1, lambda2=self.lambda2, sim_loss=self.sim_loss,
                           pretrained=self.pretrained)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise LrlError(f"unknown config keys: {', '.join(unknown)}")
        d = dict(d)
        if "strides" in d:
            d["strides"] = tuple(int(s) for s in d["strides"])
        return cls(**d)


def resolve(values: dict, overrides: dict) -> TrainConfig:
    """Defaults, then the config file's `values`, then the flags given on the command line (not None)."""
    return TrainConfig.from_dict({**values, **{k: v for k, v in overrides.items() if v is not None}})


def save(cfg: TrainConfig, run: Path) -> None:
    from pipeline.store.atomic import write_json

    write_json(Path(run) / "config.json", cfg.to_dict())
