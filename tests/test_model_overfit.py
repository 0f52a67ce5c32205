"""The full model with a small backbone overfits 16 astronaut crops with pasted forged regions."""

import numpy as np
import pytest
import torch
from skimage.data import astronaut
from skimage.transform import resize

from model import ModelConfig, build_model, lrl_loss
from pipeline.kernels.dct import frequency_cue

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SIZE = 80  # mobilenetv3_small_050 taps at strides 4/8/16: 20, 10, 5 px, so k = 5 gives 1x1 feature patches


def forged_samples(n: int = 16, seed: int = 0):
    """Odd samples: a square from elsewhere in the image, 2x nearest-upsampled, pasted in (label 1, its
    mask)."""
    rng = np.random.default_rng(seed)
    img = astronaut().astype(np.float32) / 255.0
    rgbs, masks = [], []
    for i in range(n):
        y, x = rng.integers(0, 512 - 2 * SIZE, 2)
        crop = resize(img[y : y + 2 * SIZE, x : x + 2 * SIZE], (SIZE, SIZE), anti_aliasing=True).astype(
            np.float32
        )
        mask = np.zeros((SIZE, SIZE), np.float32)
        if i % 2:
            side = int(rng.integers(SIZE // 4, SIZE // 2))
            ty, tx = rng.integers(0, SIZE - side, 2)
            sy, sx = rng.integers(0, 512 - side, 2)
            patch = img[sy : sy + side : 2, sx : sx + side : 2]
            crop[ty : ty + side, tx : tx + side] = np.repeat(np.repeat(patch, 2, 0), 2, 1)[:side, :side]
            mask[ty : ty + side, tx : tx + side] = 1
        rgbs.append(crop)
        masks.append(mask)
    rgb = torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2) * 2 - 1
    freq = frequency_cue(np.stack(rgbs) * 255.0)  # eq. 1-3, the shards stage's own filter
    freq = torch.from_numpy((freq / freq.std())[:, None].astype(np.float32))
    return rgb, freq, torch.arange(n) % 2, torch.from_numpy(np.stack(masks))


def forged_iou(net, rgb, freq, mask) -> float:
    """Mask IoU over the forged samples, with batch statistics (the BN running means lag a 30-step fit)."""
    with torch.no_grad():
        pred = net(rgb, freq).mask_logits[1::2, 0] > 0
    truth = mask[1::2] > 0.5
    return float((pred & truth).sum() / (pred | truth).sum().clamp(min=1))


def test_full_model_overfits_16_samples():
    torch.manual_seed(0)
    cfg = ModelConfig(backbone="mobilenetv3_small_050", strides=(4, 8, 16))
    net = build_model(cfg)
    rgb, freq, label, mask = forged_samples()
    iou_before = forged_iou(net, rgb, freq, mask)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        terms = lrl_loss(net(rgb, freq), label, mask, cfg)
        opt.zero_grad()
        terms.total.backward()
        opt.step()
        losses.append(terms.log_dict())
    assert losses[-1]["total"] <= 0.2 * losses[0]["total"]
    assert all(losses[-1][k] < losses[0][k] for k in ("ce", "sim", "seg"))
    iou_after = forged_iou(net, rgb, freq, mask)
    assert iou_after >= iou_before + 0.3 and iou_after >= 0.6
