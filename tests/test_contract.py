"""Every registered detector (model.DETECTORS) through the same contract, on the tiny demo's shards: train a
step, save, load through the one loader, evaluate (a typed result naming the detector), predict a clip
and write its report page (a detector without a mask head: the report refused in one line)."""

import json

import pytest

from model import DETECTORS
from model.detector import MASK
from model.training.checkpoint import load_checkpoint
from model.training.loop import train
from model.training.run_eval import EvalOptions, evaluate_checkpoint
from pipeline.errors import LrlError
from pipeline.predict.run import predict
from tests.kit import tiny_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")
VARIANT = {"lrl": {"variant": "rgb_mpsm"}, "mclcr": {"mclcr_variant": "no_style"}}  # not the defaults


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_detector_trains_loads_evaluates_predicts_and_reports(name, tiny_run, tmp_path):
    root, work, _ = tiny_run
    run = tmp_path / "run"
    flags = {"model": name, **VARIANT.get(name, {}), "max_batches": 1, "batch_size": 4}
    history = train(tiny_config(work / "shards", run, **flags), echo=lambda line: None)
    assert [h["epoch"] for h in history] == [1] and (run / "best.pt").is_file()

    net, cfg, prep = load_checkpoint(run / "best.pt", "cpu")
    assert cfg.detector == name and cfg.model == tiny_config(work / "shards", run, **flags).model
    assert prep.recorded and prep.size == 80 and not net.training

    result = evaluate_checkpoint(run / "best.pt", EvalOptions(split="test"))
    (one,) = result.sets
    assert 0.0 <= one.report["frame"]["overall"]["auc"] <= 1.0
    about = json.loads(one.metrics.read_text())["checkpoint"]
    assert (about["detector"], about["variant"]) == (name, cfg.model.variant)
    assert json.loads(result.table_json.read_text())["rows"] == result.rows and str(result).endswith(".md")

    video = root / "original_sequences" / "youtube" / "raw" / "videos" / "000.mp4"
    report = tmp_path / "report" if MASK in net.shows else None  # the report page shows the predicted mask
    (scored,) = predict(run / "best.pt", [video], tmp_path / "pred", report, "cpu", echo=str)
    assert scored.ok and 0.0 <= scored.score <= 1.0
    saved = json.loads((tmp_path / "pred" / "predictions.json").read_text())
    assert (saved["detector"], saved["variant"]) == (name, cfg.model.variant)
    if report:
        assert (report / "index.html").is_file()
    else:  # refused in one line naming the checkpoint, before anything is scored
        with pytest.raises(LrlError, match=f"{run / 'best.pt'}: its model has no mask head"):
            predict(run / "best.pt", [video], tmp_path / "pred2", tmp_path / "report", "cpu", echo=str)
        assert not (tmp_path / "pred2").exists()
