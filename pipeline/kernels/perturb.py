"""Perturbations of face crops for robustness: DeeperForensics-1.0's seven distortions, a real JPEG and the
random patch of LRL's Fig. 6, each at five levels (1 mild -> 5 strong). Pure functions: uint8 RGB in,
uint8 RGB out, randomness only from the numpy Generator passed in.

Source: DeeperForensics-1.0 (Jiang et al., CVPR 2020), its released `perturbation/` code (levels below are
its parameters). Read on face crops (H x W x 3, RGB) instead of whole BGR video frames; where that code is
silent or does not fit crops, the reading chosen is stated:
- cs, colour saturation: the chroma (Cr, Cb of full-range BT.601 YCrCb, OpenCV's) scaled about grey by
  0.4, 0.3, 0.2, 0.1, 0.0; luma kept.
- cc, colour contrast: every value times 0.85, 0.725, 0.6, 0.475, 0.35 (mean and spread both scale; rounded,
  where the released code truncates).
- bw, block-wise: 16, 32, 48, 64, 80 grey (128) squares at uniform random positions. The released code places
  `min(H, W) // 256 * n` squares of 8 px on a frame, so none on a crop under 256 px: here n squares of side
  round(8 min(H, W) / 256) (>= 1), i.e. its count and its covered fraction at 256 px, on any crop size.
- gnc, white Gaussian noise in colour components: N(0, v) added to each of Y, Cr, Cb on a [0, 1] scale,
  v = 0.001, 0.002, 0.005, 0.01, 0.05 (the released code adds it on studio-range YCbCr, 255/219 times more
  in luma), then back to RGB, rounded and clipped.
- gb, Gaussian blur: kernel 7, 9, 13, 17, 21 px, sigma = kernel / 6 (cv2.GaussianBlur, as released).
- pixel, pixelation: down by 2, 3, 4, 5, 6 then back up (bilinear both ways, cv2.resize's default). The
  released code calls this "JPEG compression" (its issue #6): here it keeps its own name.
- jpeg, a real JPEG (cv2.imencode, 4:2:0): quality 90, 70, 50, 30, 10 (our choice: DeeperForensics has none).
- vc, video compression: a video's crop sequence, in frame order, encoded as one clip at 25 fps by libx264
  (PyAV, preset medium, one thread so the bytes do not depend on the machine) at CRF 30, 32, 35, 38, 40 and
  decoded; crops of odd side are padded (edge replicated) to even for 4:2:0 and cut back.
- patch, random patch (LRL Fig. 6; the paper gives no size): one square of side 0.1, 0.2, 0.3, 0.4, 0.5 x
  min(H, W) (1 %, 4 %, 9 %, 16 %, 25 % of a square crop) at a uniform random position inside the crop,
  filled with one uniform random colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

LEVELS = (1, 2, 3, 4, 5)
VC_FPS = 25


def _check(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) RGB image, got {rgb.dtype} {rgb.shape}")
    return rgb


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _ycrcb(rgb: np.ndarray) -> np.ndarray:
    """Float32 full-range BT.601 YCrCb on [0, 1] (chroma centred on 0.5), OpenCV's conversion."""
    import cv2

    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2YCrCb)


def _rgb(ycrcb: np.ndarray) -> np.ndarray:
    import cv2

    return _to_uint8(cv2.cvtColor(ycrcb.astype(np.float32), cv2.COLOR_YCrCb2RGB) * 255.0)


def color_saturation(rgb: np.ndarray, factor: float, rng=None) -> np.ndarray:
    """Chroma (Cr, Cb) scaled about grey by `factor`, luma kept; 0 gives a grey image."""
    ycc = _ycrcb(_check(rgb))
    ycc[..., 1:] = 0.5 + (ycc[..., 1:] - 0.5) * factor
    return _rgb(ycc)


def color_contrast(rgb: np.ndarray, factor: float, rng=None) -> np.ndarray:
    """Every value times `factor`, rounded (cv2.convertScaleAbs)."""
    import cv2

    return cv2.convertScaleAbs(_check(rgb), alpha=float(factor))


def block_side(height: int, width: int) -> int:
    """Side of bw's squares on an H x W crop: 8 px at 256 px, scaled with the crop, at least 1."""
    return max(1, int(8 * min(height, width) / 256 + 0.5))


def block_wise(rgb: np.ndarray, blocks: int, rng: np.random.Generator) -> np.ndarray:
    """`blocks` grey (128) squares of side block_side(H, W) at uniform random positions (overlaps allowed)."""
    out = _check(rgb).copy()
    h, w = out.shape[:2]
    side = min(block_side(h, w), h, w)
    tops = rng.integers(0, h - side + 1, size=blocks)
    lefts = rng.integers(0, w - side + 1, size=blocks)
    for top, left in zip(tops.tolist(), lefts.tolist(), strict=True):
        out[top : top + side, left : left + side] = 128
    return out


def gaussian_noise_color(rgb: np.ndarray, variance: float, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise of `variance` (on a [0, 1] scale) added to Y, Cr and Cb; rounded and clipped."""
    ycc = _ycrcb(_check(rgb))
    ycc += rng.normal(0.0, np.sqrt(variance), size=ycc.shape).astype(np.float32)
    return _rgb(ycc)


def gaussian_blur(rgb: np.ndarray, kernel: int, rng=None) -> np.ndarray:
    """cv2.GaussianBlur with a `kernel` x `kernel` window and sigma kernel / 6 (reflected borders)."""
    import cv2

    return cv2.GaussianBlur(_check(rgb), (kernel, kernel), kernel / 6.0)


def pixelate(rgb: np.ndarray, factor: int, rng=None) -> np.ndarray:
    """Down to (H // factor, W // factor) and back up to H x W, bilinear both ways."""
    import cv2

    h, w = _check(rgb).shape[:2]
    small = cv2.resize(rgb, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def jpeg(rgb: np.ndarray, quality: int, rng=None) -> np.ndarray:
    """Encoded as a JPEG of `quality` (libjpeg through OpenCV, 4:2:0 chroma) and decoded."""
    import cv2

    bgr = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"OpenCV could not encode a {rgb.shape} image as JPEG")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def patch_box(height: int, width: int, fraction: float, rng: np.random.Generator) -> tuple[int, int, int]:
    """(top, left, side) of a square of side round(fraction * min(H, W)) at a uniform position inside."""
    side = max(1, int(fraction * min(height, width) + 0.5))
    return int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1)), side


def random_patch(rgb: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """One square (patch_box) filled with one uniform random colour."""
    out = _check(rgb).copy()
    top, left, side = patch_box(out.shape[0], out.shape[1], fraction, rng)
    out[top : top + side, left : left + side] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return out


def video_compression(frames: np.ndarray, crf: int, rng=None) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB crops of one video, in order, through libx264 at constant rate factor `crf`
    (PyAV; 25 fps, yuv420p, preset medium, one thread) and back: (N, H, W, 3) uint8."""
    import av

    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 (N, H, W, 3) RGB frames, got {frames.dtype} {frames.shape}")
    n, h, w = frames.shape[:3]
    padded = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = padded.shape[2], padded.shape[1]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, VC_FPS)
    encoder.thread_count = 1
    encoder.options = {"crf": str(crf), "preset": "medium", "threads": "1"}
    packets = []
    for i, image in enumerate(padded):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    decoded = [f.to_ndarray(format="rgb24") for p in packets for f in decoder.decode(p)]
    decoded += [f.to_ndarray(format="rgb24") for f in decoder.decode(None)]
    if len(decoded) != n:
        raise ValueError(f"libx264 gave back {len(decoded)} frames of {n}")
    return np.stack(decoded)[:, :h, :w]


@dataclass(frozen=True)
class Perturbation:
    """One distortion: its short name (the CLI's), title, parameter name and the parameter at levels 1-5.
    `sequence`: the kernel takes a video's (N, H, W, 3) crops at once (vc); else one (H, W, 3) crop."""

    name: str
    title: str
    parameter: str
    params: tuple
    kernel: Callable
    sequence: bool = False

    def param(self, level: int):
        if level not in LEVELS:
            raise ValueError(f"level {level} is not one of {LEVELS}")
        return self.params[level - 1]


PERTURBATIONS = {
    p.name: p
    for p in (
        Perturbation("cs", "colour saturation", "chroma factor", (0.4, 0.3, 0.2, 0.1, 0.0), color_saturation),
        Perturbation("cc", "colour contrast", "factor", (0.85, 0.725, 0.6, 0.475, 0.35), color_contrast),
        Perturbation("bw", "block-wise", "blocks", (16, 32, 48, 64, 80), block_wise),
        Perturbation(
            "gnc", "Gaussian noise", "variance", (0.001, 0.002, 0.005, 0.01, 0.05), gaussian_noise_color
        ),
        Perturbation("gb", "Gaussian blur", "kernel", (7, 9, 13, 17, 21), gaussian_blur),
        Perturbation("pixel", "pixelation", "factor", (2, 3, 4, 5, 6), pixelate),
        Perturbation("jpeg", "JPEG", "quality", (90, 70, 50, 30, 10), jpeg),
        Perturbation(
            "vc", "video compression", "CRF", (30, 32, 35, 38, 40), video_compression, sequence=True
        ),
        Perturbation("patch", "random patch", "side fraction", (0.1, 0.2, 0.3, 0.4, 0.5), random_patch),
    )
}


def perturb(rgb: np.ndarray, name: str, level: int, rng: np.random.Generator) -> np.ndarray:
    """One crop (H, W, 3) uint8 RGB under perturbation `name` at `level`; vc is refused (perturb_sequence)."""
    p = PERTURBATIONS[name]
    if p.sequence:
        raise ValueError(f"{name} perturbs a video's crop sequence: use perturb_sequence")
    return p.kernel(rgb, p.param(level), rng)


def perturb_sequence(frames: np.ndarray, name: str, level: int, rng: np.random.Generator) -> np.ndarray:
    """A video's crops (N, H, W, 3) uint8 in frame order: vc on the whole sequence, any other crop by crop."""
    p = PERTURBATIONS[name]
    if p.sequence:
        return p.kernel(frames, p.param(level), rng)
    return np.stack([p.kernel(f, p.param(level), rng) for f in frames]) if len(frames) else np.asarray(frames)
