"""The settings of a resumed run: its own RUN/config.json, not the defaults nor a new config file.

`lrl-train --out RUN --resume` continues the run as it was configured. A flag (or --config value) given on
resume that differs from RUN/config.json is either one of RESUMABLE (how long and where it runs, what it
shows: recorded in config.json, with a line saying so) or refused in one line (a setting of the model,
optimiser or data would make the second half of the run another run's).
"""

from __future__ import annotations

import json
from pathlib import Path

from model.training.config import TrainConfig
from pipeline.errors import LrlError

RESUMABLE = ("epochs", "workers", "device", "progress", "tensorboard")
CONFIG = "config.json"
PATHS = ("shards", "out")


def saved_config(run: Path) -> TrainConfig:
    """RUN/config.json as a TrainConfig; LrlError naming the file when it is missing or unreadable."""
    path = Path(run) / CONFIG
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise LrlError(f"{path}: no such file: --resume continues a run that lrl-train started") from None
    except (OSError, ValueError, TypeError) as exc:
        raise LrlError(f"{path}: cannot read the run's settings ({exc})") from None


def _same(key: str, a, b) -> bool:
    if key in PATHS and a and b:
        return Path(a).resolve() == Path(b).resolve()
    return a == b


def resume_config(run: Path, values: dict, overrides: dict) -> tuple[TrainConfig, list[str]]:
    """(the resumed run's config, one line per RESUMABLE setting changed) from RUN/config.json, then the
    config file's flat `values`, then the flags given (`overrides`, None where not given).

    Raises LrlError in one line naming every other setting that differs from RUN/config.json."""
    saved = saved_config(run)
    before = saved.flat()
    given = {**values, **{k: v for k, v in overrides.items() if v is not None}}
    wanted = TrainConfig.from_flat({**before, **given}).flat()
    changed = [k for k in given if k in wanted and not _same(k, wanted[k], before.get(k))]
    refused = [k for k in changed if k not in RESUMABLE]
    if refused:
        said = ", ".join(
            f"--{k.replace('_', '-')} {wanted[k]!r} (the run's: {before.get(k)!r})" for k in refused
        )
        raise LrlError(
            f"{Path(run) / CONFIG}: --resume keeps the run's settings, and {said} would change them; "
            "leave them out, or start another run (--out, or --overwrite)"
        )
    lines = [
        f"resume: {k} {before.get(k)!r} -> {wanted[k]!r} (recorded in {Path(run) / CONFIG})" for k in changed
    ]
    return saved.replace(**{k: wanted[k] for k in changed}), lines
