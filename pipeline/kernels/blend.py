"""Blended forgeries (pure): a face blended into a real frame through a soft mask, with the mask.

Two recipes, both `forged = M * source + (1 - M) * target` per pixel (Face X-ray eq. 1), M in [0, 1]:

- Self-blend (Shiohara and Yamasaki, CVPR 2022, "SBI"): the source is the target frame itself after a
  colour jitter, a frequency change and a small shift and scale (`SelfBlendParams`, every range there).
- Swap (Li et al., CVPR 2020, "Face X-ray"): the source is another identity's frame, aligned onto the
  target by the similarity transform of the five landmarks and colour-matched in Lab (mean and standard
  deviation per channel inside the mask, Reinhard's transfer).

The mask. MTCNN gives a face box and five points (eyes, nose tip, mouth corners), not the 68 or 81
points whose convex hull the papers blend through. The region built here is the ellipse inscribed in
the MTCNN box, rotated to the eye line, united with the convex hull of the five points: MTCNN's box
spans brows to chin and cheek to cheek (as the 68-point hull of Face X-ray does), an ellipse is the
face's outline without the box's corners (background, hair), and the hull keeps eyes, nose and mouth
inside when a turned head moves the points off the box centre. It is drawn in a face-aligned patch
(PATCH px, the face box about half its side, the eye line horizontal), so every deformation and blur
below is relative to the face, not to the video's resolution, then deformed and softened as SBI's
`get_blend_mask` does (`MaskParams`) and warped back into the frame.

What a caller draws once per video (`draw_self_blend`, `draw_swap`, from an np.random.Generator) is
applied to every frame, so a fake does not flicker; only the face geometry changes from frame to frame.
Where the papers draw per image, this is the reading chosen for videos.

Shapes: frames (H, W, 3) uint8 RGB; a `Face` holds box (4,) x0, y0, x1, y1 and landmarks (5, 2) x, y in
frame pixels (MTCNN's order: image-left eye, image-right eye, nose, image-left and image-right mouth corner).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.kernels.crop import TEMPLATE_112

PATCH = 256  # side of the face-aligned patch the mask is built in, pixels
PATCH_SPAN = 2.0  # the patch covers PATCH_SPAN x the face box's longer side
# a blend changes pixels within ROI_SPAN x the box's longer side of its centre (>= PATCH_SPAN / sqrt 2)
ROI_SPAN = 1.5
BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # SBI's dynamic_blend: M is scaled by one of these


@dataclass(frozen=True)
class Face:
    """A face in one frame: MTCNN box (x0, y0, x1, y1) and five landmarks ((5, 2) x, y), frame pixels."""

    box: np.ndarray
    landmarks: np.ndarray

    @classmethod
    def of(cls, box, landmarks) -> "Face":
        return cls(np.asarray(box, np.float64).reshape(4), np.asarray(landmarks, np.float64).reshape(5, 2))


@dataclass(frozen=True)
class MaskParams:
    """How the region is deformed and softened (SBI's `randaffine` mask part and `get_blend_mask`).

    - shift (dx, dy) and scale: the source and the mask move together (SBI's Affine, translate x in
      [-0.03, 0.03] and y in [-0.015, 0.015] of the face box's side, scale in [0.95, 1 / 0.95]);
    - displacement (PATCH, PATCH, 2): an elastic field, uniform noise in [-1, 1] blurred with a Gaussian of
      sigma 7 x PATCH / 380 and scaled by 50 x PATCH / 380 pixels (SBI's ElasticTransform alpha 50, sigma 7
      on its 380-px crops, scaled to this patch);
    - resized (w, h) in [192, 256]^2: the mask is blurred at that size, so the blur is anisotropic (SBI);
    - kernel1 in {5, 7, ..., 25}: a first Gaussian blur whose values under 1 are cut, eroding the region;
    - kernel2 in {5, 7, ..., 25} with sigma2 in [5, 45]: the second blur that makes the soft edge
      (OpenCV truncates the Gaussian at the kernel, so the edge is at most kernel2 patch pixels wide).
    """

    shift: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    displacement: np.ndarray | None = field(default=None, repr=False)
    resized: tuple[int, int] = (PATCH, PATCH)
    kernel1: int = 15
    kernel2: int = 15
    sigma2: float = 10.0


@dataclass(frozen=True)
class SelfBlendParams:
    """SBI's source-target augmentation, drawn once per video (`draw_self_blend`); all zero: the identity.

    - rgb_shift (3,): levels added per channel, each in [-20, 20], drawn with probability 0.3 (else 0);
    - hue in [-5, 5] degrees, saturation and value in [-0.1, 0.1] of full scale (SBI lists +-0.3 in
      albumentations' HueSaturationValue, which on uint8 images is under a degree and under one level;
      these ranges are the reading chosen so the jitter is visible yet subtle);
    - brightness in [-0.1, 0.1] of full scale, contrast in [-0.1, 0.1] (x (1 + contrast)), as SBI;
    - frequency: "downscale" (by factor 2 or 4, nearest down then bilinear up) or "sharpen" (alpha in
      [0.2, 0.5], lightness in [0.5, 1]), one of the two with probability 1/2 each (SBI); "none" for tests;
    - ratio: M is scaled by one of BLEND_RATIOS (SBI's dynamic_blend).
    """

    rgb_shift: tuple[float, float, float] = (0.0, 0.0, 0.0)
    hue: float = 0.0
    saturation: float = 0.0
    value: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    frequency: str = "none"
    downscale: int = 2
    sharpen_alpha: float = 0.0
    sharpen_lightness: float = 1.0
    ratio: float = 1.0
    mask: MaskParams = MaskParams()


@dataclass(frozen=True)
class SwapParams:
    """Face X-ray's blend: the region deformed and softened as for self-blends, no blend ratio
    (M peaks at 1)."""

    mask: MaskParams = MaskParams()
    color_match: bool = True


@dataclass(frozen=True)
class Blended:
    """A forged frame (H, W, 3) uint8; alpha (H, W) float32 in [0, 1], the M blended with; region (H, W)
    float32 in [0, 1], the deformed soft face region before the blend ratio (alpha = ratio x region)."""

    frame: np.ndarray
    alpha: np.ndarray
    region: np.ndarray


# ---------------------------------------------------------------- drawing the per-video parameters


def draw_mask(rng: np.random.Generator) -> MaskParams:
    """The mask deformation of one video (ranges: MaskParams)."""
    import cv2

    sigma, alpha = 7 * PATCH / 380, 50 * PATCH / 380
    noise = rng.uniform(-1, 1, (PATCH, PATCH, 2)).astype(np.float32)
    displacement = cv2.GaussianBlur(noise, (0, 0), sigma) * alpha
    return MaskParams(
        shift=(float(rng.uniform(-0.03, 0.03)), float(rng.uniform(-0.015, 0.015))),
        scale=float(rng.uniform(0.95, 1 / 0.95)),
        displacement=displacement,
        resized=(int(rng.integers(192, 257)), int(rng.integers(192, 257))),
        kernel1=int(rng.choice(np.arange(5, 26, 2))),
        kernel2=int(rng.choice(np.arange(5, 26, 2))),
        sigma2=float(rng.integers(5, 46)),
    )


def draw_self_blend(rng: np.random.Generator) -> SelfBlendParams:
    """SBI's jitters for one video (ranges: SelfBlendParams)."""
    shift = tuple(float(v) for v in rng.uniform(-20, 20, 3)) if rng.random() < 0.3 else (0.0, 0.0, 0.0)
    sharpen = rng.random() < 0.5
    return SelfBlendParams(
        rgb_shift=shift,
        hue=float(rng.uniform(-5, 5)),
        saturation=float(rng.uniform(-0.1, 0.1)),
        value=float(rng.uniform(-0.1, 0.1)),
        brightness=float(rng.uniform(-0.1, 0.1)),
        contrast=float(rng.uniform(-0.1, 0.1)),
        frequency="sharpen" if sharpen else "downscale",
        downscale=int(rng.choice([2, 4])),
        sharpen_alpha=float(rng.uniform(0.2, 0.5)),
        sharpen_lightness=float(rng.uniform(0.5, 1.0)),
        ratio=float(rng.choice(BLEND_RATIOS)),
        mask=draw_mask(rng),
    )


def draw_swap(rng: np.random.Generator) -> SwapParams:
    """Face X-ray's blend for one video: the mask deformation only."""
    return SwapParams(mask=draw_mask(rng))


# ---------------------------------------------------------------- geometry


def _h(matrix: np.ndarray) -> np.ndarray:
    """A 2x3 affine matrix as 3x3."""
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def patch_matrix(face: Face) -> np.ndarray:
    """(2, 3) frame -> patch similarity: the box centre to the patch centre, the eye line horizontal,
    the box's longer side to PATCH / PATCH_SPAN pixels."""
    x0, y0, x1, y1 = face.box
    (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
    angle = np.arctan2(ry - ly, rx - lx)
    s = PATCH / (PATCH_SPAN * max(x1 - x0, y1 - y0, 1.0))
    c, d = s * np.cos(-angle), s * np.sin(-angle)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = (PATCH - 1) / 2
    return np.array([[c, -d, half - c * cx + d * cy], [d, c, half - d * cx - c * cy]])


def shift_scale_matrix(face: Face, mask: MaskParams) -> np.ndarray:
    """(2, 3) frame -> frame map of SBI's Affine: scale about the box centre, shift by a fraction of its
    side."""
    x0, y0, x1, y1 = face.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    s, (fx, fy) = mask.scale, mask.shift
    return np.array([[s, 0.0, cx - s * cx + fx * (x1 - x0)], [0.0, s, cy - s * cy + fy * (y1 - y0)]])


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity (rotation, uniform scale, shift) taking points src (N, 2) to dst
    (Umeyama)."""
    from skimage.transform import SimilarityTransform

    tf = (
        SimilarityTransform.from_estimate(src, dst) if hasattr(SimilarityTransform, "from_estimate") else None
    )
    if tf is None:
        tf = SimilarityTransform()
        tf.estimate(src, dst)
    return np.asarray(tf.params[:2], np.float64)


def landmark_shape(landmarks) -> np.ndarray:
    """(10,) the five landmarks aligned by similarity onto ArcFace's 112-px template: a face's pose and
    proportions without its position and size (what the swap's nearest-landmark search compares)."""
    points = np.asarray(landmarks, np.float64).reshape(5, 2)
    matrix = similarity(points, TEMPLATE_112)
    return (points @ matrix[:, :2].T + matrix[:, 2]).reshape(10)


# ---------------------------------------------------------------- the mask


def hard_region(face: Face, mask: MaskParams) -> np.ndarray:
    """(PATCH, PATCH) float32 0/1 in the patch: the box's inscribed ellipse united with the landmarks' hull,
    moved by the mask's shift and scale (as the source is)."""
    import cv2

    to_patch = _h(patch_matrix(face)) @ _h(shift_scale_matrix(face, mask))
    x0, y0, x1, y1 = face.box
    centre = to_patch[:2] @ [(x0 + x1) / 2, (y0 + y1) / 2, 1.0]
    scale = float(np.sqrt(abs(np.linalg.det(to_patch[:2, :2]))))
    axes = (max(1, round(scale * (x1 - x0) / 2)), max(1, round(scale * (y1 - y0) / 2)))
    region = np.zeros((PATCH, PATCH), np.uint8)
    cv2.ellipse(region, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, 1, -1)
    points = face.landmarks @ to_patch[:2, :2].T + to_patch[:2, 2]
    cv2.fillConvexPoly(region, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return region.astype(np.float32)


def soften(region: np.ndarray, mask: MaskParams) -> np.ndarray:
    """SBI's elastic deformation and two blurs of a 0/1 patch; float32 in [0, 1] with peak 1 (or all 0)."""
    import cv2

    if mask.displacement is not None:
        grid = np.mgrid[0:PATCH, 0:PATCH][::-1].astype(np.float32)
        map_x, map_y = grid[0] + mask.displacement[..., 0], grid[1] + mask.displacement[..., 1]
        region = cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    small = cv2.resize(region, mask.resized, interpolation=cv2.INTER_LINEAR)
    small = _peak_one(cv2.GaussianBlur(small, (mask.kernel1, mask.kernel1), 0))
    small[small < 1] = 0  # SBI: keep only where the first blur saw the region all around (an erosion)
    small = _peak_one(cv2.GaussianBlur(small, (mask.kernel2, mask.kernel2), mask.sigma2))
    return np.clip(cv2.resize(small, (PATCH, PATCH), interpolation=cv2.INTER_LINEAR), 0, 1)


def _peak_one(values: np.ndarray) -> np.ndarray:
    peak = float(values.max())
    return values / peak if peak > 0 else values


def face_region(face: Face, mask: MaskParams, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the deformed, softened face region in frame pixels (0 outside its
    support)."""
    import cv2

    soft = soften(hard_region(face, mask), mask)
    height, width = shape
    return cv2.warpAffine(
        soft,
        patch_matrix(face),
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=0,
    )


def boundary(alpha: np.ndarray) -> np.ndarray:
    """Face X-ray's blending boundary B = 4 M (1 - M) (eq. 2), same shape, in [0, 1]."""
    return 4 * alpha * (1 - alpha)


# ---------------------------------------------------------------- sources


def jitter(image: np.ndarray, p: SelfBlendParams) -> np.ndarray:
    """SBI's colour and frequency jitters of an (H, W, 3) uint8 RGB image; the identity when all are zero."""
    import cv2

    out = image.astype(np.float32)
    if any(p.rgb_shift):
        out = out + np.asarray(p.rgb_shift, np.float32)
    if p.hue or p.saturation or p.value:
        hsv = cv2.cvtColor(
            np.clip(out, 0, 255) / 255, cv2.COLOR_RGB2HSV
        )  # float: H in [0, 360), S, V in [0, 1]
        hsv[..., 0] = (hsv[..., 0] + p.hue) % 360
        hsv[..., 1] = np.clip(hsv[..., 1] + p.saturation, 0, 1)
        hsv[..., 2] = np.clip(hsv[..., 2] + p.value, 0, 1)
        out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255
    if p.brightness or p.contrast:
        out = out * (1 + p.contrast) + 255 * p.brightness
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    if p.frequency == "downscale":
        h, w = out.shape[:2]
        small = cv2.resize(
            out, (max(1, w // p.downscale), max(1, h // p.downscale)), interpolation=cv2.INTER_NEAREST
        )
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    elif p.frequency == "sharpen":
        kernel = -np.ones((3, 3), np.float32)
        kernel[1, 1] = 8 + p.sharpen_lightness
        kernel = (1 - p.sharpen_alpha) * _identity3() + p.sharpen_alpha * kernel
        out = cv2.filter2D(out, -1, kernel)
    return out


def _identity3() -> np.ndarray:
    k = np.zeros((3, 3), np.float32)
    k[1, 1] = 1
    return k


def support(weight: np.ndarray) -> tuple[slice, slice]:
    """(rows, columns) of the bounding box of weight > 0 (empty slices when there is none)."""
    import cv2

    x, y, w, h = cv2.boundingRect((weight > 0).astype(np.uint8))
    return slice(y, y + h), slice(x, x + w)


def color_match(source: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """`source` (H, W, 3) uint8 RGB with its Lab mean and standard deviation per channel, taken where
    `weight` (H, W) > 0, moved onto the target's there (Reinhard et al. 2001, as Face X-ray's colour
    correction); only the bounding box of weight > 0 is transformed (the rest is never blended)."""
    import cv2

    box = support(weight)
    inside = weight[box] > 0
    if not inside.any():
        return source
    src = cv2.cvtColor(source[box].astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    tgt = cv2.cvtColor(target[box].astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    s_mean, s_std = src[inside].mean(0), src[inside].std(0) + 1e-6
    t_mean, t_std = tgt[inside].mean(0), tgt[inside].std(0)
    matched = (src - s_mean) / s_std * t_std + t_mean
    rgb = cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_Lab2RGB)
    out = source.copy()
    out[box] = np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)
    return out


# ---------------------------------------------------------------- the two recipes


def blend(source: np.ndarray, target: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """M * source + (1 - M) * target, rounded to uint8; where M == 0 the target's pixel exactly (eq. 1)."""
    box = support(alpha)
    a = alpha[box][..., None]
    mixed = np.round(a * source[box].astype(np.float32) + (1 - a) * target[box].astype(np.float32))
    out = target.copy()
    out[box] = np.where(a > 0, np.clip(mixed, 0, 255).astype(np.uint8), target[box])
    return out


def roi(face: Face, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the frame window that holds every pixel a blend on `face` can change: the box centre
    +- ROI_SPAN x its longer side (the patch, rotated, reaches PATCH_SPAN / sqrt(2) x the side), clipped."""
    x0, y0, x1, y1 = face.box
    half = ROI_SPAN * max(x1 - x0, y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = shape
    return (
        max(0, int(cx - half)),
        max(0, int(cy - half)),
        min(width, int(np.ceil(cx + half)) + 1),
        min(height, int(np.ceil(cy + half)) + 1),
    )


def moved(face: Face, dx: float, dy: float) -> Face:
    """The face in a window whose top-left corner is (-dx, -dy) in the frame."""
    return Face(face.box + [dx, dy, dx, dy], face.landmarks + [dx, dy])


def _in_window(frame: np.ndarray, face: Face, make) -> Blended:
    """make(window, face in it) -> Blended, run on the window `roi` and pasted back into the whole frame."""
    x0, y0, x1, y1 = roi(face, frame.shape[:2])
    done = make(np.ascontiguousarray(frame[y0:y1, x0:x1]), moved(face, -x0, -y0))
    out, alpha, region = (
        frame.copy(),
        np.zeros(frame.shape[:2], np.float32),
        np.zeros(frame.shape[:2], np.float32),
    )
    out[y0:y1, x0:x1], alpha[y0:y1, x0:x1], region[y0:y1, x0:x1] = done.frame, done.alpha, done.region
    return Blended(out, alpha, region)


def self_blend(frame: np.ndarray, face: Face, params: SelfBlendParams) -> Blended:
    """SBI on one frame: the frame jittered, shifted and scaled, blended into itself through the region
    scaled by params.ratio. Every jitter zero (SelfBlendParams()): the frame itself. Computed in the window
    `roi` around the face (jitters included: a downscale's pixel grid starts at the window's corner)."""
    return _in_window(frame, face, lambda window, local: _self_blend(window, local, params))


def _self_blend(frame: np.ndarray, face: Face, params: SelfBlendParams) -> Blended:
    import cv2

    height, width = frame.shape[:2]
    shifted = shift_scale_matrix(face, params.mask)
    source = cv2.warpAffine(
        jitter(frame, params), shifted, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    region = face_region(face, params.mask, (height, width))
    alpha = (region * np.float32(params.ratio)).astype(np.float32)
    return Blended(blend(source, frame, alpha), alpha, region)


def aligned_source(
    source: np.ndarray, source_face: Face, face: Face, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The source frame warped so its landmarks land on `face`'s (least-squares similarity), and (H, W)
    float32 1 where the warped source has pixels, 0 where it fell outside its frame."""
    import cv2

    height, width = shape
    matrix = similarity(source_face.landmarks, face.landmarks)
    warped = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    ones = np.ones(source.shape[:2], np.float32)
    valid = cv2.warpAffine(ones, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
    return warped, valid


def swap(frame: np.ndarray, face: Face, source: np.ndarray, source_face: Face, params: SwapParams) -> Blended:
    """Face X-ray on one frame: another identity's face aligned by the five landmarks, colour-matched in Lab
    inside the region, blended into `frame` through the region (the source's own shift and scale are not
    applied: the similarity alignment places it). Computed in the window `roi` around the face."""
    return _in_window(frame, face, lambda window, local: _swap(window, local, source, source_face, params))


def _swap(
    frame: np.ndarray, face: Face, source: np.ndarray, source_face: Face, params: SwapParams
) -> Blended:
    height, width = frame.shape[:2]
    warped, valid = aligned_source(source, source_face, face, (height, width))
    mask = replace(params.mask, shift=(0.0, 0.0), scale=1.0)
    region = face_region(face, mask, (height, width)) * valid
    if params.color_match:
        warped = color_match(warped, frame, region)
    return Blended(blend(warped, frame, region), region, region)
