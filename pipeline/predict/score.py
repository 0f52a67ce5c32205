"""Score one video or image with a trained checkpoint, through the code that made its training data.

Steps, each the function the training data went through (nothing re-implemented):
- frames and face track: `pipeline.kernels.faces.detect_video` (the checkpoint's frame count and
  detector settings; an image is a one-frame video to PyAV);
- crops: `pipeline.kernels.crop.plan_crop` / `apply_crop` (its crop size, margin, alignment);
- frequency cue: `pipeline.kernels.dct.frequency_cue` with its alpha (eq. 1-3), rounded to float16
  as the shards store it (pipeline.store.schema);
- network input: `model.inputs.rgb_input` / `freq_input` (the training set's freq_std).

Every face track the detection keeps (face 0 the heaviest; pipeline.kernels.detect) is scored. Frames
a track marks "no face" get no crop and no probability for that face (as extract writes no crop for
them). A face's score is the mean of its frame probabilities, the video level of `lrl-train
--evaluate` (model.training.metrics.video_level), over the frames evaluation counts: those whose face
box was interpolated only when the checkpoint was trained with `include_interpolated` (all cropped
frames when every one was interpolated). Every cropped frame still gets its probability. The input's
score is the maximum over its faces of their scores: a video is fake when any face is, and a real
video's every face must look real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.errors import LrlError
from pipeline.params import ExtractParams
from pipeline.store.preprocessing import Preprocessing

FAKE_AT = 0.5  # a probability at or above this is called fake


@dataclass
class Predictor:
    """A loaded checkpoint: the network (eval mode, on `device`), the preprocessing it was trained with
    (pipeline.store.preprocessing.Preprocessing, its extract settings known), and which detector and
    variant it is (model.DETECTORS)."""

    net: object
    device: object
    preprocessing: Preprocessing
    batch: int = 32
    detect_device: str = "cpu"
    checkpoint: str = ""
    detector: str = ""
    variant: str = ""
    include_interpolated: bool = False  # the checkpoint's training setting: counted in the video score

    @property
    def extract(self) -> ExtractParams:
        return self.preprocessing.extract

    @property
    def alpha(self) -> float:
        return float(self.preprocessing.alpha)

    @property
    def freq_std(self) -> float:
        return float(self.preprocessing.freq_std)


@dataclass
class Detail:
    """What the report shows of one input: thumbs per sampled frame, the rest per cropped frame.

    thumbs: (n, h, w, 3) uint8 sampled frames scaled to at most `THUMB` px wide, `scale` = thumb / full;
    cropped: the positions (in the sampled frames) of the m crops; crops (m, S, S, 3) uint8; masks (n, S, S)
    float16 forgery probability; s_hat (n, k*k, k*k) float16 or None; attention: per RFAM level
    (n, 2, h_l, w_l) float16 (0 RGB, 1 frequency).
    """

    thumbs: np.ndarray
    scale: float
    cropped: list[int]
    crops: np.ndarray
    masks: np.ndarray
    s_hat: np.ndarray | None
    attention: list[np.ndarray]
    face: int = 0  # the face these are of: the one whose score is the input's (the maximum)


@dataclass
class FaceScored:
    """One face track of an input: per sampled frame its face box (x0, y0, x1, y1, full-frame pixels; None
    when no face), detector score (0 when interpolated or no face), flags and fake probability (None when
    no face); the face's score and the frames it averages."""

    face: int
    score: float
    boxes: list[list[float] | None]
    face_scores: list[float]
    interpolated: list[bool]
    no_face: list[bool]
    probs: list[float | None]
    counted: list[int]  # frame indices averaged into the score


@dataclass
class Scored:
    """One input's result: its sampled frame indices, its faces (face 0 first), the input's score (the
    maximum of the faces' scores); or the failure reason."""

    path: str
    kind: str
    score: float | None = None
    frames: list[int] = field(default_factory=list)
    faces: list[FaceScored] = field(default_factory=list)
    width: int = 0
    height: int = 0
    n_frames: int = 0
    seconds: float = 0.0
    reason: str = ""
    detail: Detail | None = None  # of the face whose score is the input's

    @property
    def ok(self) -> bool:
        return self.score is not None

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("detail", "faces")}
        d["faces"] = [f.__dict__ for f in self.faces]
        d["label"] = None if self.score is None else ("fake" if self.score >= FAKE_AT else "real")
        d["aggregation"] = AGGREGATION
        return d


AGGREGATION = (
    "maximum over the faces of the mean of the probabilities of each face's counted frames "
    "(detected; interpolated too if trained so)"
)
THUMB = 240  # report thumbnails: at most this wide (a 32-frame page stays under ~2 MB)


def load_predictor(ckpt: Path, device: str = "auto", batch: int = 32) -> Predictor:
    """The network and preprocessing of a checkpoint written by lrl-train (model.training.checkpoint.
    load_checkpoint: the Preprocessing of the shards it trained on, with its own freq_std). Raises LrlError
    (one line, naming the file) when it is unreadable or records no extract settings (trained on shards
    indexed before they were).
    """
    from model.training.checkpoint import load_checkpoint
    from pipeline.kernels.faces import detection_device

    net, cfg, prep = load_checkpoint(ckpt, device)
    if prep.extract is None:
        raise LrlError(
            f"{ckpt}: the checkpoint records no preprocessing (frames, crop, detector): it predates "
            "lrl-predict; retrain it on shards rebuilt by this version (`lrl-prep shards`)"
        )
    torch_device = next(net.parameters()).device
    return Predictor(
        net,
        torch_device,
        prep,
        batch,
        detection_device(device),
        str(ckpt),
        cfg.detector,
        cfg.model.variant,
        cfg.data.include_interpolated,
    )


def crops_of(path: Path, pred: Predictor, keep_thumbs: bool):
    """(Detection, per face the positions of its cropped frames, per face their crops (m, S, S, 3) uint8,
    thumbnails of every sampled frame or None, thumbnail scale) of one video or image; frames without a
    face get no crop of it."""
    import cv2

    from pipeline.kernels.crop import apply_crop, plan_crop
    from pipeline.kernels.faces import detect_video
    from pipeline.store.records import Detection

    ex = pred.extract
    faces = detect_video(path, ex.frames, ex.detect, pred.detect_device, keep=True)
    det, frames = Detection.from_faces(faces), faces.images
    cropped = [[i for i, box in enumerate(t.boxes) if box is not None] for t in det.tracks]
    if not cropped[0]:
        raise LrlError(f"{path}: no face in any of the {len(det.frames)} sampled frames")
    crops = [
        np.stack(
            [
                apply_crop(
                    frames[i],
                    plan_crop(t.boxes[i], t.landmarks[i], det.width, det.height, ex.crop),
                    ex.crop.size,
                )
                for i in positions
            ]
        )
        for t, positions in zip(det.tracks, cropped, strict=True)
    ]
    scale = min(1.0, THUMB / det.width)
    thumbs = None
    if keep_thumbs:
        size = (max(1, round(det.width * scale)), max(1, round(det.height * scale)))
        thumbs = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    return det, cropped, crops, thumbs, scale


def forward(pred: Predictor, crops: np.ndarray, keep: bool) -> dict:
    """Fake probabilities (n,) float32 of crops (n, S, S, 3) uint8, in batches of pred.batch; with `keep`
    also masks, s_hat and attention as `Detail` holds them."""
    import torch

    from model.detector import ATTENTION, MASK, SIMILARITY
    from model.inputs import freq_input, rgb_input
    from pipeline.kernels.dct import frequency_cue

    out: dict = {"probs": [], "masks": [], "s_hat": [], "attention": []}
    shows = pred.net.shows
    if keep and MASK not in shows:
        raise LrlError(
            f"{pred.checkpoint}: its model has no mask head (MC-LCR), and --report shows the "
            "predicted masks of LRL: run without --report"
        )
    bf16 = pred.device.type == "cuda"
    with torch.no_grad():
        for start in range(0, len(crops), pred.batch):
            rgb = crops[start : start + pred.batch]
            freq = frequency_cue(rgb, pred.alpha).astype(np.float16)  # eq. 1-3, stored as float16 in shards
            with torch.autocast(pred.device.type, dtype=torch.bfloat16, enabled=bf16):
                y = pred.net(rgb_input(rgb).to(pred.device), freq_input(freq, pred.freq_std).to(pred.device))
            out["probs"].append(y.prob.cpu().numpy())
            if keep:
                out["masks"].append(
                    torch.sigmoid(y.mask_logits.float())[:, 0].cpu().numpy().astype(np.float16)
                )
                if SIMILARITY in shows:
                    out["s_hat"].append(y.s_hat.float().cpu().numpy().astype(np.float16))
                levels = y.attention if ATTENTION in shows else ()
                out["attention"].append([a.float().cpu().numpy().astype(np.float16) for a in levels])
    result = {"probs": np.concatenate(out["probs"])}
    if keep:
        result["masks"] = np.concatenate(out["masks"])
        result["s_hat"] = np.concatenate(out["s_hat"]) if out["s_hat"] else None
        levels = zip(*out["attention"], strict=True) if out["attention"] and out["attention"][0] else []
        result["attention"] = [np.concatenate(level) for level in levels]
    return result


def face_result(
    face: int, track, frames: list[int], cropped: list[int], probs: np.ndarray, include_interpolated: bool
) -> FaceScored:
    """One face's result from its track (pipeline.store.records.Track), the positions of its cropped
    frames and their probabilities (m,); its score is the mean over the counted frames."""
    per_frame = [None] * len(frames)
    for j, i in enumerate(cropped):
        per_frame[i] = round(float(probs[j]), 6)
    counted = [i for i in cropped if include_interpolated or not track.interpolated[i]] or cropped
    score = float(np.mean([probs[cropped.index(i)] for i in counted]))  # the video level of this face
    return FaceScored(
        face,
        score,
        track.boxes,
        track.scores,
        track.interpolated,
        track.no_face,
        per_frame,
        [frames[i] for i in counted],
    )


def score_input(path: Path, kind: str, pred: Predictor, detail: bool = False) -> Scored:
    """Score one video or image; a failure (unreadable, no face) is returned with its reason, not raised."""
    import time

    start = time.perf_counter()
    result = Scored(str(path), kind)
    try:
        det, cropped, crops, thumbs, scale = crops_of(path, pred, detail)
    except LrlError as exc:
        result.reason = str(exc)
        return result
    for face, (track, positions, images) in enumerate(zip(det.tracks, cropped, crops, strict=True)):
        y = forward(pred, images, detail)
        result.faces.append(
            face_result(face, track, det.frames, positions, y["probs"], pred.include_interpolated)
        )
        if detail and (result.detail is None or result.faces[-1].score > result.score):
            result.detail = Detail(
                thumbs, scale, positions, images, y["masks"], y["s_hat"], y["attention"], face
            )
        result.score = max(f.score for f in result.faces)  # a video is fake when any face is
    result.frames, result.width, result.height, result.n_frames = (
        det.frames,
        det.width,
        det.height,
        det.n_frames,
    )
    result.seconds = round(time.perf_counter() - start, 3)
    return result
