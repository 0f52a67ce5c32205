"""Face crop transforms (pure): the FF++ square crop, or a 5-landmark similarity alignment.

A transform is a 2x3 affine matrix mapping full-frame pixel coordinates to crop pixel coordinates
(pixel centres at integers, as `cv2.warpAffine` takes them). A crop depends only on the face box
and landmarks, so a fake frame and its real frame, sharing those, get the identical crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.params import CropParams

# ArcFace's 5-point template (eyes, nose tip, mouth corners) on a 112 x 112 face, taken as the face box.
TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)


@dataclass(frozen=True)
class Crop:
    """How one frame is cropped: a square window (x0, y0, side) resized, or an aligning warp."""

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]
    window: tuple[int, int, int] | None  # square crops only

    def as_list(self) -> list[list[float]]:
        return [list(row) for row in self.matrix]


def square_window(box, width: int, height: int, margin: float) -> tuple[int, int, int]:
    """FF++ crop window: side margin x max(w, h) centred on the box, shifted (not shrunk) into the frame.

    Along an axis shorter than the side, the window covers the whole axis, as centred as it can be.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(1, round(margin * max(x1 - x0, y1 - y0)))
    left = round((x0 + x1) / 2 - side / 2)
    top = round((y0 + y1) / 2 - side / 2)
    left = min(max(left, min(0, width - side)), max(0, width - side))
    top = min(max(top, min(0, height - side)), max(0, height - side))
    return int(left), int(top), int(side)


def window_matrix(window: tuple[int, int, int], size: int) -> np.ndarray:
    """Affine map of a square window resized to size x size (cv2.resize's pixel-centre convention)."""
    x0, y0, side = window
    s = size / side
    return np.array([[s, 0.0, s * (0.5 - x0) - 0.5], [0.0, s, s * (0.5 - y0) - 0.5]])


def template(size: int, margin: float) -> np.ndarray:
    """The landmark template in crop pixels: the 112-px face box centred in a window margin times larger."""
    return (TEMPLATE_112 / 112 + (margin - 1) / 2) / margin * size


def align_matrix(landmarks, size: int, margin: float) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) taking the 5 landmarks onto the template."""
    from skimage.transform import SimilarityTransform

    tform = SimilarityTransform.from_estimate(np.asarray(landmarks, float), template(size, margin))
    if not tform:
        raise ValueError("degenerate landmarks: no similarity transform")
    return tform.params[:2]


def plan_crop(box, landmarks, width: int, height: int, params: CropParams) -> Crop:
    """The crop of one frame from its face box and landmarks."""
    if params.align:
        m = align_matrix(landmarks, params.size, params.margin)
        return Crop(_tuple(m), None)
    window = square_window(box, width, height, params.margin)
    return Crop(_tuple(window_matrix(window, params.size)), window)


def _tuple(m: np.ndarray):
    return tuple(tuple(float(v) for v in row) for row in m)


def apply_crop(frame: np.ndarray, crop: Crop, size: int) -> np.ndarray:
    """Cut and resize (area interpolation) a square window, or warp (bilinear) for an aligned crop.

    Parts of the window outside the frame are black.
    """
    import cv2

    if crop.window is None:
        return cv2.warpAffine(
            frame,
            np.array(crop.matrix),
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
    return cv2.resize(cut_window(frame, crop.window), (size, size), interpolation=cv2.INTER_AREA)


def cut_window(frame: np.ndarray, window: tuple[int, int, int]) -> np.ndarray:
    """The side x side window at (x0, y0), zero-padded where it leaves the frame."""
    x0, y0, side = window
    h, w = frame.shape[:2]
    if x0 >= 0 and y0 >= 0 and x0 + side <= w and y0 + side <= h:
        return frame[y0 : y0 + side, x0 : x0 + side]
    out = np.zeros((side, side) + frame.shape[2:], frame.dtype)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = frame[sy0:sy1, sx0:sx1]
    return out
