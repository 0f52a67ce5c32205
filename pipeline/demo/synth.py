"""Forgery synthesis for the demo: four pure functions imitating the FF++ methods' footprints.

Each takes a real uint8 RGB frame, the face geometry of that frame, the donor's face already
aligned to it (used by the identity swaps) and an expression `amount` in [0, 1] (used by the
re-enactments), and returns the fake frame and the region it meant to change (nothing outside
that region changes):

    Deepfakes       donor face squeezed through a 64x64 "autoencoder" bottleneck, Poisson-blended
                    (cv2.seamlessClone) into an ellipse over the face, then drifted in colour (+-70
                    levels) and held at least 46 levels per channel off the target up to the ellipse's
                    hard edge (the colour mismatch a swap leaves at its seam): one strong compact blob
    FaceSwap        donor face re-synthesised at 1/5 resolution, its mean colour moved half-way to
                    the target's, alpha-blended over the landmark hull (brows to chin)
    Face2Face       the target's own eyes and mouth warped into another expression and re-shaded
    NeuralTextures  the target's mouth region re-rendered: smoothed, darkened, lips recoloured,
                    mouth opened, with a 4-pixel rendering texture; the square reaches below the mouth
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FrameGeom:
    """Where the face is in one frame."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    landmarks: np.ndarray  # (5, 2): left eye, right eye, nose, left / right mouth corner
    matrix: np.ndarray  # (2, 3) photo -> frame
    angle: float  # degrees

    @property
    def size(self) -> tuple[float, float]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    @property
    def center(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The (2, 3) rotation + uniform scale + shift mapping src points closest to dst (Umeyama 1991)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    e = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    rot = u @ e @ vt
    scale = np.trace(np.diag(sig) @ e) / (s**2).sum(1).mean()
    return np.hstack([scale * rot, (mu_d - scale * rot @ mu_s)[:, None]])


def window(xx: np.ndarray, yy: np.ndarray, centre, radii) -> np.ndarray:
    """cos^2 bump: 1 at `centre`, falling smoothly to exactly 0 on the ellipse of `radii`."""
    r = np.sqrt(((xx - centre[0]) / radii[0]) ** 2 + ((yy - centre[1]) / radii[1]) ** 2)
    return np.where(r < 1, np.cos(np.minimum(r, 1) * math.pi / 2) ** 2, 0).astype(np.float32)


def _roi(shape, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
    h, w = shape[:2]
    ys = slice(max(int(math.floor(y0)), 0), min(int(math.ceil(y1)) + 1, h))
    xs = slice(max(int(math.floor(x0)), 0), min(int(math.ceil(x1)) + 1, w))
    return ys, xs


def _grid(roi: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = roi
    return np.meshgrid(
        np.arange(xs.start, xs.stop, dtype=np.float32), np.arange(ys.start, ys.stop, dtype=np.float32)
    )


def _paste(real: np.ndarray, roi, render: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """real with `render` alpha-blended into `roi`, and the full-frame region where alpha > 0."""
    fake = real.copy()
    a = alpha[..., None]
    base = real[roi].astype(np.float32)
    fake[roi] = np.clip(np.rint(base + a * (render - base)), 0, 255).astype(np.uint8)
    region = np.zeros(real.shape[:2], bool)
    region[roi] = alpha > 0
    return fake, region


def _mouth(marks: np.ndarray) -> tuple[np.ndarray, float]:
    return (marks[3] + marks[4]) / 2, float(np.linalg.norm(marks[4] - marks[3]))


def face_hull(marks: np.ndarray) -> np.ndarray:
    """A convex polygon from the brows to the chin, built from the 5 landmarks."""
    eyes = (marks[0] + marks[1]) / 2
    mouth, _ = _mouth(marks)
    up, across = eyes - mouth, marks[1] - marks[0]
    points = [
        marks[0] + 0.55 * up - 0.2 * across,
        marks[1] + 0.55 * up + 0.2 * across,
        marks[0] - 0.45 * across,
        marks[1] + 0.45 * across,
        marks[3] - 0.3 * across - 0.25 * up,
        marks[4] + 0.3 * across - 0.25 * up,
        mouth - 0.7 * up,
    ]
    return cv2.convexHull(np.rint(points).astype(np.int32))


DF_DRIFT = 70 * np.array([1.0, 0.85, 0.7], np.float32)  # the autoencoder's colour drift, R G B levels
DF_FLOOR = 46.0  # least change of every channel inside the ellipse (grey 0.18 of the range)


def deepfakes(
    real: np.ndarray, geom: FrameGeom, donor: np.ndarray, amount: float
) -> tuple[np.ndarray, np.ndarray]:
    """Donor face through a 64x64 bottleneck, Poisson-blended over an ellipse, drifted, hard-edged."""
    (cx, cy), (w, h) = geom.center, geom.size
    centre, axes = (round(cx), round(cy + 0.06 * h)), (round(0.40 * w), round(0.47 * h))
    region = np.zeros(real.shape[:2], np.uint8)
    cv2.ellipse(region, centre, axes, geom.angle, 0, 360, 255, -1)
    x, y, rw, rh = cv2.boundingRect(region)
    src = donor.copy()
    small = cv2.resize(src[y : y + rh, x : x + rw], (64, 64), interpolation=cv2.INTER_AREA)
    src[y : y + rh, x : x + rw] = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_CUBIC)
    blended = cv2.seamlessClone(src, real, region.copy(), (x + rw // 2, y + rh // 2), cv2.NORMAL_CLONE)
    roi = (slice(y, y + rh), slice(x, x + rw))
    face, base, inside = blended[roi].astype(np.float32), real[roi].astype(np.float32), region[roi] > 0
    # drifted lighter or darker, never closer to the target than the floor (continuous: a max / min)
    options = [np.maximum(face + DF_DRIFT, base + DF_FLOOR), np.minimum(face - DF_DRIFT, base - DF_FLOOR)]
    options = [np.clip(np.rint(f), 0, 255) for f in options]
    # the direction that clips fewer pixels short of the floor
    drifted = max(options, key=lambda f: int((np.abs(f - base) >= DF_FLOOR).all(-1)[inside].sum()))
    fake = real.copy()
    fake[roi][inside] = drifted.astype(np.uint8)[
        inside
    ]  # Poisson also nudges the rectangle: keep the ellipse
    return fake, region > 0


def faceswap(
    real: np.ndarray, geom: FrameGeom, donor: np.ndarray, amount: float
) -> tuple[np.ndarray, np.ndarray]:
    """Donor face at 1/5 resolution, its mean colour half-way to the target's, blended over the landmark
    hull."""
    hull = np.zeros(real.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, face_hull(geom.landmarks), 255)
    x, y, rw, rh = cv2.boundingRect(hull)
    roi = _roi(real.shape, x - 5, y - 5, x + rw + 4, y + rh + 4)
    src = donor[roi]
    size = (src.shape[1], src.shape[0])
    low = cv2.resize(src, (size[0] // 5, size[1] // 5), interpolation=cv2.INTER_AREA)
    low = cv2.resize(low, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    inside = hull[roi] > 0
    target = real[roi][inside].astype(np.float32)
    mu_s, mu_t = low[inside].mean(0), target.mean(0)
    low = low - mu_s + (mu_s + mu_t) / 2  # colour transfer half-way to the target (Reinhard, means only)
    alpha = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 1.5)
    return _paste(real, roi, low, np.where(alpha > 1e-3, alpha, 0))


def face2face(
    real: np.ndarray, geom: FrameGeom, donor: np.ndarray, amount: float
) -> tuple[np.ndarray, np.ndarray]:
    """The target's eyes and mouth warped (mouth opened and widened, brows raised), then re-shaded."""
    marks = geom.landmarks
    mouth, mw = _mouth(marks)
    iod = float(np.linalg.norm(marks[1] - marks[0]))
    w, h = geom.size
    roi = _roi(
        real.shape, geom.box[0] - 0.1 * w, geom.box[1] - 0.1 * h, geom.box[2] + 0.1 * w, geom.box[3] + 0.1 * h
    )
    xx, yy = _grid(roi)
    wm = window(xx, yy, mouth, (0.95 * mw, 0.75 * mw))
    dy = amount * 0.20 * mw * wm * np.tanh((yy - mouth[1]) / (0.12 * mw))
    dx = amount * 0.12 * mw * wm * (xx - mouth[0]) / (0.95 * mw)
    support = wm
    for eye in marks[:2]:
        we = window(xx, yy, eye, (0.42 * iod, 0.35 * iod))
        dy = dy - amount * 0.10 * iod * we
        support = np.maximum(support, we)
    map_x = (xx - roi[1].start - dx).astype(np.float32)
    map_y = (yy - roi[0].start - dy).astype(np.float32)
    warped = cv2.remap(real[roi], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    shaded = warped.astype(np.float32) * (1 + (0.15 + 0.25 * amount) * np.minimum(1, 3 * support)[..., None])
    return _paste(real, roi, shaded, (support > 0).astype(np.float32))


def neural_textures(
    real: np.ndarray, geom: FrameGeom, donor: np.ndarray, amount: float
) -> tuple[np.ndarray, np.ndarray]:
    """The mouth square re-rendered: smoothed, darkened, lips reddened, mouth opened by `amount`, 4-px
    texture."""
    mouth, mw = _mouth(geom.landmarks)
    cx, cy, hx, hy, feather = mouth[0], mouth[1] + 0.3 * mw, 0.85 * mw, 0.75 * mw, 0.2 * mw
    roi = _roi(real.shape, cx - hx, cy - hy, cx + hx, cy + hy)
    xx, yy = _grid(roi)
    ax = np.clip((hx - np.abs(xx - cx)) / feather, 0, 1)
    ay = np.clip((hy - np.abs(yy - cy)) / feather, 0, 1)
    alpha = (ax * ax * (3 - 2 * ax)) * (ay * ay * (3 - 2 * ay))  # smoothstep edges
    render = cv2.GaussianBlur(real[roi].astype(np.float32), (0, 0), 1.6) * 0.75
    opening = window(xx, yy, mouth, (0.45 * mw, (0.08 + 0.16 * amount) * mw))
    render *= 1 - 0.75 * np.sqrt(opening)[..., None]
    lips = window(xx, yy, mouth, (0.6 * mw, 0.3 * mw))
    render += np.stack([30 * lips, -10 * lips, -10 * lips], -1)
    render += (8 * np.cos(math.pi * (xx - mouth[0]) / 2) * np.cos(math.pi * (yy - mouth[1]) / 2))[..., None]
    return _paste(real, roi, render, alpha)


FORGERIES = {
    "Deepfakes": deepfakes,
    "Face2Face": face2face,
    "FaceSwap": faceswap,
    "NeuralTextures": neural_textures,
}
SWAPS = ("Deepfakes", "FaceSwap")  # the methods that use the donor's face


def change_mask(real: np.ndarray, fake: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Ground truth: every pixel where fake != real (any channel), united with the intended region."""
    ne = real != fake
    return ne[..., 0] | ne[..., 1] | ne[..., 2] | region
