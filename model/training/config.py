"""Training configuration: the paper's defaults (section 4.1), overridable from a YAML/TOML file and flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pipeline.errors import LrlError


@dataclass
class TrainConfig:
    """Everything a run needs; saved resolved as RUN/config.json."""

    shards: str = ""
    out: str = ""
    backbone: str = "legacy_xception"
    pretrained: str | None = None  # local weights file for both streams' backbones; nothing downloads
    variant: str = "full"
    strides: tuple[int, int, int] = (8, 16, 32)  # output strides of the low / mid / high feature taps
    k: int = 5  # MPSM patches per side
    lambda1: float = 10.0  # eq. 13, similarity loss
    lambda2: float = 1.0  # eq. 13, segmentation loss
    lr: float = 2e-4
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 1e-5
    batch_size: int = 32
    epochs: int = 50
    lr_step: int = 10  # halve the learning rate every lr_step epochs
    lr_gamma: float = 0.5
    balanced: bool = False  # sample real and fake equally often (FF++ has 1 real to 4 fakes)
    hflip: bool = True
    workers: int = 2
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # autocast to bfloat16 on CUDA
    channels_last: bool = True  # on CUDA
    train_split: str = "train"
    val_split: str = "val"
    max_batches: int = 0  # cap on batches per epoch (0 = all); for smoke runs

    def to_dict(self) -> dict:
        return asdict(self)

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


def read_config_file(path: Path) -> dict:
    """Options from a YAML (.yaml/.yml) or TOML (.toml) file."""
    path = Path(path)
    try:
        text = path.read_text()
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise LrlError(f"{path}: config files must end in .toml, .yaml or .yml")
    except (OSError, ValueError) as exc:
        raise LrlError(f"{path}: cannot read config ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise LrlError(f"{path}: a config file must hold a mapping of option names to values")
    return {k.replace("-", "_"): v for k, v in data.items()}


def resolve(file: Path | None, overrides: dict) -> TrainConfig:
    """Defaults, then the config file, then the flags given on the command line."""
    values = read_config_file(file) if file else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(values)


def save(cfg: TrainConfig, run: Path) -> None:
    from pipeline.atomic import write_json

    write_json(Path(run) / "config.json", cfg.to_dict())
