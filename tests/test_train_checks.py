"""lrl-train never means nothing silently (issue 14, cases 5, 6, 8, 9): model selection without a usable
validation split, evaluation on shards preprocessed otherwise, progress bars in a log, one-class ROC."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import train as train_cli
from model.training.config import TrainConfig
from model.training.loop import train
from pipeline.params import ShardsParams
from pipeline.store.index import digest, load_index
from tests.kit import TINY, run_shards, tiny_flags
from tests.work_fixture import Video, make_work

SMALL = {**TINY, "epochs": 2, "lr_step": 1}
ONE_CLASS = [
    Video("000", "train"),
    Video("000", "train", "Deepfakes", "001"),
    Video("002", "train"),
    Video("004", "val", "Face2Face", "005"),
    Video("006", "test", "Deepfakes", "007"),
]


def shards_of(work: Path, size: int = 80, videos=None, **params) -> Path:
    make_work(work, size=size, **({"videos": videos} if videos else {}))
    assert run_shards(work, ShardsParams(**params), progress=False).failed == 0
    return work / "shards"


@pytest.fixture(scope="module")
def one_class(tmp_path_factory) -> Path:
    """Shards whose val and test splits hold fakes only."""
    return shards_of(tmp_path_factory.mktemp("one"), videos=ONE_CLASS)


def config(shards: Path, out: Path, **kw) -> TrainConfig:
    return TrainConfig.from_flat(dict(shards=str(shards), out=str(out), **{**SMALL, **kw}))


def test_empty_validation_split_is_said_and_best_follows_the_last_epoch(shards, tmp_path, one_torch_thread):
    """Case 5: an empty val split; best.pt must not stay at epoch 1 while last.pt moves on."""
    lines = []
    train(config(shards, tmp_path / "run", val_split="nosuch"), echo=lines.append)
    assert lines[0] == "model selection: val split 'nosuch' has no samples: best.pt follows the last epoch"
    assert lines[1].endswith("val n/a (best.pt: this epoch)") and lines[2].startswith("epoch   2")
    assert torch.load(tmp_path / "run" / "best.pt", weights_only=True)["epoch"] == 2
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [h["best_by"] for h in log] == ["last epoch: val split 'nosuch' has no samples"] * 2


def test_one_class_validation_and_one_class_roc(one_class, tmp_path, one_torch_thread):
    """Cases 5 and 9: a val split of fakes only is said; evaluating a one-class split writes no empty ROC."""
    lines = []
    train(config(one_class, tmp_path / "run", epochs=1), echo=lines.append)
    assert lines[0] == (
        "model selection: val split 'val' holds only fake samples (AUC undefined): best.pt "
        "follows the last epoch"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(train_cli, ["--evaluate", str(tmp_path / "run" / "best.pt")])
    assert result.exit_code == 0, result.output
    name = f"best-test-{digest(load_index(one_class))}"
    assert result.output.splitlines()[1:3] == [
        f"metrics: {tmp_path / 'run' / f'metrics-{name}.json'}",
        "roc: not written: the split holds only fake samples: a ROC curve needs both classes",
    ]
    assert (
        result.output.splitlines()[4].split()[:7] == ["ffpp", "2", "1"] + ["n/a"] * 4
    )  # one class: AUC, EER undefined
    assert not list((tmp_path / "run").glob("roc-*.png"))
    assert not [w for w in caught if "matplotlib" in w.filename or "legend" in str(w.message)]


def test_evaluation_refuses_shards_preprocessed_otherwise(shards, tmp_path, one_torch_thread):
    """Case 6: 80 px / alpha 0.33 checkpoint, 160 px / alpha 0.5 shards: refused; forced, kept apart and
    recorded. Their other freq_std is a statistic of the data: only noted (model.training.run_eval)."""
    train(config(shards, tmp_path / "run", epochs=1), echo=lambda s: None)
    ckpt = tmp_path / "run" / "best.pt"
    other = shards_of(tmp_path / "other", size=160, alpha=0.5)
    std, ref = load_index(other)["freq_std"], load_index(shards)["freq_std"]
    result = CliRunner().invoke(train_cli, ["--evaluate", str(ckpt), "--shards", str(other)])
    assert result.exit_code == 2
    assert result.output == (
        f"error: {other}: shards unlike best.pt's: size 160, trained on 80; alpha 0.5, "
        "trained on 0.33 (--force evaluates anyway)\n"
    )
    assert not list((tmp_path / "run").glob("metrics-*"))
    first = CliRunner().invoke(train_cli, ["--evaluate", str(ckpt)])
    forced = CliRunner().invoke(train_cli, ["--evaluate", str(ckpt), "--shards", str(other), "--force"])
    assert first.exit_code == 0 and forced.exit_code == 0, first.output + forced.output
    assert (
        f"note: {other}: freq_std {std:.4g}, {100 * (std / ref - 1):+.1f}% from the checkpoint's {ref:.4g}, "
        "which normalises the frequency input (a statistic of this data, not a setting)"
    ) in forced.output.splitlines()
    mine = tmp_path / "run" / f"metrics-best-test-{digest(load_index(shards))}.json"
    theirs = tmp_path / "run" / f"metrics-best-test-{digest(load_index(other))}.json"
    assert sorted((tmp_path / "run").glob("metrics-*.json")) == sorted([mine, theirs])
    assert len(list((tmp_path / "run").glob("roc-best-test-*.png"))) == 2
    saved = json.loads(theirs.read_text())
    assert saved["checkpoint"]["path"] == str(ckpt.resolve()) and saved["checkpoint"]["epoch"] == 1
    assert (
        saved["checkpoint"]["trained_on"]["size"] == 80 and saved["checkpoint"]["trained_on"]["alpha"] == 0.33
    )
    assert saved["shards"]["path"] == str(other.resolve()) and saved["shards"]["split"] == "test"
    assert (saved["shards"]["settings"]["size"], saved["shards"]["settings"]["alpha"]) == (160, 0.5)
    assert saved["forced"][:2] == ["size 160, trained on 80", "alpha 0.5, trained on 0.33"]
    assert json.loads(mine.read_text())["forced"] == []


def test_a_log_gets_one_line_per_epoch_and_no_progress_frames(shards, tmp_path):
    """Case 8: stderr not a terminal: no carriage-return frames; --progress forces the bars."""

    def run(*extra):
        cmd = [
            sys.executable,
            "-c",
            "import sys, torch; torch.set_num_threads(1); from cli import train; "
            "sys.exit(train.main(sys.argv[1:]))",
            "--shards",
            str(shards),
            "--out",
            str(tmp_path / "r"),
            *tiny_flags(8),
            "--epochs",
            "2",
            "--max-batches",
            "2",
            *extra,
        ]
        return subprocess.run(cmd, capture_output=True, timeout=300)  # bytes: "\r" kept as it is

    quiet = run()
    assert quiet.returncode == 0, quiet.stderr
    assert b"\r" not in quiet.stderr + quiet.stdout
    assert [line[:9] for line in quiet.stdout.decode().splitlines()] == ["epoch   1", "epoch   2"]
    forced = run("--progress", "--overwrite")  # the same --out: the first run is replaced
    assert forced.returncode == 0 and b"\r" in forced.stderr


PLAIN_H5PY = """
import sys, h5py
path = sys.argv[1]
with h5py.File(path, "r") as f:
    print(f.attrs.get("note", ""))
    try:
        print("rgb", f["rgb"][0].shape)
    except OSError as exc:
        print("rgb unreadable")
assert "hdf5plugin" not in sys.modules
"""

NO_PLUGIN = """
import sys
sys.modules["hdf5plugin"] = None  # as if it were not installed: `import hdf5plugin` raises ImportError
from pipeline.store.reader import ShardDataset
from pipeline.errors import LrlError
try:
    ShardDataset(sys.argv[1], "train")[0]
except LrlError as exc:
    print(exc)
"""


@pytest.mark.parametrize("compression", ["blosc-lz4", "lzf"])
def test_shards_read_by_plain_h5py_or_say_what_to_import(tmp_path, compression):
    """Case 7: a blosc-lz4 shard carries a note a plain h5py reads, and the reader says what to import;
    an lzf shard reads with plain h5py."""
    from pipeline.store.schema import PLUGIN_NOTE

    shards = shards_of(tmp_path / "w", size=32, compression=compression)
    shard = sorted(shards.glob("train-*.h5"))[0]
    plain = subprocess.run([sys.executable, "-c", PLAIN_H5PY, str(shard)], capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    if compression == "lzf":
        assert plain.stdout.splitlines() == ["", "rgb (32, 32, 3)"]
        return
    assert plain.stdout.splitlines() == [PLUGIN_NOTE, "rgb unreadable"]
    said = subprocess.run([sys.executable, "-c", NO_PLUGIN, str(shards)], capture_output=True, text=True)
    assert said.stdout.startswith(f"{shard}: cannot read rgb (") and said.stdout.endswith(
        f"): {PLUGIN_NOTE}\n"
    )
