"""LRLNet: streams cut at timm taps, RFAM, every Table 4 variant, the loss, pretrained files, bf16,
compile."""

import math

import pytest
import timm
import torch

from model import VARIANTS, LRLOutput, ModelConfig, build_model, lrl_loss
from model.losses import similarity_loss
from model.rfam import RFAM
from model.streams import Stream
from pipeline.errors import LrlError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = dict(backbone="mobilenetv3_small_050", strides=(4, 8, 16))  # 80 px -> 20, 10, 5 px levels
SIZE = 80


def batch(b: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    rgb = torch.rand(b, 3, SIZE, SIZE, generator=g) * 2 - 1
    freq = torch.randn(b, 1, SIZE, SIZE, generator=g)
    mask = torch.zeros(b, SIZE, SIZE)
    mask[1:, 10:50, 20:60] = 1
    return rgb, freq, torch.tensor([0.0] + [1.0] * (b - 1)), mask


@pytest.mark.parametrize(
    "backbone,strides", [("resnet18", (4, 8, 16)), ("mobilenetv3_small_050", (8, 16, 32))]
)
def test_stream_stages_reproduce_timm_feature_taps(backbone, strides, tmp_path):
    torch.manual_seed(0)
    plain = timm.create_model(backbone, pretrained=False)
    torch.save(plain.state_dict(), tmp_path / "w.pth")
    stream = Stream(backbone, 3, strides, str(tmp_path / "w.pth")).eval()
    ref = timm.create_model(backbone, pretrained=False, features_only=True).eval()
    ref.load_state_dict(plain.state_dict(), strict=False)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        ours, theirs = stream(x), ref(stream.norm(x))  # a local timm file: timm's ImageNet mean / std
    for feat, stride in zip(ours, strides, strict=True):
        assert torch.equal(feat, theirs[ref.feature_info.reduction().index(stride)])
    assert stream.channels == tuple(
        ref.feature_info.channels()[ref.feature_info.reduction().index(s)] for s in strides
    )


def test_xception_stages_end_at_block_outputs_before_timms_tap_relu(tmp_path):
    torch.manual_seed(0)
    plain = timm.create_model("legacy_xception", pretrained=False)
    torch.save(plain.state_dict(), tmp_path / "x.pth")
    stream = Stream("legacy_xception", 3, (8, 16, 32), str(tmp_path / "x.pth")).eval()
    ref = timm.create_model(
        "legacy_xception", pretrained=False, features_only=True, out_indices=(2, 3, 4)
    ).eval()
    ref.load_state_dict({f"body.{k}": v for k, v in plain.state_dict().items()}, strict=False)
    x = torch.randn(1, 3, 71, 71)
    with torch.no_grad():
        low, mid, high = stream(x)
        taps = ref(x)
    assert stream.channels == (256, 728, 2048)
    assert (low < 0).any() and torch.equal(low.relu(), taps[0]) and torch.equal(mid.relu(), taps[1])
    assert torch.equal(high, taps[2])


def test_pretrained_file_loads_into_both_streams_with_a_summed_first_conv(tmp_path):
    torch.manual_seed(1)
    plain = timm.create_model(SMALL["backbone"], pretrained=False)  # with its 1000-class head
    torch.save(plain.state_dict(), tmp_path / "w.pth")
    net = build_model(ModelConfig(**SMALL, pretrained=str(tmp_path / "w.pth")))
    w = plain.state_dict()["conv_stem.weight"]
    assert net.rgb.missing_keys == [] and net.freq.missing_keys == []
    assert torch.equal(net.rgb.stages[0].conv_stem.weight, w)
    assert torch.allclose(net.freq.stages[0].conv_stem.weight, w.sum(1, keepdim=True))


def test_bad_pretrained_files_are_one_line_errors(tmp_path):
    with pytest.raises(LrlError, match="not found"):
        build_model(ModelConfig(**SMALL, pretrained=str(tmp_path / "none.pth")))
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(LrlError, match="junk.pth: cannot read"):
        build_model(ModelConfig(**SMALL, pretrained=str(tmp_path / "junk.pth")))
    torch.save(timm.create_model("resnet18").state_dict(), tmp_path / "other.pth")
    with pytest.raises(LrlError, match="other.pth: weights do not fit backbone mobilenetv3_small_050"):
        build_model(ModelConfig(**SMALL, pretrained=str(tmp_path / "other.pth")))
    torch.save({"head.weight": torch.zeros(2)}, tmp_path / "foreign.pth")
    with pytest.raises(LrlError, match="foreign.pth: no weight matches"):
        build_model(ModelConfig(**SMALL, pretrained=str(tmp_path / "foreign.pth")))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(variant="rgb_rfam"), "unknown model variant"),
        (dict(strides=(16, 8, 32)), "3 increasing"),
        (dict(k=0), "k must be"),
        (dict(lambda1=-1.0), "loss weights"),
        (dict(sim_loss="l1"), "unknown sim_loss 'l1'"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(LrlError, match=match):
        ModelConfig(**kwargs)


def test_unknown_backbone_or_stride_is_a_one_line_error():
    with pytest.raises(LrlError, match="cannot build backbone"):
        build_model(ModelConfig(backbone="no_such_net", variant="rgb"))
    with pytest.raises(LrlError, match="no feature tap at stride"):
        build_model(ModelConfig(backbone="resnet18", variant="rgb", strides=(4, 8, 64)))


def test_rfam_shapes_attention_range_and_eq6():
    torch.manual_seed(0)
    rfam = RFAM(6)
    u1, u2 = torch.randn(2, 6, 7, 5) * 5, torch.randn(2, 6, 7, 5) * 5
    v1, v2, fused, a = rfam(u1, u2)
    assert a.shape == (2, 2, 7, 5) and v1.shape == v2.shape == fused.shape == (2, 6, 7, 5)
    assert a.min() >= 0 and a.max() <= 1 and a.std() > 0
    assert torch.allclose(v1, a[:, :1] * u1) and torch.allclose(v2, a[:, 1:] * u2)
    assert torch.allclose(fused, a[:, :1] * u1 + a[:, 1:] * u2)
    assert rfam.fuse[0].weight.shape == (12, 12, 1, 1)  # eq. 4: V keeps 2C channels


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_trains_with_gradients_in_every_parameter(variant):
    torch.manual_seed(0)
    cfg = ModelConfig(**SMALL, variant=variant)
    net = build_model(cfg)
    rgb, freq, label, mask = batch(3)
    out = net(rgb, freq)
    assert out.logit.shape == (3,) and out.mask_logits.shape == (3, 1, SIZE, SIZE)
    assert (out.s_hat is not None) == cfg.use_mpsm and len(out.attention) == (3 if cfg.use_rfam else 0)
    if cfg.use_mpsm:
        assert out.s_hat.shape == (3, 25, 25) and out.s_hat.min() >= 0 and out.s_hat.max() <= 1
    terms = lrl_loss(out, label, mask, cfg)
    assert (terms.sim > 0) == cfg.use_mpsm
    terms.total.backward()
    params = dict(net.named_parameters())
    assert all(p.grad is not None for p in params.values())  # no unused parameter (DDP-safe)
    assert net.rgb.stages[0][0].weight.grad.abs().sum() > 0
    assert (net.freq is not None) == cfg.use_freq
    if cfg.use_freq:
        assert net.freq.stages[0][0].weight.grad.abs().sum() > 0


def test_rfam_feeds_attended_features_down_the_streams():
    torch.manual_seed(0)
    net = build_model(ModelConfig(**SMALL)).eval()
    rgb, freq, _, _ = batch()
    seen = []
    hook = net.rgb.stages[1].register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    with torch.no_grad():
        out = net(rgb, freq)
        u1 = net.rgb.stages[0](rgb)
    hook.remove()
    assert torch.allclose(seen[0], out.attention[0][:, :1] * u1)


def test_two_stream_variants_require_the_frequency_input():
    net = build_model(ModelConfig(**SMALL))
    with pytest.raises(ValueError, match="needs the frequency input"):
        net(batch()[0])
    assert build_model(ModelConfig(**SMALL, variant="rgb_mpsm"))(batch()[0]).s_hat is not None


@pytest.mark.parametrize("reading", ["mse", "norm"])
def test_loss_on_a_tiny_known_batch(reading):
    cfg = ModelConfig(k=2, sim_loss=reading)
    s_hat = torch.stack([torch.full((4, 4), 0.5), torch.ones(4, 4)])
    s_hat[1, 0, 1:] = s_hat[1, 1:, 0] = 0  # the target of mask 1 below ...
    s_hat[1, 0, 1] = 0.6  # ... but for one entry, off by 0.6
    out = LRLOutput(
        logit=torch.tensor([0.0, math.log(3.0)]), s_hat=s_hat, mask_logits=torch.zeros(2, 1, 2, 2)
    )
    mask = torch.tensor([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]])
    terms = lrl_loss(out, torch.tensor([0, 1]), mask, cfg)
    ce = (math.log(2.0) - math.log(0.75)) / 2  # -log(1 - sigmoid(0)), -log(sigmoid(ln 3))
    if reading == "mse":
        sim = (16 * 0.25 / 16 + 0.6**2 / 16) / 2  # mean of 16 squares 0.5^2; one 0.6^2 among 16; batch mean
    else:
        sim = (math.sqrt(16 * 0.25) + 0.6) / 2  # ||1 - 0.5||_F over 4x4; ||one 0.6||_F; batch mean
    seg = math.log(2.0)  # logit 0 everywhere, averaged over pixels
    assert sim == pytest.approx(0.13625 if reading == "mse" else 1.3)
    assert terms.ce.item() == pytest.approx(ce, rel=1e-6)
    assert terms.sim.item() == pytest.approx(sim, rel=1e-6)
    assert terms.seg.item() == pytest.approx(seg, rel=1e-6)
    assert terms.total.item() == pytest.approx(ce + 10 * sim + seg, rel=1e-6)
    assert terms.log_dict() == pytest.approx({"total": ce + 10 * sim + seg, "ce": ce, "sim": sim, "seg": seg})


def test_norm_reading_pushes_with_constant_force_and_mse_fades_with_the_residual():
    s = torch.ones(1, 25, 25)
    grads = {}
    for reading in ("mse", "norm"):
        for scale in (0.1, 0.001):
            s_hat = (
                s - scale * torch.rand(1, 25, 25, generator=torch.Generator().manual_seed(0))
            ).requires_grad_()
            similarity_loss(s, s_hat, reading).backward()
            grads[reading, scale] = s_hat.grad.norm().item()
    assert grads["norm", 0.1] == pytest.approx(1.0) and grads["norm", 0.001] == pytest.approx(
        1.0
    )  # r / ||r||
    assert grads["mse", 0.1] / grads["mse", 0.001] == pytest.approx(100.0, rel=1e-4)  # 2 r / k^4


def test_loss_rejects_a_mask_of_the_wrong_size():
    out = LRLOutput(logit=torch.zeros(2), s_hat=None, mask_logits=torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match="does not match predicted mask"):
        lrl_loss(out, torch.zeros(2), torch.zeros(2, 1, 4, 4), ModelConfig())


def test_bf16_autocast_and_channels_last_give_finite_consistent_outputs():
    torch.manual_seed(0)
    cfg = ModelConfig(**SMALL)
    net = build_model(cfg).eval()
    rgb, freq, label, mask = batch()
    with torch.no_grad():
        ref = net(rgb, freq)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = net(rgb, freq)
            terms = lrl_loss(low, label, mask, cfg)
        net_cl = net.to(memory_format=torch.channels_last)
        cl = net_cl(rgb.to(memory_format=torch.channels_last), freq.to(memory_format=torch.channels_last))
    assert low.mask_logits.dtype == torch.bfloat16 and terms.total.dtype == torch.float32
    assert all(torch.isfinite(t).all() for t in (low.logit, low.s_hat, low.mask_logits, terms.total))
    assert torch.allclose(low.s_hat, ref.s_hat, atol=0.05)
    assert torch.allclose(cl.logit, ref.logit, atol=1e-4) and torch.allclose(
        cl.mask_logits, ref.mask_logits, atol=1e-4
    )


def test_forward_compiles_as_one_graph():
    torch.manual_seed(0)
    net = build_model(ModelConfig(**SMALL)).eval()
    rgb, freq, _, _ = batch()
    compiled = torch.compile(net, backend="eager", fullgraph=True)  # fullgraph: any graph break fails
    with torch.no_grad():
        assert torch.allclose(compiled(rgb, freq).logit, net(rgb, freq).logit)
