"""The detector surface: the registry builds either detector from its config, each says what it can show;
configs read alike nested and flat, and `replace` changes a flag in place (every detector's checkpoint:
tests/test_contract.py)."""

import dataclasses
import json

import pytest

from model import DETECTORS, MCLCRConfig, ModelConfig, build_model, detector_name
from model.training.config import TrainConfig


@pytest.mark.parametrize(
    ("cfg", "name", "shows"),
    [
        (
            ModelConfig(backbone="mobilenetv3_small_050", strides=(4, 8, 16)),
            "lrl",
            {"mask", "similarity", "attention"},
        ),
        (ModelConfig(backbone="mobilenetv3_small_050", strides=(4, 8, 16), variant="rgb"), "lrl", {"mask"}),
        (MCLCRConfig(backbone="mobilenetv3_small_050", strides=(4, 8, 16)), "mclcr", set()),
    ],
)
def test_the_registry_builds_each_detector_and_it_says_what_it_can_show(cfg, name, shows):
    assert set(DETECTORS) == {"lrl", "mclcr"} and detector_name(cfg) == name
    assert build_model(cfg).shows == shows


def test_old_flat_config_json_and_the_nested_one_read_alike():
    flat = {**TrainConfig().flat(), "model": "mclcr", "mclcr_variant": "no_style", "k": 4, "datasets": "ffpp"}
    cfg = TrainConfig.from_dict(flat)  # as config.json was written before the nesting
    assert (cfg.detector, cfg.model.variant, cfg.data.datasets) == ("mclcr", "no_style", ("ffpp",))
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(Exception, match="unknown config keys: optim.bogus"):
        TrainConfig.from_dict({**cfg.to_dict(), "optim": {"bogus": 1}})


def test_replace_sets_one_field_and_switching_detector_carries_the_shared_flags():
    base = TrainConfig.from_flat({"backbone": "mobilenetv3_small_050", "variant": "rgb", "qualities": "c40"})
    base = TrainConfig(dataclasses.replace(base.model, decoder_width=32), base.optim, base.data, base.run)
    changed = base.replace(lr=0.1, methods="A,B")
    assert changed.model == base.model and changed.model.decoder_width == 32  # an undocumented field is kept
    assert (changed.optim.lr, changed.data.methods, changed.data.qualities) == (0.1, ("A", "B"), ("c40",))
    mclcr = base.replace(model="mclcr", lambda_con=0.0)
    assert (mclcr.detector, mclcr.model.backbone, mclcr.model.variant) == (
        "mclcr",
        "mobilenetv3_small_050",
        "full",
    )
    assert mclcr == TrainConfig.from_flat({**base.flat(), "model": "mclcr", "lambda_con": 0.0})
    with pytest.raises(Exception, match="unknown config keys: bogus"):
        base.replace(bogus=1)
