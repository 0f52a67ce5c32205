"""ImageNet weights from the installed package: remap onto timm, a cat for chelsea, both streams,
normalisation."""

import pytest
import timm
import torch
from skimage.data import chelsea
from skimage.transform import resize

from model import ModelConfig, build_model
from model.pretrained import (
    PACKAGED,
    InputNorm,
    imagenet_state,
    input_norm,
    packaged_file,
    remap_lukemelas,
    rgb_normaliser,
)
from model.streams import Stream
from pipeline.errors import LrlError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LITE0 = "tf_efficientnet_lite0"
CATS = range(281, 286)  # ImageNet classes 281-285: tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def lukemelas_state():
    return torch.load(packaged_file(LITE0), map_location="cpu", weights_only=True)


def test_every_packaged_tensor_lands_on_timms_lite0(lukemelas_state):
    model = timm.create_model(LITE0, pretrained=False)
    state = remap_lukemelas(lukemelas_state, model, "lite0.pth")
    assert len(lukemelas_state) == len(state) == len(model.state_dict()) == 296
    assert set(state) == set(model.state_dict())
    assert model.load_state_dict(state, strict=True)
    assert torch.equal(
        state["blocks.0.0.conv_dw.weight"], lukemelas_state["_blocks.0._depthwise_conv.weight"]
    )
    assert torch.equal(state["blocks.1.0.conv_pwl.weight"], lukemelas_state["_blocks.1._project_conv.weight"])
    assert torch.equal(state["blocks.6.0.bn3.running_var"], lukemelas_state["_blocks.15._bn2.running_var"])
    assert torch.equal(state["classifier.bias"], lukemelas_state["_fc.bias"])


def test_remapped_lite0_calls_chelsea_a_cat_through_lrls_normalisation():
    model = timm.create_model(LITE0, pretrained=False).eval()
    model.load_state_dict(imagenet_state(LITE0), strict=True)
    photo = resize(chelsea(), (224, 224), anti_aliasing=True, preserve_range=True)
    x = (
        torch.from_numpy(photo).float().permute(2, 0, 1)[None] / 127.5 - 1
    )  # lrl's [-1, 1], as the data loader
    with torch.no_grad():
        probs = model(rgb_normaliser(LITE0, "imagenet")(x)).softmax(1)[0]
    assert int(probs.argmax()) in CATS and float(probs[list(CATS)].sum()) > 0.8


def test_remap_rejects_a_foreign_key_a_wrong_shape_and_a_missing_tensor(lukemelas_state):
    model = timm.create_model(LITE0, pretrained=False)
    extra = {**lukemelas_state, "_blocks.3._se_reduce.weight": torch.zeros(1)}
    with pytest.raises(LrlError, match=r"w\.pth: tensor _blocks\.3\._se_reduce\.weight has no place"):
        remap_lukemelas(extra, model, "w.pth")
    wrong = {**lukemelas_state, "_conv_stem.weight": torch.zeros(32, 3, 5, 5)}
    with pytest.raises(LrlError, match=r"w\.pth: _conv_stem\.weight has shape \(32, 3, 5, 5\)"):
        remap_lukemelas(wrong, model, "w.pth")
    short = {k: v for k, v in lukemelas_state.items() if not k.startswith("_fc.")}
    with pytest.raises(LrlError, match="provides no tensor for 2 of the model's, e.g. classifier"):
        remap_lukemelas(short, model, "w.pth")


def test_imagenet_for_a_backbone_without_a_package_is_a_one_line_error():
    with pytest.raises(LrlError, match="no package ships ImageNet weights for backbone 'resnet18'"):
        build_model(ModelConfig(backbone="resnet18", strides=(4, 8, 16), pretrained="imagenet"))


def test_imagenet_weights_fill_both_streams_with_timms_one_channel_rule():
    net = build_model(ModelConfig(backbone=LITE0, strides=(4, 8, 16), pretrained="imagenet"))
    stem = imagenet_state(LITE0)["conv_stem.weight"]
    assert net.rgb.missing_keys == [] and net.freq.missing_keys == []
    assert torch.equal(net.rgb.stages[0].conv_stem.weight, stem)
    assert torch.equal(net.freq.stages[0].conv_stem.weight, timm.models.adapt_input_conv(1, stem))
    assert torch.allclose(net.freq.stages[0].conv_stem.weight, stem.sum(1, keepdim=True))
    out = net.eval()(torch.zeros(2, 3, 80, 80), torch.zeros(2, 1, 80, 80))
    assert out.s_hat.shape == (2, 25, 25) and out.mask_logits.shape == (2, 1, 80, 80)


def test_normalisation_follows_the_weights():
    # TF-ported lite0 and Xception expect [-1, 1]: lrl's input passes unchanged, as timm's configs say.
    assert input_norm(LITE0, "imagenet") == ((0.5,) * 3, (0.5,) * 3)
    timm_cfg = timm.models.get_pretrained_cfg(LITE0)
    assert (PACKAGED[LITE0].mean, PACKAGED[LITE0].std) == (tuple(timm_cfg.mean), tuple(timm_cfg.std))
    assert isinstance(rgb_normaliser(LITE0, "imagenet"), torch.nn.Identity)
    assert isinstance(rgb_normaliser("legacy_xception", "x.pth"), torch.nn.Identity)
    assert isinstance(rgb_normaliser("resnet18", None), torch.nn.Identity)  # random init: [-1, 1] as it is
    assert input_norm("resnet18", "r.pth") == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def test_a_local_imagenet_style_file_gets_timms_mean_and_std_in_the_rgb_stream_only(tmp_path):
    torch.save(timm.create_model("resnet18", pretrained=False).state_dict(), tmp_path / "r.pth")
    rgb = Stream("resnet18", 3, (4, 8, 16), str(tmp_path / "r.pth"))
    freq = Stream("resnet18", 1, (4, 8, 16), str(tmp_path / "r.pth"))
    assert isinstance(rgb.norm, InputNorm) and isinstance(freq.norm, torch.nn.Identity)
    pixels = torch.rand(2, 3, 8, 8)  # [0, 1]
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    expected = (pixels - mean[:, None, None]) / std[:, None, None]
    assert torch.allclose(rgb.norm(pixels * 2 - 1), expected, atol=1e-6)
    assert "scale" not in rgb.state_dict() and not any("norm" in k for k in rgb.state_dict())
