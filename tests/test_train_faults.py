"""The trainer's faults (issue 26): a diverging run stops with one line and saves nothing from that state;
a run folder is locked while a run writes it and a folder holding a run is not silently mixed; a checkpoint
error keeps whole sentences; --report names the checkpoint it refuses."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import train as train_cli
from model.training import checkpoint
from model.training.loop import train
from pipeline.errors import short_reason
from tests.kit import tiny_config, tiny_flags

SMALL = [*tiny_flags(8), "--no-progress"]
HOLD = (
    "import sys, time; from pipeline.store.lock import WorkLock\nwith WorkLock(sys.argv[1]):\n"
    "    print('held', flush=True); time.sleep(60)\n"
)


def lrl_train(shards: Path, run: Path, *args: str):
    return CliRunner().invoke(train_cli, ["--shards", str(shards), "--out", str(run), *SMALL, *args])


def stamps(run: Path) -> dict:
    """name -> (mtime, bytes) of the run's files (the lock file aside: every run rewrites its holder line)."""
    return {
        p.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(run.iterdir())
        if p.is_file() and p.name != ".lock"
    }


@pytest.mark.parametrize("lr", ["1e30", "1e3"])
def test_a_diverging_run_stops_with_one_line_and_saves_nothing(shards, tmp_path, lr, one_torch_thread):
    run = tmp_path / "run"
    result = lrl_train(shards, run, "--lr", lr, "--epochs", "2", "--max-batches", "4")
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("error: training diverged at epoch 1, step "), line
    assert " loss is " in line or "the weight " in line
    assert line.endswith(
        f"nothing was saved from this state (best.pt and last.pt are as the last good epoch left "
        f"them); hint: lower --lr (it is {float(lr):g}; the paper's is 2e-4) or check the shards "
        "with `lrl-prep shards --verify`"
    )
    assert (
        not (run / "best.pt").exists() and not (run / "last.pt").exists() and not (run / "log.jsonl").exists()
    )


def test_divergence_after_a_good_epoch_keeps_its_checkpoints(shards, tmp_path, one_torch_thread):
    """Epoch 1 trains; epoch 2 resumes with a learning rate of 1e30 (written into last.pt's optimizer state,
    which --resume restores): it stops within its first steps and best.pt, last.pt and log.jsonl stay as
    epoch 1 left them."""
    run = tmp_path / "run"
    assert lrl_train(shards, run, "--epochs", "1", "--max-batches", "2").exit_code == 0
    state = torch.load(run / "last.pt", weights_only=True)
    for group in state["optimizer"]["param_groups"]:
        group["lr"] = 1e30
    torch.save(state, run / "last.pt")
    before = stamps(run)
    result = lrl_train(shards, run, "--epochs", "2", "--max-batches", "2", "--resume")
    assert result.exit_code == 2
    assert result.output.startswith("error: training diverged at epoch 2, step ")
    assert "hint: lower --lr (it is 1e+30;" in result.output
    assert stamps(run) == before


def test_two_runs_in_one_folder(shards, tmp_path, one_torch_thread):
    """A run holding the folder: the second exits 75 naming it; a finished run's folder is refused without
    --resume or --overwrite; --overwrite replaces every file of the earlier run."""
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        second = lrl_train(shards, run, "--epochs", "1", "--max-batches", "2")
        assert second.exit_code == 75
        assert second.output.startswith(f"locked: {run}: locked by pid {holder.pid} since ")
        assert sorted(p.name for p in run.iterdir()) == [".lock"]
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert lrl_train(shards, run, "--epochs", "1", "--max-batches", "2").exit_code == 0
    first = stamps(run)
    again = lrl_train(shards, run, "--epochs", "1", "--max-batches", "2")
    assert again.exit_code == 2 and stamps(run) == first
    assert again.output == (
        f"error: {run}: already holds a run (config.json, log.jsonl, last.pt, best.pt, "
        "curves.png): --resume continues it, --overwrite replaces it (deleting those files), "
        "or choose another --out\n"
    )
    both = lrl_train(shards, run, "--resume", "--overwrite")
    assert both.exit_code == 2 and "choose one" in both.output
    replaced = lrl_train(shards, run, "--epochs", "1", "--max-batches", "1", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    now = stamps(run)
    assert set(now) == set(first) and all(now[name][0] > first[name][0] for name in first)


def test_the_python_api_holds_the_same_lock(shards, tmp_path):
    run = tmp_path / "run"
    cfg = tiny_config(shards, run, max_batches=1)
    train(cfg, echo=lambda s: None)
    with pytest.raises(Exception, match="already holds a run"):
        train(cfg, echo=lambda s: None)
    train(cfg, echo=lambda s: None, overwrite=True)


def test_checkpoint_errors_keep_whole_sentences(tmp_path):
    half = tmp_path / "half.pt"
    torch.save({"model": {"w": torch.zeros(1000)}, "config": {}}, half)
    half.write_bytes(half.read_bytes()[:1500])
    with pytest.raises(Exception) as caught:
        checkpoint.load(half)
    assert str(caught.value) == (
        f"{half}: not a readable lrl checkpoint (PytorchStreamReader failed reading zip "
        "archive: failed finding central directory. This is an internal miniz error.)"
    )
    assert short_reason("\x1b[1m" + "x" * 80 + "\x1b[0m. " + "word " * 60) == "x" * 80 + "."
    assert short_reason("x" * 90 + " " + "y" * 200) == "x" * 90 + "..."
