"""`lrl-prep shards`: HDF5 shards of the crops, frequency cues (eq. 1-3), masks and labels; index.json last.

Assignment. All videos of one target face (a real, every fake made on its frames, at every
quality) form a group, keyed "<dataset>/<target_method>/<target>". A group goes to bucket
sha256(group) mod B of its split, so a video's shard depends on its own identity only: a new or
changed video adds to or rewrites its own shard, and a real and its fakes share a shard (the
trainer reads pairs from one file). B per split is round(samples / --shard-samples), at least 1,
saved in the run state and kept while the average fill stays within 2x of --shard-samples either
way (past that, B is recomputed and that split's shards are all rewritten).

A shard unit (key "<split>-<bucket:04d>") is fingerprinted by its members' extract and masks
fingerprints, the stamps (size, mtime) of their crop and mask folders (a PNG written, always by
rename, or deleted changes them), the crop size, the mask parameters and ShardsParams; an
unchanged shard is skipped.

A worker reads one shard's PNGs video by video (every crop: each (frame, face), with its `face` id) and
appends to a temporary file renamed into place only when complete; a failure leaves the previous shard
untouched. A fake whose real is not in ROOT (masks record no_mask) goes in with mask_known 0 and an
all-zero mask (evaluation data such as DFDC's public test set has no originals); the summary counts
these videos ("fake videos without a mask") and index.json lists them under "mask_unknown". Left out,
with a reason, never silently: a fake whose masks failed or have not run, a video whose crop size is
not the shard set's (the most common size of the extract records), and a video with a missing,
unreadable or wrongly sized PNG; the summary counts them ("videos left out", not failures) and
index.json lists them. index.json is rewritten only when every shard is done;
then shard files and records no longer planned are removed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pipeline.engine.runner import Summary, Task
from pipeline.engine.runstate import DONE, RunState, UnitResult, fingerprint
from pipeline.errors import LrlError
from pipeline.params import PrepConfig, ShardsParams
from pipeline.stages.context import Context, Plan
from pipeline.store.atomic import atomic_path, remove_stale_temps
from pipeline.store.images import MASK_LEVEL, read_png
from pipeline.store.index import ShardEntry, build_index, sample_counts, sha256_file, shard_files, write_index
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import (
    BUCKETS_META,
    EXTRACT,
    MASKS,
    NO_MASK,
    CropsRecord,
    MasksRecord,
    VideoRecord,
    params_meta,
)
from pipeline.store.records import SHARDS as STAGE
from pipeline.store.schema import ShardWriter
from pipeline.store.space import ensure_free

UNITS = (STAGE,)
NOTES: dict[str, str] = {}  # no count of its records is shown by `status`
MASK_UNKNOWN = "fake videos without a mask (mask_known 0)"  # the summary's note
SAMPLE_OVERHEAD, FILE_OVERHEAD = 1024, 128 * 1024  # bytes; measured below them (expected_bytes)
DRIFT = 2.0  # recompute a split's bucket count when its average fill is off by more than this factor


@dataclass(frozen=True)
class VideoJob:
    """One video to write: where its crops and masks are, and its per-sample metadata."""

    key: str
    dataset: str
    method: str
    quality: str
    video: str
    split: str
    label: int
    frames: tuple[int, ...]
    faces: tuple[int, ...]  # per crop (frames[c], faces[c])
    interpolated: tuple[bool, ...]
    face_dir: str
    mask_dir: str | None  # None for a real and a fake without a mask: its masks are all zero
    mask_known: bool = True  # False for a fake without a mask (its real is not in ROOT)
    reference_quality: str = ""


@dataclass(frozen=True)
class ShardJob:
    """The payload of one shard unit (paths and small values only)."""

    path: str
    split: str
    bucket: int
    size: int
    params: ShardsParams
    mask_params: dict
    fingerprint: str
    videos: tuple[VideoJob, ...]


@dataclass
class ShardPlan(Plan):
    """The shards stage's plan. Refresh never prunes it: `execute` drops unplanned shards once the new
    index.json is written, so a failed run leaves the previous complete set."""

    units: dict[str, list[Task]] = field(default_factory=lambda: {STAGE: []})
    prune: bool = False
    left_out: list[tuple[str, str]] = field(default_factory=list)
    buckets: dict[str, int] = field(default_factory=dict)
    size: int = 0
    mask_params: dict = field(default_factory=dict)
    mask_unknown: list[tuple[str, str]] = field(default_factory=list)  # fakes written with mask_known 0

    @property
    def tasks(self) -> list[Task]:
        return self.units[STAGE]


# ---------------------------------------------------------------- planning


def group_key(record: VideoRecord) -> str:
    """The target face a video shows frames of: a real and all its fakes share it."""
    return f"{record.dataset}/{record.target_method}/{record.target}"


def bucket_of(group: str, buckets: int) -> int:
    """Stable bucket of a group: the first 8 bytes of its sha256, modulo the bucket count."""
    return int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big") % buckets


def bucket_count(samples: int, target: int, previous: int | None = None) -> int:
    """Buckets for a split: the previous count while its fill is within DRIFT x target, else anew."""
    wanted = max(1, round(samples / target))
    if previous and target / DRIFT <= samples / previous <= target * DRIFT:
        return previous
    return wanted


def shard_key(split: str, bucket: int) -> str:
    return f"{split}-{bucket:04d}"


def _video_job(layout: WorkLayout, crops: CropsRecord, masks: MasksRecord | None) -> VideoJob:
    """`masks`: a fake's done masks record; None for a real and for a fake without a mask."""
    rec = crops.record
    known = not rec.is_fake or masks is not None
    return VideoJob(
        key=rec.key,
        dataset=rec.dataset,
        method=rec.method,
        quality=rec.quality,
        video=rec.video,
        split=rec.split,
        label=int(rec.label),
        frames=tuple(int(i) for i in crops.frames),
        faces=tuple(int(k) for k in crops.faces),
        interpolated=tuple(bool(b) for b in crops.interpolated),
        face_dir=str(layout.face_dir(rec.dataset, rec.method, rec.quality, rec.video)),
        mask_dir=str(layout.mask_dir(rec.dataset, rec.method, rec.quality, rec.video)) if masks else None,
        mask_known=known,
        reference_quality=masks.reference_quality if masks else "",
    )


def _unusable(crops: CropsRecord, masks: UnitResult | None, size: int) -> str | None:
    """Why a video cannot go into a shard, or None (`masks`: a fake's masks record, of any status)."""
    if crops.record.is_fake and (masks is None or not (masks.ok or masks.status == NO_MASK)):
        return "left out: no done masks record (run lrl-prep masks)"
    if int(crops.size) != size:
        return (
            f"left out: crop size {crops.size}, the shard set's is {size} "
            "(the most common; refresh its ROOT with "
            f"--size {size}, or keep it in another WORK)"
        )
    if not crops.frames:
        return "left out: no crops"
    if len(crops.interpolated) != len(crops.frames):
        return "left out: extract record has not one interpolated flag per frame"
    return None


def _usable(state: RunState, layout: WorkLayout, plan: ShardPlan):
    """(job, group, upstream fingerprint) of every usable video; fills plan.left_out and plan.size."""
    extract = [(r, CropsRecord.from_dict(r.data)) for r in state.records(EXTRACT) if r.ok]
    masks = {r.key: r for r in state.records(MASKS)}
    sizes = Counter(int(c.size) for _, c in extract)
    plan.size = min(sizes, key=lambda s: (-sizes[s], s)) if sizes else 0
    usable = []
    for r, crops in extract:
        rec = crops.record
        m = masks.get(rec.key) if rec.is_fake else None
        why = _unusable(crops, m, plan.size)
        if why:
            plan.left_out.append((rec.key, why))
        else:
            if m is not None and m.status == NO_MASK:
                plan.mask_unknown.append((rec.key, f"no mask: {m.reason}"))
            upstream = f"{rec.key}:{r.fingerprint}:{m.fingerprint if m else ''}"
            job = _video_job(layout, crops, MasksRecord.from_dict(m.data) if m and m.ok else None)
            usable.append((job, group_key(rec), upstream))
    return usable


def plan_shards(work: Path, state: RunState, params: ShardsParams, saved_buckets: dict) -> ShardPlan:
    """Assign every usable video to a shard of its split; one Task per non-empty shard."""
    layout = WorkLayout(Path(work))
    plan = ShardPlan(mask_params=state.get_meta(params_meta(MASKS), {}) or {})
    usable = _usable(state, layout, plan)
    samples = Counter()
    for job, _, _ in usable:
        samples[job.split] += len(job.frames)
    plan.buckets = {
        s: bucket_count(n, params.shard_samples, saved_buckets.get(s)) for s, n in sorted(samples.items())
    }
    members = defaultdict(list)
    for job, group, upstream in usable:
        members[(job.split, bucket_of(group, plan.buckets[job.split]))].append((job, upstream))
    for (split, bucket), items in sorted(members.items()):
        items.sort(key=lambda item: item[0].key)
        folders = [d for job, _ in items for d in (job.face_dir, job.mask_dir) if d]  # PNGs rewritten or gone
        fp = fingerprint(
            folders,
            {"params": asdict(params), "size": plan.size, "mask_params": plan.mask_params},
            [upstream for _, upstream in items],
        )
        job = ShardJob(
            str(layout.shard_path(split, bucket)),
            split,
            bucket,
            plan.size,
            params,
            plan.mask_params,
            fp,
            tuple(j for j, _ in items),
        )
        plan.tasks.append(Task(shard_key(split, bucket), fp, job))
    return plan


def plan(ctx: Context) -> ShardPlan:
    """The shard units of the usable videos (bucket counts as saved in the run state)."""
    return plan_shards(ctx.work, ctx.state, ctx.config.shards, ctx.state.get_meta(BUCKETS_META, {}) or {})


# ---------------------------------------------------------------- worker


def load_video(video: VideoJob, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(rgb (n, size, size, 3) uint8, mask (n, size, size) uint8 in {0, 1}) of one video's frames.

    Raises LrlError naming the first missing, unreadable or wrongly sized PNG.
    """
    n = len(video.frames)
    rgb = np.empty((n, size, size, 3), np.uint8)
    mask = np.zeros((n, size, size), np.uint8)
    for i, (frame, face) in enumerate(zip(video.frames, video.faces, strict=True)):
        read_png(Path(video.face_dir) / frame_name(frame, face), size, "crop", out=rgb[i])
        if video.mask_dir is not None:
            grey = read_png(Path(video.mask_dir) / frame_name(frame, face), size, "mask", grey=True)
            np.greater(grey, MASK_LEVEL, out=mask[i], casting="unsafe")
    return rgb, mask


def _meta(video: VideoJob) -> dict:
    return {
        "dataset": video.dataset,
        "method": video.method,
        "quality": video.quality,
        "video": video.video,
        "split": video.split,
        "frame": list(video.frames),
        "interpolated": [int(b) for b in video.interpolated],
        "face": list(video.faces),
        "mask_known": int(video.mask_known),
    }


def _attrs(job: ShardJob, written: list[VideoJob], freq: dict) -> dict:
    refs = sorted({v.reference_quality for v in written if v.mask_dir is not None and v.reference_quality})
    return {
        "alpha": job.params.alpha,
        "compression": job.params.compression,
        "split": job.split,
        "bucket": job.bucket,
        "fingerprint": job.fingerprint,
        "mask_threshold": float(job.mask_params.get("threshold", float("nan"))),
        "mask_reference_quality": ",".join(refs),
        "mask_params": job.mask_params,
        "freq_sum": freq["sum"],
        "freq_sumsq": freq["sumsq"],
        "freq_count": freq["count"],
    }


def _fill(writer: ShardWriter, job: ShardJob) -> tuple[list[VideoJob], dict[str, str], dict]:
    """Append every usable video; (videos written, left-out reasons, sums of the freq values)."""
    from pipeline.kernels.dct import frequency_cue

    written, left_out, freq_sums = [], {}, {"sum": 0.0, "sumsq": 0.0, "count": 0}
    for video in job.videos:
        try:
            rgb, mask = load_video(video, job.size)
        except LrlError as exc:
            left_out[video.key] = f"left out: {exc}"
            continue
        freq = frequency_cue(rgb, job.params.alpha)  # eq. 1-3
        flat = freq.reshape(-1)
        freq_sums["sum"] += float(flat.sum())
        freq_sums["sumsq"] += float(np.dot(flat, flat))
        freq_sums["count"] += flat.size
        writer.append(rgb, freq.astype(np.float16), mask, video.label, _meta(video))
        written.append(video)
    return written, left_out, freq_sums


def expected_bytes(job: ShardJob) -> int:
    """An upper bound of the shard's size in bytes: its samples uncompressed (rgb 3, freq 2 (float16), mask 1
    byte per pixel), SAMPLE_OVERHEAD per sample (chunk index, metadata) and FILE_OVERHEAD (HDF5 headers,
    attributes)."""
    samples = sum(len(video.frames) for video in job.videos)
    return samples * (job.size * job.size * 6 + SAMPLE_OVERHEAD) + FILE_OVERHEAD


def space_needed(jobs: list[ShardJob]) -> int:
    """Free bytes needed to write `jobs` one after the other in any order: each new file replaces its old
    one (if any) once written, so the growth of every shard plus the largest old file (alive beside its
    new one while that is written)."""
    old = [Path(j.path).stat().st_size if Path(j.path).is_file() else 0 for j in jobs]
    return sum(max(0, expected_bytes(j) - o) for j, o in zip(jobs, old, strict=True)) + max(old, default=0)


def work(job: ShardJob) -> UnitResult:
    """Write one shard file atomically; its record is its ShardEntry (as a dict) and the left-out videos.

    Its expected size is checked against the free space first (DiskFull): HDF5 can crash natively on a
    full disk instead of raising.
    """
    final = Path(job.path)
    ensure_free(final.parent, expected_bytes(job), f"writing the shard {final.name}")
    with atomic_path(final, expected_bytes(job)) as tmp:
        writer = ShardWriter(tmp, job.size, job.params.compression)
        try:
            written, left_out, freq = _fill(writer, job)
            writer.close(_attrs(job, written, freq))
        except BaseException:
            writer.abort()
            raise
        digest, size = sha256_file(tmp), tmp.stat().st_size
    entry = ShardEntry(
        final.name,
        job.split,
        job.bucket,
        writer.count,
        len(written),
        size,
        digest,
        sample_counts(writer.labels, writer.meta["method"], writer.meta["quality"]),
        freq,
        job.fingerprint,
    )
    return UnitResult(
        shard_key(job.split, job.bucket),
        job.fingerprint,
        DONE,
        outputs=[str(final)],
        counts={"samples": entry.samples, "videos": entry.videos},
        data={**asdict(entry), "left_out": left_out},
    )


# ---------------------------------------------------------------- running


def ensure_writable(folder: Path) -> None:
    """LrlError naming `folder` when a file cannot be created in it (read-only, full, not a folder)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        why = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        raise LrlError(f"{folder}: cannot write shards there ({why})") from None


def _forget_missing(state: RunState, tasks: list[Task]) -> None:
    """Redo a unit whose shard file was deleted since it was recorded as done."""
    for task in tasks:
        if not Path(task.payload.path).is_file():
            state.delete(STAGE, task.key)


def _left_out(p: ShardPlan, records: dict[str, UnitResult]) -> list[tuple[str, str]]:
    found = list(p.left_out)
    for task in p.tasks:
        rec = records.get(task.key)
        if rec is not None and rec.ok and rec.fingerprint == task.fingerprint:
            found += sorted(rec.data.get("left_out", {}).items())
    return found


def _entry(rec: UnitResult) -> ShardEntry:
    return ShardEntry(
        **{k: v for k, v in rec.data.items() if k != "left_out"} | {"fingerprint": rec.fingerprint}
    )


def _finish(layout: WorkLayout, state: RunState, p: ShardPlan, params: ShardsParams, records: dict) -> None:
    """Write index.json from this plan's records, then drop shard files and records no longer planned."""
    planned = {t.key for t in p.tasks}
    header = {
        "params": asdict(params),
        "size": p.size,
        "mask_params": p.mask_params,
        "buckets": p.buckets,
        "extract_params": state.get_meta(params_meta(EXTRACT), {}) or {},
        "left_out": dict(_left_out(p, records)),
        "mask_unknown": dict(p.mask_unknown),
    }
    write_index(layout.shard_index, build_index([_entry(records[k]) for k in sorted(planned)], header))
    keep = {Path(t.payload.path).name for t in p.tasks}
    for path in shard_files(layout.shards):
        if path.name not in keep:
            path.unlink()
    for key in set(records) - planned:
        state.delete(STAGE, key)


def execute(ctx: Context, p: ShardPlan) -> Summary:
    """Write every shard whose inputs changed, then the index; left-out videos are summary.held.

    When a shard fails, index.json is left as it was and summary.failed says how many.
    """
    state, layout = ctx.state, ctx.layout
    ensure_writable(layout.shards)
    state.set_meta(params_meta(STAGE), asdict(ctx.config.shards))
    state.set_meta(BUCKETS_META, p.buckets)
    remove_stale_temps(layout.shards)
    _forget_missing(state, p.tasks)
    todo = [t.payload for t in p.tasks if state.settled(STAGE, t.key, t.fingerprint) is None]
    ensure_free(layout.shards, space_needed(todo), f"writing {len(todo)} shards")
    summary = ctx.run_tasks(
        STAGE, p.tasks, work, unit="shards", item="samples", count=lambda r: r.counts.get("samples", 0)
    )
    records = {r.key: r for r in state.records(STAGE)}
    summary.held, summary.held_label = _left_out(p, records), "videos left out"
    if p.mask_unknown:
        summary.notes[MASK_UNKNOWN] = len(p.mask_unknown)
    if summary.failed == 0:
        _finish(layout, state, p, ctx.config.shards, records)
    return summary


def saved_config(state: RunState) -> tuple[PrepConfig, None] | None:
    """The configuration the last shards run used, or None when it never ran in this WORK."""
    saved = state.get_meta(params_meta(STAGE))
    return (PrepConfig(shards=ShardsParams(**saved)), None) if saved else None


NEEDS_STATE = True  # after extract


def nothing_to_do(ctx: Context, planned: Plan) -> str:
    """Why no video is planned (run_stage's error), with the first video left out and why."""
    left = planned.left_out
    why = f"; {len(left)} left out, e.g. {left[0][0]}: {left[0][1]}" if left else ""
    return f"{ctx.work}: no extracted video to shard{why}"
