"""`lrl-prep masks`: one unit per fake video, masks as 0/255 PNGs under WORK/masks mirroring WORK/faces.

Source "diff" (the paper, section 3.3): the fake crop against its real's crop of the same frame, taken
at the reference quality: "raw" when the raw fake and raw real crops exist ("auto", the default), and
the mask is then written for every quality of that fake, since all qualities share frames and crop
transforms; c23/c40 pairs carry separately encoded compression noise. Source "official": FF++'s mask
video, warped with the same crop transforms (as the peers do), for comparison. Reals get no files:
their all-zero masks are implied.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.atomic import remove_stale_temps, write_png
from pipeline.backends import Backend
from pipeline.errors import LrlError
from pipeline.layout import VIDEO_EXTS, WorkLayout, frame_name, mask_video_dir
from pipeline.masks import cut_level, diff_mask, mask_stats, warp_mask
from pipeline.records import VideoRecord
from pipeline.runner import Summary, Task, run_tasks
from pipeline.runstate import DONE, FAILED, RunState, UnitResult, fingerprint
from pipeline.video import Decoding, iter_frames

STAGE = "masks"
UPSTREAM = "extract"
REFERENCES = ("auto", "raw", "same")
SOURCES = ("diff", "official")
VERSION = 1  # bump when the mask definition changes, to invalidate earlier results


@dataclass(frozen=True)
class MasksParams:
    threshold: float = 0.15
    reference_quality: str = "auto"  # auto: raw when the raw fake and raw real crops exist, else same
    source: str = "diff"

    def __post_init__(self):
        cut_level(self.threshold)
        if self.reference_quality not in REFERENCES or self.source not in SOURCES:
            raise ValueError(f"bad masks parameters: {self}")


@dataclass(frozen=True)
class Selection:
    """Which fakes to make masks for (None keeps all)."""

    methods: tuple[str, ...] | None = None
    qualities: tuple[str, ...] | None = None
    splits: tuple[str, ...] | None = None

    def keeps(self, video: VideoRecord) -> bool:
        return all(
            allowed is None or value in allowed
            for allowed, value in ((self.methods, video.method), (self.qualities, video.quality),
                                   (self.splits, video.split))
        )


@dataclass(frozen=True)
class MaskJob:
    """A worker's payload: paths and small parameters only."""

    key: str
    source: str
    threshold: float
    frames: tuple[int, ...]
    size: int
    out_dir: str
    reference_quality: str = ""
    fake_dir: str = ""  # crops of the fake at the reference quality (diff)
    real_dir: str = ""  # crops of its real at the reference quality (diff)
    mask_video: str = ""  # official mask video (official)
    transforms: tuple = ()  # 2x3 full frame -> crop, per frame (official)
    error: str = ""  # set when the plan already knows the unit cannot be done


class Unusable(Exception):
    """The upstream records of a fake cannot give masks; the message is the unit's failure reason."""


# ---------------------------------------------------------------- planning


def plan(work: Path, state: RunState, params: MasksParams, selection: Selection = Selection(),
         root: Path | None = None) -> list[Task]:
    """One task per fake whose crops are extracted (done "extract" record), in key order."""
    layout = WorkLayout(Path(work))
    extract = {r.key: r for r in state.records(UPSTREAM)}
    tasks = []
    for rec in extract.values():
        if rec.status != DONE:
            continue
        video = VideoRecord.from_dict(rec.data["record"])
        if video.is_fake and selection.keeps(video):
            tasks.append(_task(layout, extract, video, params, root))
    return tasks


def _task(layout: WorkLayout, extract: dict, video: VideoRecord, params: MasksParams, root) -> Task:
    rec = extract[video.key]
    base = dict(key=video.key, source=params.source, threshold=params.threshold,
                frames=tuple(rec.data["frames"]), size=int(rec.data["size"]),
                out_dir=str(layout.mask_dir(video.dataset, video.method, video.quality, video.video)))
    fp_params = {"threshold": params.threshold, "source": params.source, "version": VERSION}
    try:
        if params.source == "official":
            path = _mask_video(video, root)
            job = MaskJob(**base, reference_quality="official", mask_video=path,
                          transforms=tuple(map(tuple, rec.data["transforms"])))
            return Task(video.key, fingerprint([path], fp_params, [rec.fingerprint]), job)
        quality = _reference_quality(extract, video, params.reference_quality)
        fake, real = _checked_pair(extract, video, quality)
    except Unusable as exc:
        job = MaskJob(**base, error=str(exc))
        return Task(video.key, fingerprint([], {**fp_params, "error": str(exc)}, [rec.fingerprint]), job)
    job = MaskJob(**base, reference_quality=quality,
                  fake_dir=str(layout.face_dir(video.dataset, video.method, quality, video.video)),
                  real_dir=str(layout.face_dir(video.dataset, video.target_method, quality, video.target)))
    upstream = [rec.fingerprint, fake.fingerprint, real.fingerprint]
    return Task(video.key, fingerprint([], {**fp_params, "reference": quality}, upstream), job)


def _key(video: VideoRecord, quality: str, real: bool = False) -> str:
    method, name = (video.target_method, video.target) if real else (video.method, video.video)
    return f"{video.dataset}/{method}/{quality}/{name}"


def _done(extract: dict, key: str) -> bool:
    return key in extract and extract[key].status == DONE


def _reference_quality(extract: dict, video: VideoRecord, mode: str) -> str:
    """The quality whose fake/real pair gives the masks."""
    raw_ok = _done(extract, _key(video, "raw")) and _done(extract, _key(video, "raw", real=True))
    if mode == "same" or (mode == "auto" and not raw_ok):
        return video.quality
    if not raw_ok:
        raise Unusable(f"reference quality raw asked for, but the raw crops of {_key(video, 'raw')} "
                       f"and its real {_key(video, 'raw', real=True)} are not both extracted")
    return "raw"


def _checked_pair(extract: dict, video: VideoRecord, quality: str):
    """The (fake, real) extract records at `quality`, checked to cover this fake's frames and transforms."""
    target = extract[video.key]
    pair = []
    for real in (False, True):
        key = _key(video, quality, real)
        rec = extract.get(key)
        who = "real" if real else "reference fake"
        if rec is None or rec.status != DONE:
            why = f" (extract failed: {rec.reason})" if rec is not None else ""
            raise Unusable(f"{who} crops missing: no finished extract of {key}{why}")
        _check_frames(target, rec, who, key)
        pair.append(rec)
    return pair


def _check_frames(target, rec, who: str, key: str) -> None:
    theirs = dict(zip(rec.data["frames"], rec.data["transforms"], strict=True))
    for frame, transform in zip(target.data["frames"], target.data["transforms"], strict=True):
        if frame not in theirs:
            raise Unusable(f"{who} crops missing: {key} has no crop of frame {frame}")
        if not np.allclose(transform, theirs[frame], atol=1e-6, rtol=0):
            raise Unusable(f"{who} crop of frame {frame} ({key}) has a different crop transform")


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
        return UnitResult(job.key, "", FAILED, job.error)
    try:
        masks = _diff_masks(job) if job.source == "diff" else _official_masks(job)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    out = Path(job.out_dir)
    stats = [mask_stats(m) for m in masks]
    for frame, mask in zip(job.frames, masks, strict=True):
        write_png(out / frame_name(frame), mask)
    _remove_others(out, job.frames)
    empty = [f for f, (area, _) in zip(job.frames, stats, strict=True) if area == 0.0]
    data = {
        "frames": list(job.frames),
        "reference_quality": job.reference_quality,
        "source": job.source,
        "mean_area": float(np.mean([a for a, _ in stats])) if stats else 0.0,
        "mean_components": float(np.mean([c for _, c in stats])) if stats else 0.0,
        "empty_frames": empty,
    }
    return UnitResult(job.key, "", DONE, outputs=[str(out)], counts={"masks": len(masks)}, data=data)


def read_crop(path: Path, size: int) -> np.ndarray:
    """A crop PNG as BGR uint8; LrlError naming the file when it is unreadable or of the wrong size."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        why = "missing" if not path.exists() else "unreadable (truncated or not a PNG)"
        raise LrlError(f"{path}: crop {why}")
    if image.shape[:2] != (size, size):
        raise LrlError(f"{path}: crop is {image.shape[1]}x{image.shape[0]}, expected {size}x{size}")
    return image


def _diff_masks(job: MaskJob) -> list[np.ndarray]:
    masks = []
    for frame in job.frames:
        fake_path, real_path = Path(job.fake_dir) / frame_name(frame), Path(job.real_dir) / frame_name(frame)
        fake = read_crop(fake_path, job.size)
        real = read_crop(real_path, job.size)
        masks.append(diff_mask(fake, real, job.threshold, order="BGR"))  # paper section 3.3
    return masks


def _official_masks(job: MaskJob) -> list[np.ndarray]:
    grays = read_gray_frames(Path(job.mask_video), job.frames)
    return [warp_mask(grays[f], t, job.size) for f, t in zip(job.frames, job.transforms, strict=True)]


def read_gray_frames(path: Path, frames) -> dict[int, np.ndarray]:
    """Grey frames of a video (upright, as the crops) at the given indices; LrlError when some are missing."""
    import cv2

    status = Decoding()
    found = {i: cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for i, f in iter_frames(path, sorted(set(frames)), status=status)}
    missing = sorted(set(frames) - found.keys())
    if missing:
        raise LrlError(f"{path}: mask video has {status.decoded} frames, crop frame {missing[0]} is beyond it")
    return found


def _remove_others(out: Path, frames) -> None:
    keep = {frame_name(f) for f in frames}
    for path in out.glob("*.png"):
        if path.name not in keep:
            path.unlink()


# ---------------------------------------------------------------- running


def run(root: Path, work_dir: Path, params: MasksParams = MasksParams(), selection: Selection = Selection(),
        jobs: int | None = None, progress: bool = True, backend: Backend | None = None) -> Summary:
    """Make the masks of every extracted fake; skip units already done with the same fingerprint."""
    jobs = jobs or os.cpu_count() or 1
    layout = WorkLayout(Path(work_dir))
    if not layout.state_db.exists():
        raise LrlError(f"{work_dir}: no run state here (run `lrl-prep extract` first)")
    with RunState(layout.state_db) as state:
        tasks = plan(layout.work, state, params, selection, Path(root))
        if not tasks:
            raise LrlError(f"{work_dir}: no extracted fake video to make masks for (run `lrl-prep extract` first)")
        state.save_settings(STAGE, asdict(params), asdict(selection), root)
        remove_stale_temps(layout.masks)
        return run_tasks(STAGE, tasks, work, state, jobs=jobs, unit="videos", item="masks",
                         count=lambda r: r.counts.get("masks", 0), progress=progress, backend=backend or Backend())


def status_tasks(work: Path, state: RunState) -> list[Task]:
    """The plan of the last run's parameters, or [] when masks never ran here."""
    saved = state.get_meta(f"params:{STAGE}")
    if saved is None:
        return []
    chosen = state.get_meta(f"selection:{STAGE}") or {}
    selection = Selection(**{k: tuple(v) if v is not None else None for k, v in chosen.items()})
    root = state.get_meta("root")
    return plan(Path(work), state, MasksParams(**saved), selection, Path(root) if root else None)
