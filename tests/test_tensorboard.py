"""lrl-train --tensorboard: the epoch scalars equal log.jsonl, sample images per epoch; --no-tensorboard
writes none."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import train as train_cli
from model.training.config import TrainConfig
from model.training.loop import train
from model.training.tensorboard import SAMPLES
from tests.kit import tiny_config

pytest.importorskip(
    "tensorboard", reason="the tensorboard package is not installed (pip install tensorboard)"
)


def small(shards: Path, out: Path, **kw) -> TrainConfig:
    return tiny_config(shards, out, **{"epochs": 2, "lr_step": 1, **kw})


def test_scalars_match_the_log_and_images_are_written(shards, tmp_path, one_torch_thread):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(small(shards, tmp_path / "run", tensorboard=True), echo=lambda s: None)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"images": 0}).Reload()
    for tag, key in (
        ("loss/loss", "loss"),
        ("loss/ce", "ce"),
        ("loss/sim", "sim"),
        ("loss/seg", "seg"),
        ("lr", "lr"),
        ("val/auc", "val_auc"),
        ("val/acc", "val_acc"),
    ):
        scalars = events.Scalars(tag)
        assert [s.step for s in scalars] == [1, 2], tag
        assert [s.value for s in scalars] == pytest.approx([h[key] for h in log], rel=1e-6), tag
    for tag in ("val/rgb", "val/mask_true", "val/mask_pred", "val/s_hat"):
        images = events.Images(tag)
        assert [i.step for i in images] == [1, 2], tag
    s_hat = events.Images("val/s_hat")[0]
    assert (s_hat.width, s_hat.height) == (SAMPLES * 25, 25)  # k = 5: 25 x 25 each, side by side


def test_off_writes_nothing_and_the_flag_exists(shards, tmp_path, one_torch_thread):
    train(small(shards, tmp_path / "run", tensorboard=False, epochs=1, max_batches=1), echo=lambda s: None)
    assert (tmp_path / "run" / "log.jsonl").exists() and not (tmp_path / "run" / "tensorboard").exists()
    assert "--tensorboard / --no-tensorboard" in CliRunner().invoke(train_cli, ["--help"]).output
