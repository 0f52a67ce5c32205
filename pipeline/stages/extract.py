"""`lrl-prep extract`: face crops of every video, detected once per real and shared by its fakes.

Two units in the run state. "detect": one unit per real (target) video id, run on the best quality
present (raw > c23 > c40): frames sampled evenly over the decodable length (within the length its
fakes share: `shared_lengths`), MTCNN, its face tracks
(face 0 the heaviest; pipeline.kernels.faces; its record: `Detection`). A fake whose real is absent
is detected on itself. "extract": one unit per video; every quality of a real and every fake made from
it (fakes are frame-aligned with their target) crops the same frame indices with the same transforms,
so fake and real crops are pixel-aligned (its record, what masks and shards read: `CropsRecord`;
the records are pipeline.store.records').

Faces: a real, and a fake without its real, keep every track (face ids 0..k-1). A fake whose real is
in ROOT keeps one face, labelled with the real's face id so the masks stage pairs fake face j with
real face j: face 0 when the real has one track, else the track whose box differs most between the
fake's and the real's frames (pipeline.kernels.forged; the real is decoded only then), the per-track
differences kept in the record (DFD's and DFDC's rule: the largest face may be a bystander).

The video a detect unit runs on is cropped by that unit from the frames it decoded (unless every
frame is kept). A sampled frame where a kept track has no face (DetectParams.max_gap) gets no crop of
that face; the extract record lists it under `no_face` and counts it, and the summary line and
`status` show the total (NOTES).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from pipeline.dataset.layout import QUALITIES
from pipeline.engine.runner import Summary, Task
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult, file_stamp, fingerprint
from pipeline.engine.threads import worker_threads
from pipeline.errors import LrlError
from pipeline.kernels.align import Offset, find_offset, place
from pipeline.kernels.crop import apply_crop, plan_crop
from pipeline.kernels.faces import detect_video, detection_device
from pipeline.kernels.forged import box_difference, mean_differences, most_changed
from pipeline.kernels.video import Decoding, frame_count, iter_frames, read_in_part
from pipeline.params import CropParams, DetectParams, ExtractParams, PrepConfig, Scope
from pipeline.stages.context import Context, Plan
from pipeline.store.atomic import remove_stale_temps
from pipeline.store.images import remove_other_frames, write_png
from pipeline.store.layout import frame_name
from pipeline.store.records import (
    DETECT,
    FRAME_COUNTS_META,
    ROOT_META,
    CropsRecord,
    Detection,
    VideoRecord,
    has_real,
    params_meta,
    selection_meta,
)
from pipeline.store.records import EXTRACT as STAGE
from pipeline.store.space import DiskFull, as_disk_full, is_disk_full

UNITS = (DETECT, STAGE)
NOTES = {
    "no_face": "frames without a face (no crop)",  # extract record counts shown in the summary and status
    "partial": "videos read in part",  # decodable frames end before the header's count (record: "note")
    "few_crops": "fakes with far fewer crops than their real",  # (record: "note"; `few_crops`)
}
ALIGN_FRAMES = 4  # frame pairs a resized fake's offset is measured on
FEW_CROPS = 0.5  # a fake with fewer crops than this fraction of its real's most seen face is a problem
MIN_SHARED = 0.5  # a fake shortens its real's sampling only when at least this fraction of the real long
VERSION = 4  # bump when detection or cropping changes meaning, to invalidate earlier results


# ---------------------------------------------------------------- jobs


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
    within: int | None = None  # frames sampled among the first `within` only (`shared_lengths`)


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
    selected = sorted(index.filter(ctx.config.scope.selection).records, key=lambda r: r.key)
    within = shared_lengths(ctx.state, selected, sources) if params.frames is not None else {}
    for video in selected:
        key, source = sources[video.key]
        if key not in detects:
            job = DetectJob(key, source.path, params.frames, params.detect, within=within.get(key))
            fp_params = {**detect_params, "within": within.get(key)}
            detects[key] = Task(key, fingerprint([source.path], fp_params), job)
        fp = fingerprint(
            [video.path],
            {"version": VERSION, "crop": asdict(params.crop), "record": identity(video)},
            [detects[key].fingerprint],
        )
        out = str(ctx.layout.face_dir(video.dataset, video.method, video.quality, video.video))
        extracts.append(Task(video.key, fp, CropJob(video.key, video, out, params.crop, key)))
        if video.path == source.path and params.frames is not None:  # crop it while it is decoded anyway
            job = replace(detects[key].payload, crop=extracts[-1].payload, crop_fingerprint=fp)
            detects[key] = replace(detects[key], payload=job)
    return Plan(
        {DETECT: sorted(detects.values(), key=lambda t: t.key), STAGE: extracts}, datasets=ctx.covered()
    )


def shared_lengths(
    state: RunState, selected: list[VideoRecord], sources: dict[str, tuple[str, VideoRecord]]
) -> dict[str, int]:
    """Per detect unit whose fakes end before its video: the frames they share (the shortest fake's
    header count), its frames then sampled among those.

    FF++'s FaceSwap, Face2Face and NeuralTextures render min(target, source) frames, so a fake can end
    long before its real, and frames sampled past its end would give its real crops it has not. A fake
    shorter than MIN_SHARED of its real, or one that cannot be read, does not shorten it (its own unit
    says what is wrong). Header counts are kept in the run state by file stamp (FRAME_COUNTS_META):
    a plan opens only new or changed files.
    """
    memo = state.get_meta(FRAME_COUNTS_META, {})
    fresh: dict[str, list] = {}

    def frames_of(path: str) -> int | None:
        stamp = file_stamp(path)[1:]
        if memo.get(path, [None, None, None])[:2] != stamp:
            try:
                memo[path] = [*stamp, frame_count(Path(path))]
            except LrlError:
                memo[path] = [*stamp, None]
            fresh[path] = memo[path]
        return memo[path][2]

    shortest: dict[str, int] = {}
    for video in selected:
        key, source = sources[video.key]
        if not video.is_fake or video.path == source.path:
            continue
        own, fake = frames_of(source.path), frames_of(video.path)
        if own and fake and MIN_SHARED * own <= fake < own:
            shortest[key] = min(shortest.get(key, own), fake)
    if fresh:
        state.set_meta(FRAME_COUNTS_META, memo)
    return shortest


def identity(video: VideoRecord) -> dict:
    """What the index says of a video beyond its file: label, split, target, ... A change (a corrected
    metadata.json label, a video moved between splits) redoes its unit, so its record, and the masks and
    shards made from it, never keep the old values. The mask video's path is left out (masks read it)."""
    return {k: v for k, v in video.to_dict().items() if k not in ("path", "mask_path")}


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
        faces = detect_video(
            Path(job.path),
            job.frames,
            job.params,
            job.device,
            job.crop is not None,
            worker_threads(),
            job.within,
        )
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    detection, frames = Detection.from_faces(faces), faces.images
    data = detection.to_dict()
    if job.crop is not None:
        crops = crop_frames(
            replace(job.crop, detection=detection),
            zip(detection.frames, frames, strict=True),
            Decoding(detection.n_frames, True),
        )
        data["crops"] = {**asdict(crops), "fingerprint": job.crop_fingerprint}
    return UnitResult(job.key, "", DONE, counts={"frames": len(detection.frames)}, data=data)


def crop_work(job: CropJob) -> UnitResult:
    """Decode the detected frames of one video (up to the last one present), crop them, write PNGs.

    The video detection ran on (a fake's real) is decoded too when the fake's frames are another size
    (read aligned to it: pipeline.kernels.align) or its real has several face tracks (to find the
    forged face).
    """
    if job.error:
        return UnitResult(job.key, "", FAILED, job.error)
    status, det, threads = Decoding(), job.detection, worker_threads()
    try:
        frames = iter_frames(Path(job.video.path), det.frames, status=status, threads=threads)
        first = next(frames, None)
        frames = chain([first] if first is not None else [], frames)
        resized = first is not None and first[1].shape[:2] != (det.height, det.width)
        compare = has_real(job.video, job.detect_key) and len(det.tracks) > 1
        real = iter_frames(Path(det.video), det.frames, threads=threads) if compare or resized else None
        return crop_frames(job, frames, status, real, resized)
    except DiskFull:
        raise
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))


@dataclass
class Crops:
    """What `write_crops` made: per crop its frame, face, interpolation flag and transform; the (frame,
    face) pairs without a box; the per-track differences (see CropsRecord)."""

    frames: list[int] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)
    interpolated: list[bool] = field(default_factory=list)
    transforms: list[list[list[float]]] = field(default_factory=list)
    no_face: list[tuple[int, int]] = field(default_factory=list)
    differences: list[float | None] = field(default_factory=list)
    offset: tuple[int, int] = (0, 0)


def crop_frames(
    job: CropJob,
    frames: Iterable[tuple[int, np.ndarray]],
    status: Decoding,
    real: Iterable[tuple[int, np.ndarray]] | None = None,
    resized: bool = False,
) -> UnitResult:
    """Crop (index, frame) pairs with the detection's boxes and write them; the extract unit's result.

    With `real` (the frames detection ran on, at the same indices): `resized` frames are read aligned
    to them, and when the detection has several tracks only the most changed face is kept.
    """
    try:
        made = write_crops(job, frames, status, real, resized)
    except DiskFull:
        raise  # every later unit would fail too: the run stops (pipeline.store.space)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    except OSError as exc:  # e.g. a read-only folder: the unit fails, the run goes on
        if is_disk_full(exc):
            raise as_disk_full(exc) from None
        return UnitResult(job.key, "", FAILED, f"{exc.filename or job.out_dir}: {exc.strerror or exc}")
    record = CropsRecord(
        job.video,
        made.frames,
        made.faces,
        made.interpolated,
        [f for f, _ in made.no_face],
        [k for _, k in made.no_face],
        job.params.size,
        made.transforms,
        job.detect_key,
        made.differences,
        list(made.offset),
    )
    sampled = job.detection.frames
    partial = (
        read_in_part(
            Path(job.video.path), status.decoded, len(sampled), sum(f < status.decoded for f in sampled)
        )
        if status.ended
        else None
    )
    few = few_crops(len(made.frames), job.detection) if has_real(job.video, job.detect_key) else None
    note = "; ".join(n for n in (partial, few) if n)
    return UnitResult(
        job.key,
        "",
        DONE,
        outputs=[job.out_dir],
        counts={
            "crops": len(made.frames),
            "no_face": len(made.no_face),
            "partial": int(bool(partial)),
            "few_crops": int(bool(few)),
        },
        data={**record.to_dict(), **({"note": note} if note else {})},
    )


def few_crops(crops: int, detection: Detection) -> str | None:
    """A note when a fake has fewer than FEW_CROPS of the crops its real has of its most seen face (a face
    split over tracks, a forged face seen in few frames, a fake that ends early or breaks), else None."""
    most = max(sum(box is not None for box in t.boxes) for t in detection.tracks)
    if crops >= FEW_CROPS * most:
        return None
    return f"far fewer crops than its real: {crops}, its real {most} of its most seen face"


def _real_frame(real, index: int, path: str) -> np.ndarray:
    """The real's frame `index` from an iterator of (index, frame) in increasing order."""
    for i, frame in real:
        if i == index:
            return frame
    raise LrlError(f"{path}: the real has no frame {index} to compare its fake with")


def paired(frames: Iterable, real: Iterable | None, path: str) -> Iterator[tuple[int, np.ndarray, object]]:
    """(index, frame, the real's frame at that index or None) for every decoded frame."""
    real = iter(real) if real is not None else None
    for index, frame in frames:
        yield index, frame, _real_frame(real, index, path) if real is not None else None


def aligned(pairs: Iterator, video: str, reference: str) -> tuple[Offset, Iterator]:
    """The offset of a fake whose frames are another size than its real's (pipeline.kernels.align),
    measured on the first ALIGN_FRAMES pairs, and the pairs with each fake frame placed at it.

    Raises LrlError naming both files and sizes when no offset matches.
    """
    import cv2

    head = list(islice(pairs, ALIGN_FRAMES))
    fakes = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for _, f, _ in head]
    offset = find_offset(fakes, [cv2.cvtColor(r, cv2.COLOR_RGB2GRAY) for _, _, r in head])
    if offset is None or not offset.ok:
        (h, w), (hr, wr) = head[0][1].shape[:2], head[0][2].shape[:2]
        why = "no shift of one within the other matches" if offset else "too different to be a crop or pad"
        raise LrlError(f"{video}: frames are {w}x{h}, {reference} (detected on) {wr}x{hr}: {why}")
    rest = ((i, place(f, offset, r), r) for i, f, r in chain(head, pairs))
    return offset, rest


def write_crops(
    job: CropJob,
    frames: Iterable[tuple[int, np.ndarray]],
    status: Decoding,
    real: Iterable[tuple[int, np.ndarray]] | None = None,
    resized: bool = False,
) -> Crops:
    """Crop every face with a box in every frame and write the crops (a second thread encodes and writes).

    `resized`: the frames are another size than `real`'s (the frames detected on), read aligned to
    them. With `real` and several tracks, every face is cropped in memory and its box compared with the
    real frame; only the crops of the most changed face (pipeline.kernels.forged) are written.
    """
    det, path, out = job.detection, Path(job.video.path), Path(job.out_dir)
    position = {f: i for i, f in enumerate(det.frames)}
    made, kept, writes = Crops(), [], []
    pairs = paired(frames, real, det.video)
    if resized:
        offset, pairs = aligned(pairs, str(path), det.video)
        made.offset = (offset.x, offset.y)
    compare = real is not None and len(det.tracks) > 1
    per_face: list[list[float | None]] = [[] for _ in det.tracks]
    with ThreadPoolExecutor(max_workers=1) as writer:
        for index, frame, other in pairs:
            if frame.shape[:2] != (det.height, det.width):
                raise LrlError(
                    f"{path}: frames are {frame.shape[1]}x{frame.shape[0]}, but "
                    f"{det.video} (detected on) is {det.width}x{det.height}"
                )
            i = position[index]
            for face, track in enumerate(det.tracks):
                if track.boxes[i] is None:
                    made.no_face.append((index, face))
                    continue
                crop = plan_crop(track.boxes[i], track.landmarks[i], det.width, det.height, job.params)
                image = apply_crop(frame, crop, job.params.size)
                kept.append((index, face, track.interpolated[i], crop.as_list(), image))
                if compare:
                    per_face[face].append(box_difference(frame, other, track.boxes[i]))
                else:
                    writes.append(writer.submit(write_png, out / frame_name(index, face), image))
        if compare:
            made.differences = [None if d is None else round(d, 3) for d in mean_differences(per_face)]
            chosen = most_changed(made.differences)
            kept = [c for c in kept if c[1] == chosen]
            made.no_face = [(f, k) for f, k in made.no_face if k == chosen]
            writes = [
                writer.submit(write_png, out / frame_name(index, face), image)
                for index, face, _, _, image in kept
            ]
    for write in writes:
        write.result()
    if not kept:
        raise LrlError(
            f"{path}: no decodable frame with a face among the {len(position)} sampled ones "
            f"(it has {status.decoded} frames, {len(made.no_face)} of the sampled ones without a face)"
        )
    for index, face, flag, transform, _ in kept:
        made.frames.append(index)
        made.faces.append(face)
        made.interpolated.append(bool(flag))
        made.transforms.append(transform)
    remove_other_frames(out, made.frames, made.faces)
    return made


# ---------------------------------------------------------------- running


def execute(ctx: Context, planned: Plan) -> Summary:
    """Detect, then crop; units done with the same fingerprint are skipped.

    torch and MTCNN are loaded only when some detection has to run.
    """
    state, detects = ctx.state, planned.units[DETECT]
    state.save_settings(STAGE, asdict(ctx.config.extract), asdict(ctx.config.scope), ctx.root)
    remove_stale_temps(ctx.layout.faces)
    ran = [t.key for t in detects if not state.is_fresh(DETECT, t.key, t.fingerprint)]
    if ran:
        device = detection_device(ctx.run.device)
        detects = [replace(t, payload=replace(t.payload, device=device)) for t in detects]
    first = ctx.run_tasks(
        DETECT, detects, detect_work, item="frames", count=lambda r: r.counts.get("frames", 0)
    )
    adopted = adopt_crops(state, ran)
    summary = ctx.run_tasks(
        STAGE,
        with_detections(planned.units[STAGE], detects, state),
        crop_work,
        item="crops",
        count=_crops,
        notes=NOTES,
    )
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
        result = UnitResult(
            **{k: carried[k] for k in ("key", "fingerprint", "status", "reason", "outputs", "counts", "data")}
        )
        if result.ok:
            state.record(STAGE, result)
            adopted.append(result)
    return adopted


def saved_config(state: RunState) -> tuple[PrepConfig, Path] | None:
    """The configuration and ROOT the last extract ran with, or None when it never ran in this WORK."""
    params, scope, root = (
        state.get_meta(params_meta(STAGE)),
        state.get_meta(selection_meta(STAGE)),
        state.get_meta(ROOT_META),
    )
    if params is None or scope is None or root is None:
        return None
    return PrepConfig(extract=ExtractParams.from_dict(params), scope=Scope.from_dict(scope)), Path(root)


NEEDS_STATE = False  # the first stage: it makes WORK's run state


def nothing_to_do(ctx: Context, planned: Plan) -> str:
    """Why no video is planned (run_stage's error)."""
    return ctx.index().empty_reason(ctx.root, ctx.config.scope.selection)
