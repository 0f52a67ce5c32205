"""`lrl-prep masks`: one unit per fake video, masks as 0/255 PNGs under WORK/masks mirroring WORK/faces.

Source "diff" (the paper, section 3.3): the fake crop against its real's crop of the same frame, taken
at the reference quality: "raw" when the raw fake and raw real crops exist ("auto", the default), and
the mask is then written for every quality of that fake, since all qualities share frames and crop
transforms; c23/c40 pairs carry separately encoded compression noise. Source "official": FF++'s mask
video, warped with the same crop transforms (as the peers do), for comparison. Reals get no files:
their all-zero masks are implied. Masks pair per (frame, face): fake face j with real face j (extract
labels a fake's one face with its real's face id). A unit's record (what the shards stage reads):
`MasksRecord`.

A fake whose real is not in ROOT cannot get a difference mask: its unit is settled as no_mask
("real <id> not in ROOT", naming `--source official` when its mask video exists), counted and shown,
not a failure and not retried until its inputs change; the shards stage writes its samples with
mask_known 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.dataset.layout import VIDEO_EXTS, mask_video_dir
from pipeline.engine.runner import Summary, Task
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult, fingerprint
from pipeline.engine.threads import worker_threads
from pipeline.errors import LrlError
from pipeline.kernels.align import own_transform
from pipeline.kernels.masks import diff_mask, mask_stats, warp_mask
from pipeline.kernels.video import Decoding, iter_frames
from pipeline.params import MasksParams, PrepConfig, Scope
from pipeline.stages.context import Context, Plan
from pipeline.store.atomic import remove_stale_temps
from pipeline.store.images import read_png, remove_other_frames, write_png
from pipeline.store.layout import frame_name
from pipeline.store.records import EXTRACT as UPSTREAM
from pipeline.store.records import MASKS as STAGE
from pipeline.store.records import (
    NO_MASK,
    ROOT_META,
    CropsRecord,
    MasksRecord,
    VideoRecord,
    has_real,
    params_meta,
    selection_meta,
)

UNITS = (STAGE,)
NOTES: dict[str, str] = {}  # no count of its records is shown by `status`
VERSION = 1  # bump when the mask definition changes, to invalidate earlier results


@dataclass(frozen=True)
class MaskJob:
    """A worker's payload: paths and small parameters only."""

    key: str
    source: str
    threshold: float
    frames: tuple[int, ...]
    faces: tuple[int, ...]  # per frame: the crops are (frames[c], faces[c])
    size: int
    out_dir: str
    reference_quality: str = ""
    fake_dir: str = ""  # crops of the fake at the reference quality (diff)
    real_dir: str = ""  # crops of its real at the reference quality (diff)
    mask_video: str = ""  # official mask video (official)
    transforms: tuple = ()  # 2x3 full frame -> crop, per frame (official)
    offset: tuple[int, int] = (0, 0)  # the fake's frames in the frames detected on (CropsRecord.offset)
    error: str = ""  # set when the plan already knows the unit cannot be done
    status: str = FAILED  # the unit's status when `error` is set: FAILED, or NO_MASK


class Unusable(Exception):
    """The upstream records of a fake cannot give masks; the message is the unit's failure reason."""

    status = FAILED


class NoReal(Unusable):
    """The fake's real is not in ROOT: no difference mask can exist (not a failure; see NO_MASK)."""

    status = NO_MASK


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class Extracted:
    """The extract stage's records: every unit's, and the crops of the done ones, by video key."""

    units: dict[str, UnitResult]
    crops: dict[str, CropsRecord]

    @classmethod
    def read(cls, state: RunState) -> "Extracted":
        units = {r.key: r for r in state.records(UPSTREAM)}
        return cls(units, {k: CropsRecord.from_dict(r.data) for k, r in units.items() if r.status == DONE})


def plan(ctx: Context) -> Plan:
    """One task per selected fake whose crops are extracted (done "extract" record), in key order."""
    extract = Extracted.read(ctx.state)
    selection = ctx.config.scope.selection
    tasks = [
        _task(ctx, extract, crops.record)
        for crops in extract.crops.values()
        if crops.record.is_fake and selection.keeps(crops.record)
    ]
    return Plan({STAGE: tasks})


def real_absent(crops: CropsRecord) -> bool:
    """Whether extract found no real of this fake in ROOT (it then detected the fake on itself)."""
    return not has_real(crops.record, crops.detect_key)


def _task(ctx: Context, extract: Extracted, video: VideoRecord) -> Task:
    rec, crops = extract.units[video.key], extract.crops[video.key]
    params = ctx.config.masks
    base = dict(
        key=video.key,
        source=params.source,
        threshold=params.threshold,
        frames=tuple(crops.frames),
        faces=tuple(crops.faces),
        size=int(crops.size),
        out_dir=str(ctx.layout.mask_dir(video.dataset, video.method, video.quality, video.video)),
    )
    fp_params = {"threshold": params.threshold, "source": params.source, "version": VERSION}
    try:
        if params.source == "official":
            path = _mask_video(video, ctx.root)
            job = MaskJob(
                **base,
                reference_quality="official",
                mask_video=path,
                transforms=tuple(map(tuple, crops.transforms)),
                offset=tuple(crops.offset),
            )
            return Task(video.key, fingerprint([path], fp_params, [rec.fingerprint]), job)
        if real_absent(crops):
            raise NoReal(_no_real(video))
        quality = _reference_quality(extract, video, params.reference_quality)
        fake, real = _checked_pair(extract, video, quality)
    except Unusable as exc:
        job = MaskJob(**base, error=str(exc), status=exc.status)
        return Task(video.key, fingerprint([], {**fp_params, "error": str(exc)}, [rec.fingerprint]), job)
    job = MaskJob(
        **base,
        reference_quality=quality,
        fake_dir=str(ctx.layout.face_dir(video.dataset, video.method, quality, video.video)),
        real_dir=str(ctx.layout.face_dir(video.dataset, video.target_method, quality, video.target)),
    )
    upstream = [rec.fingerprint, fake.fingerprint, real.fingerprint]
    return Task(video.key, fingerprint([], {**fp_params, "reference": quality}, upstream), job)


def _no_real(video: VideoRecord) -> str:
    """The no_mask reason of a fake whose real is not in ROOT, naming the way out when there is one."""
    if (
        video.target == video.video
    ):  # a fake that is its own target: its dataset names no original (DFDC's test set)
        return "no real known for this fake (its dataset names no original)"
    way_out = f" (`--source official` would use its mask video {video.mask_path})" if video.mask_path else ""
    return f"real {video.target} not in ROOT{way_out}"


def _key(video: VideoRecord, quality: str, real: bool = False) -> str:
    method, name = (video.target_method, video.target) if real else (video.method, video.video)
    return f"{video.dataset}/{method}/{quality}/{name}"


def _reference_quality(extract: Extracted, video: VideoRecord, mode: str) -> str:
    """The quality whose fake/real pair gives the masks."""
    raw_ok = _key(video, "raw") in extract.crops and _key(video, "raw", real=True) in extract.crops
    if mode == "same" or (mode == "auto" and not raw_ok):
        return video.quality
    if not raw_ok:
        raise Unusable(
            f"reference quality raw asked for, but the raw crops of {_key(video, 'raw')} "
            f"and its real {_key(video, 'raw', real=True)} are not both extracted"
        )
    return "raw"


def _checked_pair(extract: Extracted, video: VideoRecord, quality: str) -> list[UnitResult]:
    """The (fake, real) extract records at `quality`, checked to cover this fake's frames and transforms."""
    pair = []
    for real in (False, True):
        key = _key(video, quality, real)
        who = "real" if real else "reference fake"
        if key not in extract.crops:
            rec = extract.units.get(key)
            why = f" (extract failed: {rec.reason})" if rec is not None else ""
            raise Unusable(f"{who} crops missing: no finished extract of {key}{why}")
        _check_frames(extract.crops[video.key], extract.crops[key], who, key)
        pair.append(extract.units[key])
    return pair


def _check_frames(target: CropsRecord, theirs: CropsRecord, who: str, key: str) -> None:
    transform_of = dict(zip(theirs.crops, theirs.transforms, strict=True))
    for (frame, face), transform in zip(target.crops, target.transforms, strict=True):
        which = f"frame {frame}" + (f" face {face}" if face else "")
        if (frame, face) not in transform_of:
            raise Unusable(f"{who} crops missing: {key} has no crop of {which}")
        if not np.allclose(transform, transform_of[(frame, face)], atol=1e-6, rtol=0):
            raise Unusable(f"{who} crop of {which} ({key}) has a different crop transform")


def _mask_video(video: VideoRecord, root) -> str:
    if video.mask_path and Path(video.mask_path).is_file():
        return video.mask_path
    if root is not None:
        for ext in VIDEO_EXTS:
            path = mask_video_dir(root, video.method) / f"{video.video}{ext}"
            if path.is_file():
                return str(path)
    raise Unusable(f"no official mask video for {video.key}")


# ---------------------------------------------------------------- worker


def work(job: MaskJob) -> UnitResult:
    """Compute every mask of one fake in memory, then write them (so a failure leaves old files alone)."""
    if job.error:
        return UnitResult(job.key, "", job.status, job.error)
    try:
        masks = _diff_masks(job) if job.source == "diff" else _official_masks(job)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    out = Path(job.out_dir)
    stats = [mask_stats(m) for m in masks]
    for frame, face, mask in zip(job.frames, job.faces, masks, strict=True):
        write_png(out / frame_name(frame, face), mask)
    remove_other_frames(out, job.frames, job.faces)
    record = MasksRecord(
        frames=list(job.frames),
        faces=list(job.faces),
        reference_quality=job.reference_quality,
        source=job.source,
        mean_area=float(np.mean([a for a, _ in stats])) if stats else 0.0,
        mean_components=float(np.mean([c for _, c in stats])) if stats else 0.0,
        empty_frames=[f for f, (area, _) in zip(job.frames, stats, strict=True) if area == 0.0],
    )
    return UnitResult(
        job.key, "", DONE, outputs=[str(out)], counts={"masks": len(masks)}, data=record.to_dict()
    )


def _diff_masks(job: MaskJob) -> list[np.ndarray]:
    masks = []
    for frame, face in zip(job.frames, job.faces, strict=True):
        fake = read_png(Path(job.fake_dir) / frame_name(frame, face), job.size, "crop")
        real = read_png(Path(job.real_dir) / frame_name(frame, face), job.size, "crop")
        masks.append(diff_mask(fake, real, job.threshold))  # paper section 3.3
    return masks


def _official_masks(job: MaskJob) -> list[np.ndarray]:
    """The mask video's frames are the fake's: its transforms are taken to the fake's own pixels (the
    alignment extract read it with, pipeline.kernels.align)."""
    grays = read_gray_frames(Path(job.mask_video), job.frames)
    return [
        warp_mask(grays[f], own_transform(t, job.offset), job.size)
        for f, t in zip(job.frames, job.transforms, strict=True)
    ]


def read_gray_frames(path: Path, frames) -> dict[int, np.ndarray]:
    """Grey frames of a video (upright, as the crops) at the given indices; LrlError when some are missing."""
    import cv2

    status = Decoding()
    kept = iter_frames(path, sorted(set(frames)), status=status, threads=worker_threads())
    found = {i: cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for i, f in kept}
    missing = sorted(set(frames) - found.keys())
    if missing:
        raise LrlError(
            f"{path}: mask video has {status.decoded} frames, crop frame {missing[0]} is beyond it"
        )
    return found


# ---------------------------------------------------------------- running


def execute(ctx: Context, planned: Plan) -> Summary:
    """Make the planned masks; units already done with the same fingerprint are skipped."""
    ctx.state.save_settings(STAGE, asdict(ctx.config.masks), asdict(ctx.config.scope.selection), ctx.root)
    remove_stale_temps(ctx.layout.masks)
    return ctx.run_tasks(
        STAGE, planned.units[STAGE], work, item="masks", count=lambda r: r.counts.get("masks", 0)
    )


def saved_config(state: RunState) -> tuple[PrepConfig, Path | None] | None:
    """The configuration and ROOT the last masks run used, or None when it never ran in this WORK."""
    params = state.get_meta(params_meta(STAGE))
    if params is None:
        return None
    scope = Scope.from_dict(state.get_meta(selection_meta(STAGE)) or {})
    root = state.get_meta(ROOT_META)
    return PrepConfig(masks=MasksParams(**params), scope=scope), Path(root) if root else None


NEEDS_STATE = True  # after extract


def nothing_to_do(ctx: Context, planned: Plan) -> str:
    """Why no mask is planned (run_stage's error)."""
    return f"{ctx.work}: no extracted fake video to make masks for (run `lrl-prep extract` first)"
