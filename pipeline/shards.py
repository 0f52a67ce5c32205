"""Shards stage, planning: which video goes into which shard, and the fingerprint of every shard.

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

Left out, with a reason, never silently: a fake with no done masks record, and a video whose crop
size is not the shard set's (the most common size of the extract records). The writer leaves out
a video with a missing or unreadable PNG or a PNG of the wrong size (pipeline.shards_stage).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.errors import LrlError
from pipeline.layout import WorkLayout
from pipeline.records import VideoRecord
from pipeline.runner import Task
from pipeline.runstate import RunState, UnitResult, fingerprint
from pipeline.schema import COMPRESSIONS, DEFAULT_COMPRESSION

STAGE = "shards"
BUCKETS_META = "shards:buckets"
DRIFT = 2.0  # recompute a split's bucket count when its average fill is off by more than this factor


@dataclass(frozen=True)
class ShardsParams:
    alpha: float = 0.33  # eq. 2, paper section 4.1
    shard_samples: int = 4096
    compression: str = DEFAULT_COMPRESSION

    def __post_init__(self):
        if self.compression not in COMPRESSIONS:
            raise LrlError(f"unknown compression {self.compression!r}: choose one of {', '.join(COMPRESSIONS)}")
        if not 0.0 <= self.alpha < 2.0:
            raise LrlError(f"alpha {self.alpha} outside [0, 2): u/H + v/W is always below 2")
        if self.shard_samples < 1:
            raise LrlError(f"shard_samples {self.shard_samples} must be at least 1")


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
    interpolated: tuple[bool, ...]
    face_dir: str
    mask_dir: str | None  # None for a real: its masks are all zero
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
class ShardPlan:
    tasks: list[Task] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    buckets: dict[str, int] = field(default_factory=dict)
    size: int = 0
    mask_params: dict = field(default_factory=dict)


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


def _video_job(layout: WorkLayout, rec: VideoRecord, data: dict, masks: UnitResult | None) -> VideoJob:
    frames = tuple(int(i) for i in data["frames"])
    flags = data.get("interpolated") or [False] * len(frames)
    return VideoJob(
        key=rec.key, dataset=rec.dataset, method=rec.method, quality=rec.quality, video=rec.video,
        split=rec.split, label=int(rec.label), frames=frames, interpolated=tuple(bool(b) for b in flags),
        face_dir=str(layout.face_dir(rec.dataset, rec.method, rec.quality, rec.video)),
        mask_dir=str(layout.mask_dir(rec.dataset, rec.method, rec.quality, rec.video)) if rec.is_fake else None,
        reference_quality=str(masks.data.get("reference_quality", "")) if masks else "",
    )


def _unusable(rec: VideoRecord, data: dict, masks: UnitResult | None, size: int) -> str | None:
    """Why a video cannot go into a shard, or None."""
    if rec.is_fake and masks is None:
        return "left out: no done masks record (run lrl-prep masks)"
    if int(data["size"]) != size:
        return f"left out: crop size {data['size']}, the shard set's is {size}"
    if not data.get("frames"):
        return "left out: no crops"
    if len(data.get("interpolated") or data["frames"]) != len(data["frames"]):
        return "left out: extract record has not one interpolated flag per frame"
    return None


def _usable(state: RunState, layout: WorkLayout, plan: ShardPlan):
    """(job, group, upstream fingerprint) of every usable video; fills plan.left_out and plan.size."""
    extract = [r for r in state.records("extract") if r.ok]
    masks = {r.key: r for r in state.records("masks") if r.ok}
    sizes = Counter(int(r.data["size"]) for r in extract)
    plan.size = min(sizes, key=lambda s: (-sizes[s], s)) if sizes else 0
    usable = []
    for r in extract:
        rec = VideoRecord.from_dict(r.data["record"])
        m = masks.get(rec.key) if rec.is_fake else None
        why = _unusable(rec, r.data, m, plan.size)
        if why:
            plan.left_out.append((rec.key, why))
        else:
            upstream = f"{rec.key}:{r.fingerprint}:{m.fingerprint if m else ''}"
            usable.append((_video_job(layout, rec, r.data, m), group_key(rec), upstream))
    return usable


def plan_shards(work: Path, state: RunState, params: ShardsParams, saved_buckets: dict) -> ShardPlan:
    """Assign every usable video to a shard of its split; one Task per non-empty shard."""
    layout = WorkLayout(Path(work))
    plan = ShardPlan(mask_params=state.get_meta("params:masks", {}) or {})
    usable = _usable(state, layout, plan)
    samples = Counter()
    for job, _, _ in usable:
        samples[job.split] += len(job.frames)
    plan.buckets = {s: bucket_count(n, params.shard_samples, saved_buckets.get(s)) for s, n in sorted(samples.items())}
    members = defaultdict(list)
    for job, group, upstream in usable:
        members[(job.split, bucket_of(group, plan.buckets[job.split]))].append((job, upstream))
    for (split, bucket), items in sorted(members.items()):
        items.sort(key=lambda item: item[0].key)
        folders = [d for job, _ in items for d in (job.face_dir, job.mask_dir) if d]  # PNGs rewritten or gone
        fp = fingerprint(folders, {"params": asdict(params), "size": plan.size, "mask_params": plan.mask_params},
                         [upstream for _, upstream in items])
        job = ShardJob(str(layout.shard_path(split, bucket)), split, bucket, plan.size, params,
                       plan.mask_params, fp, tuple(j for j, _ in items))
        plan.tasks.append(Task(shard_key(split, bucket), fp, job))
    return plan


def plan(work: Path, state: RunState, params: ShardsParams) -> list[Task]:
    """The shard units, with the bucket counts saved in the run state."""
    return plan_shards(work, state, params, state.get_meta(BUCKETS_META, {}) or {}).tasks
