"""MC-LCR parts with hand-checked values: Gram block, patch spectra, phase-only change, SupCon; every module's
forward + backward; configuration errors."""

import math

import numpy as np
import pytest
import torch

from model import MCLCRConfig, build_model, compute_loss
from model.mclcr.fusion import Fusion
from model.mclcr.heads import Classifier, ProjectionHead
from model.mclcr.loss import supcon
from model.mclcr.spectrum import AmplitudePhaseAttention, CrossAttention, patch_spectra, spectrum_maps
from model.mclcr.style import StyleBlock, gram
from pipeline.errors import LrlError
from tests.kit import TINY

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = {k: TINY[k] for k in ("backbone", "strides")}


def test_gram_of_a_2x2x3_map_by_hand():
    # channels (row-major over the 2x2 map): c0 = 1 2 3 4, c1 = 0 1 0 1, c2 = 1 -1 1 -1
    x = torch.tensor([[[[1.0, 2], [3, 4]], [[0, 1], [0, 1]], [[1, -1], [1, -1]]]])
    # G_ij = <c_i, c_j> / 4: <c0,c0> = 30, <c0,c1> = 6, <c0,c2> = -2, <c1,c1> = 2, <c1,c2> = -2, <c2,c2> = 4
    expected = torch.tensor([[[7.5, 1.5, -0.5], [1.5, 0.5, -0.5], [-0.5, -0.5, 1.0]]])
    assert torch.allclose(gram(x), expected)


def test_style_block_reads_the_upper_triangle_of_the_gram_matrix():
    block = StyleBlock(in_channels=3, style_channels=3, out_dim=4)
    assert block.rows.tolist() == [0, 0, 0, 1, 1, 2] and block.cols.tolist() == [0, 1, 2, 1, 2, 2]


def test_patch_amplitude_and_phase_equal_numpy_fft():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 19, 26)).astype(np.float32)  # 2 x 3 patches of 8 px; the 3 / 2 px rest dropped
    amp, phase = patch_spectra(torch.from_numpy(x), 8)
    assert amp.shape == phase.shape == (2, 3, 2, 3, 8, 5)
    for i in range(2):
        for j in range(3):
            ref = np.fft.rfft2(x[:, :, 8 * i : 8 * i + 8, 8 * j : 8 * j + 8])
            assert np.allclose(amp[:, :, i, j].numpy(), np.abs(ref), atol=1e-4)
            assert np.allclose(np.exp(1j * phase[:, :, i, j].numpy()), np.exp(1j * np.angle(ref)), atol=1e-4)


def test_constant_patch_has_all_its_amplitude_at_dc_by_hand():
    amp, phase = patch_spectra(torch.full((1, 1, 4, 4), 0.5), 4)
    expected = torch.zeros(4, 3)
    expected[0, 0] = 16 * 0.5  # sum of the 16 pixels
    assert torch.allclose(amp[0, 0, 0, 0], expected) and phase[0, 0, 0, 0, 0, 0] == 0


def test_spectrum_maps_lay_coefficients_out_as_channels():
    x = torch.randn(1, 3, 16, 16)
    amp_map, phase_map = spectrum_maps(x, 8)
    amp, phase = patch_spectra(x, 8)
    assert amp_map.shape == (1, 3 * 8 * 5, 2, 2)
    c, u, v, i, j = 2, 3, 4, 1, 0
    channel = (c * 8 + u) * 5 + v
    assert amp_map[0, channel, i, j] == pytest.approx(math.log1p(amp[0, c, i, j, u, v]))
    assert phase_map[0, channel, i, j] == pytest.approx(phase[0, c, i, j, u, v] / math.pi)


def test_a_circular_shift_inside_one_patch_moves_only_its_phase():
    # shifting a patch circularly multiplies F(u, v) by exp(-2 pi i (u dy + v dx) / p): |F| is unchanged
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[0, 1, 8:16, 0:8] = torch.roll(x[0, 1, 8:16, 0:8], shifts=(1, 2), dims=(0, 1))
    amp_x, phase_x = spectrum_maps(x, 8)
    amp_y, phase_y = spectrum_maps(y, 8)
    assert torch.allclose(amp_x, amp_y, atol=1e-5)
    changed = (phase_x - phase_y).abs().amax(dim=1)[0] > 1e-3  # (2, 2) patches
    assert changed.tolist() == [[False, False], [True, False]]


def test_supcon_on_four_embeddings_by_hand():
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.6, 0.8]])  # unit vectors
    labels = torch.tensor([0, 0, 1, 1])
    tau = 0.5
    # dot products: z1.z2 = 0.6, z1.z3 = 0, z1.z4 = -0.6, z2.z3 = 0.8, z2.z4 = 0.28, z3.z4 = 0.8
    # anchor i, its one positive p: -log(exp(z_i.z_p / tau) / sum_{a != i} exp(z_i.z_a / tau))
    per_anchor = [
        math.log((math.exp(0.6 / tau) + math.exp(0.0) + math.exp(-0.6 / tau)) / math.exp(0.6 / tau)),
        math.log((math.exp(0.6 / tau) + math.exp(0.8 / tau) + math.exp(0.28 / tau)) / math.exp(0.6 / tau)),
        math.log((math.exp(0.0) + math.exp(0.8 / tau) + math.exp(0.8 / tau)) / math.exp(0.8 / tau)),
        math.log((math.exp(-0.6 / tau) + math.exp(0.28 / tau) + math.exp(0.8 / tau)) / math.exp(0.8 / tau)),
    ]
    hand = sum(per_anchor) / 4  # = 0.64289
    assert hand == pytest.approx(0.64289, abs=1e-5)
    assert float(supcon(z, labels, tau)) == pytest.approx(hand, rel=1e-5)
    # scaling an embedding does not matter (cosine similarity), permuting the batch neither
    assert float(supcon(z * torch.tensor([[2.0], [1], [3], [1]]), labels, tau)) == pytest.approx(
        hand, rel=1e-5
    )
    perm = torch.tensor([2, 0, 3, 1])
    assert float(supcon(z[perm], labels[perm], tau)) == pytest.approx(hand, rel=1e-5)


def test_supcon_averages_the_log_probabilities_of_several_positives_by_hand():
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 0, 1])  # anchor 3 has no positive and is left out of the mean
    tau = 1.0
    # anchor 1: positive z2 (dot 0) among {z2: 0, z3: 1}; anchor 2: positive z1 (0) among {z1: 0, z3: 0}
    hand = (math.log(1 + math.e) + math.log(2)) / 2
    assert float(supcon(z, labels, tau)) == pytest.approx(hand, rel=1e-5)


def _grads_flow(module: torch.nn.Module, out: torch.Tensor) -> None:
    out.float().square().mean().backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_every_part_runs_forward_and_backward():
    torch.manual_seed(0)
    shallow = torch.randn(4, 8, 20, 20)
    style = StyleBlock(8, 6, 16)
    out = style(shallow)
    assert out.shape == (4, 16)
    _grads_flow(style, out)

    att = CrossAttention(16, 4)
    q, kv = torch.randn(4, 9, 16), torch.randn(4, 9, 16)
    out = att(q, kv)
    assert out.shape == (4, 9, 16)
    _grads_flow(att, out)

    spectral = AmplitudePhaseAttention(patch=8, width=16, heads=4)
    out = spectral(torch.rand(4, 3, 40, 40) * 2 - 1)
    assert out.shape == (4, 32)
    _grads_flow(spectral, out)

    fusion = Fusion((5, 7), 12)
    out = fusion([torch.randn(4, 5), torch.randn(4, 7)])
    assert out.shape == (4, 12)
    _grads_flow(fusion, out)

    head = ProjectionHead(12, 6)
    z = head(torch.randn(4, 12))
    assert z.shape == (4, 6) and torch.allclose(z.norm(dim=1), torch.ones(4))
    _grads_flow(head, z[:, 0])

    classifier = Classifier(12)
    logit = classifier(torch.randn(4, 12))
    assert logit.shape == (4,)
    _grads_flow(classifier, logit)


@pytest.mark.parametrize("variant", ["full", "no_style", "no_freq"])
def test_network_forward_backward_per_variant(variant):
    torch.manual_seed(0)
    cfg = MCLCRConfig(**SMALL, variant=variant)
    net = build_model(cfg)
    assert (net.style is not None, net.spectrum is not None) == (cfg.use_style, cfg.use_freq)
    rgb = torch.rand(4, 3, 80, 80) * 2 - 1
    out = net(rgb, torch.randn(4, 1, 80, 80))
    assert out.logit.shape == (4,) and out.embedding.shape == (4, 128) and "mask" not in net.shows
    terms = compute_loss(out, {"label": torch.tensor([0.0, 1, 0, 1]), "mask": torch.zeros(4, 1, 80, 80)}, cfg)
    assert set(terms.log_dict()) == {"total", "ce", "con"}
    parts = terms.log_dict()
    assert parts["total"] == pytest.approx(parts["ce"] + cfg.lambda_con * parts["con"], rel=1e-6)
    terms.total.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


def test_defaults_and_configuration_errors():
    cfg = MCLCRConfig()
    assert (cfg.temperature, cfg.patch, cfg.proj_dim) == (0.07, 8, 128)
    with pytest.raises(LrlError, match="unknown MC-LCR variant"):
        MCLCRConfig(variant="rgb")
    with pytest.raises(LrlError, match="temperature"):
        MCLCRConfig(temperature=0)
    with pytest.raises(LrlError, match="multiple of heads"):
        MCLCRConfig(width=10, heads=4)
    with pytest.raises(ValueError, match="smaller than one 8x8 patch"):
        patch_spectra(torch.zeros(1, 3, 6, 40), 8)


def test_full_model_overfits_16_samples():
    from tests.test_model_overfit import forged_samples

    torch.manual_seed(0)
    cfg = MCLCRConfig(**SMALL)
    net = build_model(cfg)
    rgb, _, label, _ = forged_samples()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    history = []
    for _ in range(12):
        out = net(rgb)
        terms = compute_loss(out, {"label": label}, cfg)
        opt.zero_grad()
        terms.total.backward()
        opt.step()
        history.append(terms.log_dict())
    assert history[-1]["ce"] <= 0.1 * history[0]["ce"]
    # SupCon's floor: the 7 positives of an anchor (8 per class) share the numerator mass, log 7 = 1.9459
    assert history[0]["con"] > 2.5 and history[-1]["con"] == pytest.approx(math.log(7), abs=0.01)
    with torch.no_grad():
        fake = (
            net(rgb).prob > 0.5
        )  # batch statistics, as in training (the BN running means lag a 30-step fit)
    assert fake.tolist() == (label == 1).tolist()
