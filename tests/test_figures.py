"""`lrl-train --evaluate CKPT --figures`: Fig. 3 and Fig. 4 of the paper from tiny checkpoints trained
here."""

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import train as train_cli
from model import build_model
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict
from model.training.figures import SimilarityFigures
from model.training.loop import train
from pipeline.store.reader import ShardDataset
from tests.kit import TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {**TINY, "epochs": 1, "bf16": False}


def trained(shards: Path, out: Path, variant: str):
    cfg = TrainConfig.from_flat(dict(shards=str(shards), out=str(out), variant=variant, **SMALL))
    torch.manual_seed(0)
    train(cfg, echo=lambda s: None)
    net = build_model(cfg.model)
    net.load_state_dict(torch.load(out / "best.pt", weights_only=True)["model"])
    return cfg, net.eval()


def not_blank(path: Path) -> bool:
    import matplotlib.image

    img = matplotlib.image.imread(path)[..., :3]
    return img.std() > 0.1 and len(np.unique(img.reshape(-1, 3), axis=0)) > 50


def test_full_variant_draws_five_panels_per_sample_and_the_mean_patterns(shards, tmp_path):
    cfg, net = trained(shards, tmp_path / "run", "full")
    samples = LRLSamples(ShardDataset(shards, "test"))
    figures = SimilarityFigures(samples.shards, cfg.model.k)
    predict(net, samples, torch.device("cpu"), 4, on_batch=figures)
    panels, notes = figures.draw(tmp_path / "fig", "test", cfg.model.variant)
    fig = tmp_path / "fig"
    assert notes == []
    assert panels == {
        fig / "fig3-test-Deepfakes.png": 3 * 5,
        fig / "fig3-test-youtube.png": 3 * 5,
        fig / "fig3-test.png": 2 * 5,
        fig / "fig4-test.png": 2 * 2,
    }
    assert all(not_blank(p) for p in panels)

    means = figures.means()
    assert list(means) == ["youtube", "Deepfakes"] and means["Deepfakes"][2] == 3  # reals first
    assert np.array_equal(means["youtube"][1], np.ones((25, 25)))  # a real's target: every s_ij = 1 (eq. 9)
    fakes = [samples[i] for i in np.flatnonzero(samples.shards.methods == "Deepfakes")]
    with torch.no_grad():
        direct = net(torch.stack([s["rgb"] for s in fakes]), torch.stack([s["freq"] for s in fakes])).s_hat
    np.testing.assert_allclose(means["Deepfakes"][0], direct.double().mean(0).numpy(), atol=1e-6)
    first = min(figures.examples)
    assert np.array_equal(figures.examples[first].rgb, samples.shards[first]["rgb"])  # input shown as stored


def test_cli_figures_and_a_variant_without_s_hat(shards, tmp_path):
    cfg, net = trained(shards, tmp_path / "run", "rgb_freq_rfam")
    args = ["--evaluate", str(tmp_path / "run" / "best.pt"), "--split", "test", "--figures"]
    result = CliRunner().invoke(train_cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("test: frame ACC") and lines[1].startswith("metrics: ")
    assert lines[2].startswith("roc: ") and "has no MPSM, so no predicted s_hat" in lines[3]
    assert "4 PNGs" in lines[4]
    for name in ("fig3-test-Deepfakes.png", "fig3-test-youtube.png", "fig3-test.png", "fig4-test.png"):
        assert not_blank(tmp_path / "run" / name), name
    samples = LRLSamples(ShardDataset(shards, "test"))
    figures = SimilarityFigures(samples.shards, 5)
    predict(net, samples, torch.device("cpu"), 4, on_batch=figures)
    panels, _ = figures.draw(tmp_path / "fig", "test", cfg.model.variant)
    assert sorted(panels.values()) == [
        2,
        2 * 4,
        3 * 4,
        3 * 4,
    ]  # no s_hat panel; Fig. 4 shows the targets only


def test_figures_without_evaluate_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(train_cli, ["--shards", str(tmp_path), "--out", str(tmp_path), "--figures"])
    assert result.exit_code == 2 and "--figures goes with --evaluate" in result.output
