"""`lrl-prep extract`: face crops of every video, detected once per real and shared by its fakes.

Two units in the run state. "detect": one unit per real (target) video id, run on the best quality
present (raw > c23 > c40): frames sampled evenly over the decodable length, MTCNN, one face track
(its record: `Detection`). A fake whose real is absent is detected on itself. "extract": one unit per
video; every quality of a real and every fake made from it (FF++ fakes are frame-aligned with their
target) crops the same frame indices with the same transforms, so fake and real crops are
pixel-aligned (its record, what masks and shards read: `CropsRecord`). The video a detect unit runs on
is cropped by that unit from the frames it decoded (unless every frame is kept). A sampled frame where
the track has no face (DetectParams.max_gap) gets no crop; the extract record lists it under `no_face`
and counts it, and the summary line and `status` show the total (NOTES).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterable

import numpy as np

from pipeline.dataset.layout import QUALITIES
from pipeline.dataset.records import Record, VideoRecord
from pipeline.engine.runner import Summary, Task
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult, fingerprint
from pipeline.errors import LrlError
from pipeline.kernels.crop import apply_crop, plan_crop
from pipeline.kernels.detect import INSTALL_HINT, detection_scale, get_mtcnn, mtcnn_faces, shrink, track_face
from pipeline.kernels.video import Decoding, iter_frames, sample_frames
from pipeline.params import DEVICES, Backend, CropParams, DetectParams, ExtractParams, PrepConfig, Scope
from pipeline.stages.context import Context, Plan, open_context
from pipeline.store.atomic import remove_stale_temps
from pipeline.store.images import remove_other_frames, write_png
from pipeline.store.layout import frame_name

DETECT = "detect"
STAGE = "extract"
UNITS = (DETECT, STAGE)
NOTES = {"no_face": "frames without a face (no crop)"}  # extract record counts shown in the summary and status
VERSION = 2  # bump when detection or cropping changes meaning, to invalidate earlier results


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Detection(Record):
    """A "detect" unit's record: the face track of one video, per sampled frame (full-frame pixels)."""

    video: str  # the file detection ran on
    n_frames: int  # its decodable length
    width: int
    height: int
    frames: list[int]  # sampled frame indices
    boxes: list[list[float] | None]  # (n, 4) x0, y0, x1, y1; None where there is no face
    landmarks: list[list[list[float]] | None]  # (n, 5, 2) x, y; None where there is no face
    scores: list[float]  # (n,), 0 where interpolated or no face
    interpolated: list[bool]  # (n,) the box was interpolated between two detections (DetectParams.max_gap)
    no_face: list[bool]  # (n,) no detection and no gap to fill: no crop


@dataclass(frozen=True)
class CropsRecord(Record):
    """An "extract" unit's record, what the masks and shards stages read: one video's crops in WORK."""

    record: VideoRecord
    frames: list[int]  # frame indices cropped (PNG `frame_name(i)` each)
    interpolated: list[bool]  # per frame, as the detection flagged it
    no_face: list[int]  # decoded sampled frames without a face: no crop written
    size: int  # crop side, pixels
    transforms: list[list[list[float]]]  # per frame, the 2x3 full frame -> crop matrix
    detect_key: str  # the "detect" unit whose boxes were used

    @classmethod
    def from_dict(cls, d: dict) -> "CropsRecord":
        # records written before `no_face` existed cropped every sampled frame: none without a face
        return super().from_dict({"no_face": [], **d, "record": VideoRecord.from_dict(d["record"])})


@dataclass(frozen=True)
class CropJob:
    key: str
    video: VideoRecord
    out_dir: str
    params: CropParams
    detect_key: str
    detection: Detection | None = None  # the done "detect" record, attached when detection has run
    error: str = ""  # set when the unit cannot be done


@dataclass(frozen=True)
class DetectJob:
    key: str
    path: str
    frames: int | None
    params: DetectParams
    device: str = "cpu"
    crop: CropJob | None = None  # the detected video's own crop unit, done from the same decoded frames
    crop_fingerprint: str = ""


# ---------------------------------------------------------------- planning


def detect_sources(records: list[VideoRecord]) -> dict[str, tuple[str, VideoRecord]]:
    """For every video key: (detect unit key, the video detection runs on).

    Reals of one id share a unit run on their best quality; fakes use their real's unit; a fake
    whose real is absent gets a unit of its own, run on its best quality.
    """
    rank = {q: i for i, q in enumerate(QUALITIES)}
    best: dict[tuple[str, str, str], VideoRecord] = {}
    for r in records:
        group = (r.dataset, r.method, r.video)
        if group not in best or rank.get(r.quality, 99) < rank.get(best[group].quality, 99):
            best[group] = r
    sources = {}
    for r in records:
        real = best.get((r.dataset, r.target_method, r.target))
        if real is not None:
            sources[r.key] = (f"{r.dataset}/{real.method}/{real.video}", real)
        else:
            own = best[(r.dataset, r.method, r.video)]
            sources[r.key] = (own.key, own)
    return sources


def plan(ctx: Context) -> Plan:
    """The "detect" tasks and the "extract" tasks of the selected videos, in key order.

    Extract tasks carry no detection yet: `with_detections` attaches it once detection has run.
    """
    params, index = ctx.config.extract, ctx.index()
    sources = detect_sources(index.records)
    detect_params = {"version": VERSION, "frames": params.frames, "detect": asdict(params.detect)}
    detects: dict[str, Task] = {}
    extracts = []
    for video in sorted(index.filter(ctx.config.scope.selection).records, key=lambda r: r.key):
        key, source = sources[video.key]
        if key not in detects:
            job = DetectJob(key, source.path, params.frames, params.detect)
            detects[key] = Task(key, fingerprint([source.path], detect_params), job)
        fp = fingerprint([video.path], {"version": VERSION, "crop": asdict(params.crop)}, [detects[key].fingerprint])
        out = str(ctx.layout.face_dir(video.dataset, video.method, video.quality, video.video))
        extracts.append(Task(video.key, fp, CropJob(video.key, video, out, params.crop, key)))
        if video.path == source.path and params.frames is not None:  # crop it while it is decoded anyway
            job = replace(detects[key].payload, crop=extracts[-1].payload, crop_fingerprint=fp)
            detects[key] = replace(detects[key], payload=job)
    return Plan({DETECT: sorted(detects.values(), key=lambda t: t.key), STAGE: extracts})


def with_detections(tasks: list[Task], detects: list[Task], state: RunState) -> list[Task]:
    """The extract tasks with their done detection attached, or the reason they cannot run."""
    fps = {t.key: t.fingerprint for t in detects}
    out = []
    for task in tasks:
        job = task.payload
        rec = state.get(DETECT, job.detect_key)
        if rec is None or rec.fingerprint != fps[job.detect_key]:
            job = replace(job, error=f"face detection {job.detect_key} has not run")
        elif rec.status != DONE:
            job = replace(job, error=f"face detection failed: {rec.reason}")
        else:
            job = replace(job, detection=Detection.from_dict(rec.data))
        out.append(replace(task, payload=job))
    return out


# ---------------------------------------------------------------- workers


def detect_work(job: DetectJob) -> UnitResult:
    """Sample, detect and track the face of one video; the record holds boxes etc. per sampled frame.

    With `job.crop`, the detected video's own crops are made from the frames decoded here (one
    decoding instead of two); that unit's result rides in data["crops"] until `adopt_crops`.
    """
    try:
        detection, frames = detect_video(Path(job.path), job.frames, job.params, job.device, keep=job.crop is not None)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    data = detection.to_dict()
    if job.crop is not None:
        crops = crop_frames(replace(job.crop, detection=detection), zip(detection.frames, frames, strict=True),
                            Decoding(detection.n_frames, True))
        data["crops"] = {**asdict(crops), "fingerprint": job.crop_fingerprint}
    return UnitResult(job.key, "", DONE, counts={"frames": len(detection.frames)}, data=data)


def detect_video(path: Path, count: int | None, params: DetectParams, device: str = "cpu",
                 keep: bool = False) -> tuple[Detection, list | None]:
    """MTCNN on `count` frames spread over the video, downscaled; missed frames retried at twice the scale.

    Returns the detection, and the full-size sampled frames when `keep`.
    """
    detector = get_mtcnn(device, params)

    def small(frame):
        return shrink(frame, detection_scale(*frame.shape[:2], params.det_side))

    sampled = sample_frames(path, count, (lambda f: (small(f), f)) if keep else small)
    frames = [f for _, f in sampled.frames] if keep else None
    smalls = [s for s, _ in sampled.frames] if keep else sampled.frames
    w, h = sampled.width, sampled.height
    found = mtcnn_faces(detector, smalls, w, h, params.batch, params.pad)
    faces = [f.confident(params.min_score) for f in found]
    missing = [i for i, f in enumerate(faces) if len(f.scores) == 0]
    scale = detection_scale(h, w, params.det_side)
    if params.retry and missing and scale < 1:
        wanted = [sampled.indices[i] for i in missing]
        again = [shrink(frame, min(1.0, 2 * scale)) for _, frame in iter_frames(path, wanted)]
        for i, f in zip(missing, mtcnn_faces(detector, again, w, h, params.batch, params.pad), strict=True):
            faces[i] = f.confident(params.min_score)
    try:
        track = track_face(sampled.indices, faces, params.smooth_sigma, params.max_gap)
    except LrlError as exc:
        raise LrlError(f"{path}: {exc}") from None
    detection = Detection(
        video=str(path), n_frames=sampled.n_frames, width=w, height=h, frames=sampled.indices,
        boxes=_rows(track.boxes, track.no_face), landmarks=_rows(track.landmarks, track.no_face),
        scores=track.scores.round(4).tolist(), interpolated=track.interpolated.tolist(),
        no_face=track.no_face.tolist(),
    )
    return detection, frames


def _rows(values: np.ndarray, absent: np.ndarray) -> list:
    return [None if gone else row for row, gone in zip(values.round(2).tolist(), absent.tolist(), strict=True)]


def crop_work(job: CropJob) -> UnitResult:
    """Decode the detected frames of one video (up to the last one present), crop them, write PNGs."""
    if job.error:
        return UnitResult(job.key, "", FAILED, job.error)
    status = Decoding()
    try:
        return crop_frames(job, iter_frames(Path(job.video.path), job.detection.frames, status=status), status)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))


def crop_frames(job: CropJob, frames: Iterable[tuple[int, np.ndarray]], status: Decoding) -> UnitResult:
    """Crop (index, frame) pairs with the detection's boxes and write them; the extract unit's result."""
    try:
        written, transforms, no_face = write_crops(job, frames, status)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    except OSError as exc:  # e.g. a full disk: the unit fails, the run goes on
        return UnitResult(job.key, "", FAILED, f"{exc.filename or job.out_dir}: {exc.strerror or exc}")
    flags = dict(zip(job.detection.frames, job.detection.interpolated, strict=True))
    record = CropsRecord(job.video, written, [flags[f] for f in written], no_face, job.params.size, transforms,
                         job.detect_key)
    return UnitResult(job.key, "", DONE, outputs=[job.out_dir], counts={"crops": len(written), "no_face": len(no_face)},
                      data=record.to_dict())


def write_crops(job: CropJob, frames: Iterable[tuple[int, np.ndarray]],
                status: Decoding) -> tuple[list[int], list[list[list[float]]], list[int]]:
    """Crop and write every frame with a face; (frame indices, transforms, frames without a face).

    A second thread encodes and writes the PNGs.
    """
    det, path, out = job.detection, Path(job.video.path), Path(job.out_dir)
    position = {f: i for i, f in enumerate(det.frames)}
    written, transforms, writes, no_face = [], [], [], []
    with ThreadPoolExecutor(max_workers=1) as writer:
        for index, frame in frames:
            if frame.shape[:2] != (det.height, det.width):
                raise LrlError(f"{path}: frames are {frame.shape[1]}x{frame.shape[0]}, but "
                               f"{det.video} (detected on) is {det.width}x{det.height}")
            i = position[index]
            if det.boxes[i] is None:
                no_face.append(index)
                continue
            crop = plan_crop(det.boxes[i], det.landmarks[i], det.width, det.height, job.params)
            writes.append(writer.submit(write_png, out / frame_name(index), apply_crop(frame, crop, job.params.size)))
            written.append(index)
            transforms.append(crop.as_list())
    for write in writes:
        write.result()
    if not written:
        raise LrlError(f"{path}: no decodable frame with a face among the {len(position)} sampled ones "
                       f"(it has {status.decoded} frames, {len(no_face)} of the sampled ones without a face)")
    remove_other_frames(out, written)
    return written, transforms, no_face


# ---------------------------------------------------------------- running


def resolve_device(device: str) -> str:
    """cpu or cuda; auto picks cuda when available. Checks MTCNN can be imported."""
    if device not in DEVICES:
        raise LrlError(f"--device {device}: choose one of {', '.join(DEVICES)}")
    try:
        import facenet_pytorch  # noqa: F401
        import torch
    except ImportError:
        raise LrlError(INSTALL_HINT) from None
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise LrlError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    return device


def execute(ctx: Context, planned: Plan) -> Summary:
    """Detect, then crop; units done with the same fingerprint are skipped.

    torch and MTCNN are loaded only when some detection has to run.
    """
    state, detects = ctx.state, planned.units[DETECT]
    state.save_settings(STAGE, asdict(ctx.config.extract), asdict(ctx.config.scope), ctx.root)
    remove_stale_temps(ctx.layout.faces)
    ran = [t.key for t in detects if not state.is_fresh(DETECT, t.key, t.fingerprint)]
    if ran:
        device = resolve_device(ctx.device)
        detects = [replace(t, payload=replace(t.payload, device=device)) for t in detects]
    first = ctx.run_tasks(DETECT, detects, detect_work, item="frames", count=lambda r: r.counts.get("frames", 0))
    adopted = adopt_crops(state, ran)
    summary = ctx.run_tasks(STAGE, with_detections(planned.units[STAGE], detects, state), crop_work, item="crops",
                            count=_crops, notes=NOTES)
    for result in adopted:
        summary.tally(result, _crops, NOTES)
    summary.skipped -= len(adopted)
    summary.seconds += first.seconds
    return summary


def _crops(result: UnitResult) -> int:
    return result.counts.get("crops", 0)


def adopt_crops(state: RunState, keys: list[str]) -> list[UnitResult]:
    """Record the extract units done inside the detect units `keys` just ran; their results.

    A failed one is left to the extract phase, which retries it from the video.
    """
    adopted = []
    for key in keys:
        rec = state.get(DETECT, key)
        carried = rec.data.pop("crops", None) if rec is not None and rec.ok else None
        if carried is None:
            continue
        state.record(DETECT, rec)
        result = UnitResult(**{k: carried[k] for k in ("key", "fingerprint", "status", "reason", "outputs",
                                                        "counts", "data")})
        if result.ok:
            state.record(STAGE, result)
            adopted.append(result)
    return adopted


def saved_config(state: RunState) -> tuple[PrepConfig, Path] | None:
    """The configuration and ROOT the last extract ran with, or None when it never ran in this WORK."""
    params, scope, root = (state.get_meta(f"params:{STAGE}"), state.get_meta(f"selection:{STAGE}"),
                           state.get_meta("root"))
    if params is None or scope is None or root is None:
        return None
    return PrepConfig(extract=ExtractParams.from_dict(params), scope=Scope.from_dict(scope)), Path(root)


def run(root: Path, work: Path, params: ExtractParams = ExtractParams(), scope: Scope = Scope(),
        jobs: int | None = None, device: str = "auto", progress: bool = True,
        backend: Backend | None = None) -> Summary:
    """`lrl-prep extract`: detect, then crop, every selected video of ROOT into WORK (jobs: all cores)."""
    config = PrepConfig(extract=params, scope=scope)
    with open_context(work, config, root, jobs, progress, backend, device) as ctx:
        planned = plan(ctx)
        if planned.empty:
            raise LrlError(ctx.index().empty_reason(root, scope.selection))
        return execute(ctx, planned)
