"""model.training.sweep: a grid of tiny runs trained, evaluated, recorded, reused and aggregated; folds by
a sample filter; one shard-set open per training run."""

import json
import statistics
from collections import Counter

import numpy as np
import pytest

from model.training.config import TrainConfig
from model.training.sweep import Evaluation, Fold, Stat, grid, run_one, summarise, sweep, write_tables
from pipeline.store import reader
from pipeline.store.reader import SampleFilter, ShardDataset

TINY = dict(
    backbone="mobilenetv3_small_050",
    strides=(4, 8, 16),
    pretrained=None,
    epochs=1,
    max_batches=1,
    batch_size=4,
    workers=0,
)
HELD = ("000", "001", "000_*", "*_000", "001_*", "*_001")  # identities 000 and 001 with their fakes


def base(shards) -> TrainConfig:
    return TrainConfig.from_flat({**TINY, "shards": str(shards)})


def test_sample_filter_keeps_by_pattern_and_excludes():
    meta = {"video": np.array(["000", "001_002", "002", "003_000"], object)}
    assert SampleFilter(exclude=HELD).admits(meta).tolist() == [False, False, True, False]
    assert SampleFilter(only=("00?",)).admits(meta).tolist() == [True, False, True, False]
    with pytest.raises(Exception, match="sample filter on 'frame'"):
        SampleFilter(column="frame").admits({"frame": np.zeros(2)})


def test_a_grid_trains_each_run_once_and_tables_mean_and_sd(shards, tmp_path, one_torch_thread):
    rows = {"full": {"variant": "full"}, "rgb": {"variant": "rgb"}}
    runs = grid(base(shards), tmp_path, rows, seeds=(0, 1))
    assert [(r.row, r.rep) for r in runs] == [("full", "s0"), ("full", "s1"), ("rgb", "s0"), ("rgb", "s1")]
    lines = []
    results = sweep(runs, echo=lines.append)
    assert not any(r.error for r in results) and not any(r.reused for r in results)
    assert lines[0] == "[1/4] full s0: starting" and lines[-1].startswith("[4/4] rgb s1: trained in ")
    assert (tmp_path / "rgb" / "s1" / "best.pt").is_file()
    recorded = json.loads((tmp_path / "rgb" / "s1" / "result.json").read_text())
    assert recorded["variant"] == "rgb" and recorded["seed"] == 1
    assert all(json.loads(open(f).read()) for f in recorded["files"]["test"] if f.endswith(".json"))
    table = summarise("t", results, {"frame AUC": "test:frame.overall.auc", "val": "val_auc"})
    aucs = [r.metric("test:frame.overall.auc") for r in results if r.row == "full"]
    assert table.rows["full"]["frame AUC"].mean == pytest.approx(statistics.fmean(aucs))
    assert table.rows["full"]["frame AUC"].sd == pytest.approx(abs(aucs[0] - aucs[1]) / 2**0.5)
    assert table.runs == {"full": 2, "rgb": 2}
    json_path, md_path = write_tables([table], tmp_path / "tables", results)
    rgb = json.loads(json_path.read_text())["tables"][0]["rows"][1]
    assert rgb["row"] == "rgb" and rgb["runs"] == 2 and rgb["cells"]["frame AUC"]["n"] == 2
    assert "| full | " in md_path.read_text() and " ± " in md_path.read_text()

    again = sweep(runs, echo=lines.append)  # resumed: nothing trains again, the same numbers
    assert all(r.reused for r in again) and [r.reports for r in again] == [r.reports for r in results]
    changed = grid(base(shards).replace(lr=1e-3), tmp_path, {"rgb": {"variant": "rgb"}}, seeds=(0,))
    assert not sweep(changed, echo=lines.append)[0].reused  # another spec: trained again


def test_stat_of_one_value_has_sd_zero_and_none_is_left_out():
    assert Stat.of([0.5, None]) == Stat(0.5, 0.0, 1, (0.5,))
    assert Stat.of([None]).cell() == "n/a"


def test_a_fold_trains_without_its_identities_and_tests_on_them_only(shards, tmp_path, one_torch_thread):
    fold = Fold("pair0", SampleFilter(exclude=HELD), SampleFilter(only=HELD))
    held_out = ShardDataset(shards, "train", fields=(), keep=fold.test)
    assert set(held_out.meta["video"].tolist()) == {"000", "001", "000_001", "001_002", "003_000"}
    (run,) = grid(
        base(shards), tmp_path, {"full": {}}, folds=[fold], evaluations=(Evaluation("held", split="train"),)
    )
    assert run.keep == fold.train and run.evaluations[0].keep == fold.test and run.rep == "pair0-s0"
    result = run_one(run)
    assert result.error is None, result.error
    table_file = next(f for f in result.files["held"] if "table-" in f and f.endswith(".json"))
    table = json.loads(open(table_file).read())
    assert table["sample_filter"]["only"] == list(HELD)
    import torch

    state = torch.load(tmp_path / "full" / "pair0-s0" / "best.pt", weights_only=False)
    assert state["metrics"]["sample_filter"]["exclude"] == list(HELD)


def test_one_training_run_opens_its_shard_set_once(shards, tmp_path, monkeypatch, one_torch_thread):
    opens, reads = [], Counter()
    real_init, real_columns = reader.ShardSet.__init__, reader._columns

    def counting_init(self, source):
        opens.append(source)
        real_init(self, source)

    def counting_columns(shard, path):
        reads[str(path)] += 1
        return real_columns(shard, path)

    monkeypatch.setattr(reader.ShardSet, "__init__", counting_init)
    monkeypatch.setattr(reader, "_columns", counting_columns)
    (run,) = grid(base(shards), tmp_path, {"full": {}})
    assert run_one(run).error is None
    assert len(opens) == 1 and reads and max(reads.values()) == 1  # each shard file's metadata read once
