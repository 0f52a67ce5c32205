"""lrl-train: resume reproduces the uninterrupted run, DDP on 2 CPU processes, evaluation, bad checkpoints."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import train as train_cli
from model import build_model
from model.training.config import TrainConfig, resolve
from model.training.loop import make_optimizer, train
from pipeline.params import read_options_file
from pipeline.store.index import digest, load_index
from tests.kit import TINY, tiny_flags

SMALL = {**TINY, "epochs": 2, "lr_step": 1}


def config(shards: Path, out: Path, **kw) -> TrainConfig:
    return TrainConfig.from_flat(dict(shards=str(shards), out=str(out), **{**SMALL, **kw}))


def test_resume_after_epoch_one_reproduces_epoch_two(shards, tmp_path):
    lines = []
    full = train(config(shards, tmp_path / "full", classifier_lr_scale=10.0), echo=lines.append)
    train(config(shards, tmp_path / "cut", epochs=1, classifier_lr_scale=10.0), echo=lambda s: None)
    resumed = train(
        config(shards, tmp_path / "cut", classifier_lr_scale=10.0), resume=True, echo=lambda s: None
    )
    assert [h["epoch"] for h in resumed] == [1, 2]
    for key in ("loss", "ce", "sim", "seg", "lr", "dissim_real", "dissim_fake"):
        assert resumed[1][key] == pytest.approx(full[1][key], rel=1e-5, abs=1e-7), key
    assert full[1]["lr"] == pytest.approx(full[0]["lr"] / 2)  # halved after every lr_step epochs
    log = [json.loads(line) for line in (tmp_path / "cut" / "log.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in log] == [1, 2]
    assert all(
        0.0 <= h["dissim_real"] <= 1.0 and 0.0 <= h["dissim_fake"] <= 1.0 for h in log
    )  # collapse guard
    assert lines[0].startswith("epoch   1") and f"1-s_hat real {full[0]['dissim_real']:.4f} fake" in lines[0]
    for name in ("last.pt", "best.pt", "config.json", "curves.png"):
        assert (tmp_path / "full" / name).exists(), name


def test_evaluate_writes_metrics_and_roc(shards, tmp_path):
    train(config(shards, tmp_path / "run", epochs=1), echo=lambda s: None)
    result = CliRunner().invoke(
        train_cli, ["--evaluate", str(tmp_path / "run" / "best.pt"), "--split", "test"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("test: frame ACC")
    name = f"best-test-{digest(load_index(shards))}"
    metrics = json.loads((tmp_path / "run" / f"metrics-{name}.json").read_text())
    assert set(metrics) == {"checkpoint", "shards", "forced", "frame", "video", "mask_iou"}
    # frame 8 of every video is interpolated: left out unless --include-interpolated
    assert metrics["frame"]["overall"]["n"] == 4 and metrics["video"]["overall"]["n"] == 2
    assert "Deepfakes" in metrics["frame"] and 0.0 <= metrics["mask_iou"]["fake"] <= 1.0
    assert (tmp_path / "run" / f"roc-{name}.png").stat().st_size > 0
    flag = ["--include-interpolated", "--evaluate", str(tmp_path / "run" / "best.pt"), "--split", "test"]
    assert CliRunner().invoke(train_cli, flag).exit_code == 0
    assert json.loads((tmp_path / "run" / f"metrics-{name}.json").read_text())["frame"]["overall"]["n"] == 6


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04broken zip"])
def test_corrupt_checkpoint_is_a_one_line_error(tmp_path, content):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    result = CliRunner().invoke(train_cli, ["--evaluate", str(bad)])
    assert result.exit_code == 2
    assert "bad.pt: not a readable lrl checkpoint" in result.output and "Traceback" not in result.output


def test_config_file_then_flags(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('epochs = 3\nbackbone = "resnet18"\nstrides = [4, 8, 16]\n')
    cfg = resolve(read_options_file(toml), {"epochs": 5, "lr": None})
    assert (cfg.run.epochs, cfg.model.backbone, cfg.model.strides, cfg.optim.lr) == (
        5,
        "resnet18",
        (4, 8, 16),
        2e-4,
    )
    yml = tmp_path / "c.yaml"
    yml.write_text("batch-size: 4\nbogus: 1\n")
    with pytest.raises(Exception, match="unknown config keys: bogus"):
        resolve(read_options_file(yml), {})


def test_classifier_learns_at_its_own_rate():
    net = build_model(TrainConfig.from_flat(SMALL).model)
    optimizer = make_optimizer(net, TrainConfig.from_flat(dict(lr=1e-3, classifier_lr_scale=10.0)))
    rest, head = optimizer.param_groups
    assert head["lr"] == pytest.approx(1e-2) and rest["lr"] == pytest.approx(1e-3)
    assert {id(p) for p in head["params"]} == {id(p) for p in net.classifier.parameters()}
    assert len(rest["params"]) + len(head["params"]) == len(list(net.parameters()))


def test_paper_defaults():
    cfg = TrainConfig()
    o, m = cfg.optim, cfg.model
    assert (o.lr, o.beta1, o.beta2, o.weight_decay, cfg.data.batch_size, cfg.run.epochs) == (
        2e-4,
        0.9,
        0.999,
        1e-5,
        32,
        50,
    )
    assert (o.lr_step, o.lr_gamma, m.lambda1, m.lambda2, m.k, m.variant) == (10, 0.5, 10.0, 1.0, 5, "full")
    assert (m.sim_loss, o.classifier_lr_scale, m.pretrained) == ("mse", 1.0, None)


def test_ddp_two_cpu_processes_train_and_save_once(shards, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "--no-python",
        str(Path(sys.executable).parent / "lrl-train"),
        "--shards",
        str(shards),
        "--out",
        str(out),
        "--epochs",
        "1",
        *tiny_flags(4),
        "--device",
        "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("epoch   1") == 1  # rank 0 alone logs
    assert sorted(p.name for p in out.glob("*.pt")) == ["best.pt", "last.pt"]
    assert len((out / "log.jsonl").read_text().splitlines()) == 1
    assert TrainConfig().replace(epochs=1).run.epochs == 1


def test_mclcr_trains_from_the_cli_and_evaluates_without_a_mask_head(shards, tmp_path):
    out = tmp_path / "mclcr"
    args = [
        "--shards",
        str(shards),
        "--out",
        str(out),
        "--model",
        "mclcr",
        *tiny_flags(4),
        "--epochs",
        "1",
        "--lambda-con",
        "0.25",
        "--temperature",
        "0.1",
    ]
    result = CliRunner().invoke(train_cli, args)
    assert result.exit_code == 0, result.output
    assert " (ce " in result.output and " con " in result.output and " sim " not in result.output
    saved = json.loads((out / "config.json").read_text())
    model = saved["model"]
    assert (model["detector"], model["lambda_con"], model["temperature"], saved["data"]["balanced"]) == (
        "mclcr",
        0.25,
        0.1,
        False,
    )
    result = CliRunner().invoke(train_cli, ["--evaluate", str(out / "best.pt"), "--split", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("mask IoU (fakes) n/a")
    metrics = json.loads((out / f"metrics-best-test-{digest(load_index(shards))}.json").read_text())
    assert metrics["mask_iou"] == {"fake": None, "all": None}
    assert metrics["frame"]["overall"]["n"] == 4 and metrics["frame"]["overall"]["auc"] is not None
    result = CliRunner().invoke(train_cli, ["--evaluate", str(out / "best.pt"), "--figures"])
    assert result.exit_code == 2 and "a mclcr model has neither" in result.output


@pytest.mark.parametrize("world", [1, 2, 3])
def test_balanced_batches_hold_as_many_reals_as_fakes(world):
    from model.training.data import BalancedSampler

    labels = np.array([0] * 3 + [1] * 17)  # 1 real to ~6 fakes
    for rank in range(world):
        drawn = list(BalancedSampler(labels, world, rank, seed=0))
        assert len(drawn) == -(-20 // world)
        for start in range(0, len(drawn) - 3, 4):  # every full batch of 4
            assert sorted(labels[drawn[start : start + 4]]) == [0, 0, 1, 1]


@pytest.mark.parametrize("name", ["mclcr-demo.toml", "mclcr.toml"])
def test_mclcr_configs_resolve(name):
    cfg = resolve(read_options_file(Path(__file__).resolve().parents[1] / "configs" / name), {})
    mcfg = cfg.model
    assert (cfg.detector, type(mcfg).__name__, mcfg.temperature, cfg.data.balanced) == (
        "mclcr",
        "MCLCRConfig",
        0.07,
        True,
    )
