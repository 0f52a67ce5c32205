"""Render the demo's real "videos": a face photograph moving over a background.

The photographs ship inside installed packages (scikit-image's astronaut, matplotlib's Grace
Hopper). Their face box and 5 landmarks (left eye, right eye, nose, left and right mouth corner,
"left" meaning the image's left) were measured once with facenet-pytorch 2.6.0
`MTCNN(device="cpu", keep_all=True).detect(image, landmarks=True)` on the full photograph
(probabilities 0.99999 and 0.9998); generation itself needs no torch.

A frame maps photo coordinates to frame coordinates with a similarity x' = s R(a) (x - c) + p(t),
c the photo's face-box centre: the face box of a frame is p(t) -/+ s (w, h) / 2.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.demo.synth import FrameGeom, similarity
from pipeline.errors import LrlError

WIDTH, HEIGHT, FPS = 640, 480, 25


@dataclass(frozen=True)
class Photo:
    name: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the face, as MTCNN found it
    landmarks: tuple[tuple[float, float], ...]  # 5 points, MTCNN order
    path: str = ""  # an image file (a fetched package face, pipeline.demo.faces); "" for a shipped photograph
    matte: tuple[float, float] = (0.95, 1.0)  # the matte ellipse's half-axes, in face-box widths and heights


PHOTOS = {
    "astronaut": Photo(
        "astronaut",
        (181.1, 62.2, 267.7, 172.1),
        ((205.0, 101.7), (246.8, 103.7), (224.7, 129.0), (201.7, 139.2), (245.3, 141.9)),
    ),
    "grace_hopper": Photo(
        "grace_hopper",
        (174.4, 119.6, 355.6, 340.5),
        ((221.7, 192.2), (309.8, 186.1), (269.4, 239.2), (232.7, 279.6), (306.6, 275.9)),
    ),
}
TEXTURES = ("brick",)  # grass and gravel make MTCNN see faces in the background


@dataclass(frozen=True)
class Wave:
    """amp * sin(2 pi freq t + phase): every motion of the demo is a smooth sum of these."""

    amp: float
    freq: float
    phase: float

    def at(self, t: float) -> float:
        return self.amp * math.sin(2 * math.pi * self.freq * t + self.phase)


@dataclass(frozen=True)
class RealSpec:
    """Everything that defines one real video; sampled once from the seed."""

    video: str
    photo: str | Photo  # a name of PHOTOS, or the record of a photograph read from its file
    flip: bool
    frames: int
    face_width: float  # mean width of the face box in the frame, pixels
    center: tuple[float, float]  # mean face-box centre
    path_x: Wave
    path_y: Wave
    scale: Wave  # relative scale change
    angle: Wave  # degrees
    gain: float  # lighting of the photo layer
    flicker: Wave  # relative lighting change
    tint: tuple[float, float, float]  # per-channel colour gain of the photo layer
    background: str  # "gradient" or a scikit-image texture name
    bg_seed: int


def photo_record(photo: str | Photo) -> Photo:
    return PHOTOS[photo] if isinstance(photo, str) else photo


def sample_spec(rng: np.random.Generator, video: str, photo: str | Photo, frames: int) -> RealSpec:
    """A random real video whose face box stays 90-200 px wide and inside the frame."""
    p = photo_record(photo)
    width = rng.uniform(105, 165)
    s_max = width * 1.08 / (p.box[2] - p.box[0])
    half_w, half_h = s_max * (p.box[2] - p.box[0]) / 2, s_max * (p.box[3] - p.box[1]) / 2
    ax, ay = rng.uniform(15, 60), rng.uniform(8, 30)
    cx = rng.uniform(half_w + ax + 15, WIDTH - half_w - ax - 15)
    cy = rng.uniform(half_h + ay + 10, HEIGHT - half_h - ay - 10)

    def wave(amp_lo, amp_hi, f_lo, f_hi):
        return Wave(rng.uniform(amp_lo, amp_hi), rng.uniform(f_lo, f_hi), rng.uniform(0, 2 * math.pi))

    return RealSpec(
        video=video,
        photo=photo,
        flip=bool(rng.integers(2)),
        frames=frames,
        face_width=width,
        center=(cx, cy),
        path_x=Wave(ax, rng.uniform(0.2, 0.6), rng.uniform(0, 2 * math.pi)),
        path_y=Wave(ay, rng.uniform(0.2, 0.6), rng.uniform(0, 2 * math.pi)),
        scale=wave(0.02, 0.08, 0.2, 0.7),
        angle=wave(0.0, 4.0, 0.2, 0.7),
        gain=rng.uniform(0.8, 1.15),
        flicker=wave(0.0, 0.06, 0.3, 1.5),
        tint=tuple(float(v) for v in rng.uniform(0.9, 1.1, 3)),
        background=str(rng.choice(("gradient",) + TEXTURES)),
        bg_seed=int(rng.integers(2**31)),
    )


@functools.lru_cache(maxsize=8)
def package_image(name: str) -> np.ndarray:
    """An image shipped with scikit-image (read straight from its data folder) or matplotlib; RGB or grey."""
    if name == "grace_hopper":
        import matplotlib.cbook

        path = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    else:
        import skimage.data

        path = Path(skimage.data.__file__).parent / f"{name}.png"
        if not path.is_file():
            return getattr(skimage.data, name)()
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


FACE_PX = (
    220.0  # a photograph read from a file is shrunk (INTER_AREA) until its face box is at most this wide
)


def read_photo(p: Photo) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """(RGB uint8 image, (5, 2) landmarks, face box) of a photograph file: the part around the face (2 face
    widths either side, 1.6 face heights above and 2.2 below), shrunk to at most FACE_PX wide faces."""
    image = cv2.imread(p.path, cv2.IMREAD_COLOR)
    if image is None:
        raise LrlError(f"{p.path}: not a readable image")
    x0, y0, x1, y1 = p.box
    w, h = x1 - x0, y1 - y0
    left, top = max(0, int((x0 + x1) / 2 - 2 * w)), max(0, int(y0 - 1.6 * h))
    image = image[top : int(y1 + 2.2 * h), left : int((x0 + x1) / 2 + 2 * w)]
    scale = min(1.0, FACE_PX / w)
    if scale < 1:
        image = cv2.resize(
            image,
            (round(image.shape[1] * scale), round(image.shape[0] * scale)),
            interpolation=cv2.INTER_AREA,
        )
    shift = np.array([left, top], np.float64)
    marks = (np.array(p.landmarks, np.float64) - shift) * scale
    box = tuple(float(v) for v in ((np.array(p.box).reshape(2, 2) - shift) * scale).ravel())
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), marks, box


@functools.lru_cache(maxsize=8)
def load_photo(
    name: str | Photo, flip: bool
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """(RGB uint8 image, (5, 2) landmarks, face box) of a photograph, mirrored when `flip`."""
    p = photo_record(name)
    if p.path:
        image, marks, box = read_photo(p)
    else:
        image, marks, box = package_image(name), np.array(p.landmarks, dtype=np.float64), p.box
    if flip:
        w = image.shape[1]
        image = np.ascontiguousarray(image[:, ::-1])
        marks[:, 0] = w - 1 - marks[:, 0]
        marks = marks[[1, 0, 2, 4, 3]]  # keep the image-left eye and mouth corner first
        box = (w - 1 - box[2], box[1], w - 1 - box[0], box[3])
    return image, marks, box


@functools.lru_cache(maxsize=8)
def photo_matte(name: str | Photo, flip: bool) -> np.ndarray:
    """Soft elliptical head-and-shoulders matte of a photo, float32 in [0, 1]."""
    image, _, (x0, y0, x1, y1) = load_photo(name, flip)
    w, h = x1 - x0, y1 - y0
    rx, ry = photo_record(name).matte
    matte = np.zeros(image.shape[:2], np.float32)
    centre = (round((x0 + x1) / 2), round((y0 + y1) / 2 + 0.05 * h))
    # no lower: MTCNN takes the astronaut's suit collar for a face
    cv2.ellipse(matte, centre, (round(rx * w), round(ry * h)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(matte, (0, 0), 0.06 * w)


def frame_geom(spec: RealSpec, index: int) -> FrameGeom:
    """The photo -> frame similarity of frame `index` and the face box and landmarks it gives."""
    _, marks, (x0, y0, x1, y1) = load_photo(spec.photo, spec.flip)
    t = index / FPS
    w, h = x1 - x0, y1 - y0
    s = spec.face_width / w * (1 + spec.scale.at(t))
    angle = spec.angle.at(t)
    a = math.radians(angle)
    rot = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    p = np.array([spec.center[0] + spec.path_x.at(t), spec.center[1] + spec.path_y.at(t)])
    shift = p - rot @ np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    matrix = np.hstack([rot, shift[:, None]])
    box = (p[0] - s * w / 2, p[1] - s * h / 2, p[0] + s * w / 2, p[1] + s * h / 2)
    return FrameGeom(tuple(float(v) for v in box), marks @ rot.T + shift, matrix, angle)


def background(spec: RealSpec) -> np.ndarray:
    """A static float32 RGB background: a gradient with soft noise and shapes, or a tinted texture."""
    rng = np.random.default_rng(spec.bg_seed)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    d = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(d) + yy * math.sin(d)) / (WIDTH + HEIGHT) + 0.5
    c1, c2 = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
    bg = c1 + ramp[..., None] * (c2 - c1)
    if spec.background != "gradient":
        tex = package_image(spec.background).astype(np.float32)
        tex = cv2.resize(tex, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
        bg = 0.45 * bg + 0.55 * tex[..., None] * rng.uniform(0.6, 1.2, 3)
    noise = cv2.resize(
        rng.normal(0, 25, (6, 8, 3)).astype(np.float32), (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC
    )
    bg = bg + noise
    for _ in range(rng.integers(3, 8)):
        layer = bg.copy()
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        size = int(rng.integers(20, 160))
        if rng.integers(2):
            cv2.circle(layer, (x, y), size, colour, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(layer, (x, y), (x + size, y + int(rng.integers(20, 160))), colour, -1, cv2.LINE_AA)
        bg = 0.4 * bg + 0.6 * layer
    bg = cv2.GaussianBlur(bg.astype(np.float32), (0, 0), 1.2)
    return np.clip(bg + rng.normal(0, 2.0, bg.shape), 0, 255).astype(np.float32)


def render_frame(spec: RealSpec, geom: FrameGeom, bg: np.ndarray, index: int) -> np.ndarray:
    """One uint8 RGB frame: the lit, tinted photo composited over `bg` with its matte."""
    image, _, _ = load_photo(spec.photo, spec.flip)
    matte = photo_matte(spec.photo, spec.flip)
    size = (WIDTH, HEIGHT)
    fg = cv2.warpAffine(image, geom.matrix, size, flags=cv2.INTER_LINEAR).astype(np.float32)
    alpha = cv2.warpAffine(matte, geom.matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    light = spec.gain * (1 + spec.flicker.at(index / FPS)) * np.array(spec.tint, np.float32)
    frame = bg + alpha * (fg * light - bg)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def render_video(spec: RealSpec) -> tuple[list[np.ndarray], list[FrameGeom]]:
    """All frames of a real video and the face geometry of each."""
    bg = background(spec)
    geoms = [frame_geom(spec, i) for i in range(spec.frames)]
    return [render_frame(spec, g, bg, i) for i, g in enumerate(geoms)], geoms


@functools.lru_cache(maxsize=4)
def _lit_photo(spec: RealSpec) -> np.ndarray:
    image, _, _ = load_photo(spec.photo, spec.flip)
    light = spec.gain * np.array(spec.tint, np.float32)
    return np.clip(np.rint(image.astype(np.float32) * light), 0, 255).astype(np.uint8)


def donor_face(donor: RealSpec, target: FrameGeom) -> np.ndarray:
    """The donor's photo (with the donor's colours) warped so its landmarks meet the target's."""
    _, marks, _ = load_photo(donor.photo, donor.flip)
    matrix = similarity(marks, target.landmarks)
    return cv2.warpAffine(_lit_photo(donor), matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
