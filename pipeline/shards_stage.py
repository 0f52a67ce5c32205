"""`lrl-prep shards`: write each planned shard (pipeline.shards) as HDF5, then index.json, last.

A worker reads one shard's crop and mask PNGs video by video, computes the frequency cue (eq. 1-3)
and appends to a temporary file that is renamed into place only when complete; a failure removes
it and leaves the previous shard untouched. A video whose PNGs are missing, unreadable or of the
wrong size is left out of its shard (the shard still completes) and reported with its reason.
index.json is rewritten only when every shard is done; then shard files and run-state records no
longer planned are removed.
"""

from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path, remove_stale_temps
from pipeline.backends import Backend
from pipeline.errors import LrlError
from pipeline.layout import WorkLayout, frame_name
from pipeline.runner import Summary, Task, run_tasks
from pipeline.runstate import DONE, RunState, UnitResult
from pipeline.schema import ShardWriter
from pipeline.shards import (
    BUCKETS_META,
    STAGE,
    ShardJob,
    ShardPlan,
    ShardsParams,
    VideoJob,
    plan,
    plan_shards,
    shard_key,
)
from pipeline.shards_index import build_index, sample_counts, sha256_file, shard_files, write_index

MASK_LEVEL = 127  # mask PNGs are 0/255 (CONTRACT.md): forged where the value is above this


class Unusable(Exception):
    """A video cannot go into its shard; the message names the file and the problem."""


def _read(path: Path, size: int, what: str, flags: int) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), flags)
    if image is None:
        raise Unusable(f"{path}: {what} PNG {'missing' if not path.exists() else 'unreadable'}")
    if image.shape[:2] != (size, size):
        raise Unusable(f"{path}: {what} is {image.shape[1]}x{image.shape[0]}, expected {size}x{size}")
    return image


def load_video(video: VideoJob, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(rgb (n, size, size, 3) uint8, mask (n, size, size) uint8 in {0, 1}) of one video's frames."""
    import cv2

    n = len(video.frames)
    rgb = np.empty((n, size, size, 3), np.uint8)
    mask = np.zeros((n, size, size), np.uint8)
    for i, frame in enumerate(video.frames):
        bgr = _read(Path(video.face_dir) / frame_name(frame), size, "crop", cv2.IMREAD_COLOR)
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=rgb[i])
        if video.mask_dir is not None:
            grey = _read(Path(video.mask_dir) / frame_name(frame), size, "mask", cv2.IMREAD_GRAYSCALE)
            np.greater(grey, MASK_LEVEL, out=mask[i], casting="unsafe")
    return rgb, mask


def _meta(video: VideoJob) -> dict:
    return {"dataset": video.dataset, "method": video.method, "quality": video.quality, "video": video.video,
            "split": video.split, "frame": list(video.frames), "interpolated": [int(b) for b in video.interpolated]}


def _attrs(job: ShardJob, written: list[VideoJob], freq: dict) -> dict:
    refs = sorted({v.reference_quality for v in written if v.mask_dir is not None and v.reference_quality})
    return {
        "alpha": job.params.alpha, "compression": job.params.compression, "split": job.split,
        "bucket": job.bucket, "fingerprint": job.fingerprint,
        "mask_threshold": float(job.mask_params.get("threshold", float("nan"))),
        "mask_reference_quality": ",".join(refs), "mask_params": job.mask_params,
        "freq_sum": freq["sum"], "freq_sumsq": freq["sumsq"], "freq_count": freq["count"],
    }


def _fill(writer: ShardWriter, job: ShardJob) -> tuple[list[VideoJob], dict[str, str], dict]:
    """Append every usable video; (videos written, left-out reasons, sums of the freq values)."""
    from pipeline.dct import frequency_cue

    written, left_out, freq_sums = [], {}, {"sum": 0.0, "sumsq": 0.0, "count": 0}
    for video in job.videos:
        try:
            rgb, mask = load_video(video, job.size)
        except Unusable as exc:
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


def work(job: ShardJob) -> UnitResult:
    """Write one shard file atomically; return its checksum, counts and frequency sums."""
    final = Path(job.path)
    with atomic_path(final) as tmp:
        writer = ShardWriter(tmp, job.size, job.params.compression)
        try:
            written, left_out, freq = _fill(writer, job)
            writer.close(_attrs(job, written, freq))
        except BaseException:
            writer.abort()
            raise
        digest, size = sha256_file(tmp), tmp.stat().st_size
    data = {
        "file": final.name, "split": job.split, "bucket": job.bucket, "sha256": digest, "bytes": size,
        "samples": writer.count, "videos": len(written),
        "counts": sample_counts(writer.labels, writer.meta["method"], writer.meta["quality"]),
        "freq": freq, "left_out": left_out,
    }
    return UnitResult(shard_key(job.split, job.bucket), job.fingerprint, DONE, outputs=[str(final)],
                      counts={"samples": data["samples"], "videos": len(written)}, data=data)


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


def _finish(layout: WorkLayout, state: RunState, p: ShardPlan, params: ShardsParams, records: dict) -> None:
    """Write index.json from this plan's records, then drop shard files and records no longer planned."""
    planned = {t.key for t in p.tasks}
    header = {"params": asdict(params), "size": p.size, "mask_params": p.mask_params, "buckets": p.buckets,
              "left_out": dict(_left_out(p, records))}
    write_index(layout.shard_index, build_index([records[k] for k in sorted(planned)], header))
    keep = {Path(t.payload.path).name for t in p.tasks}
    for path in shard_files(layout.shards):
        if path.name not in keep:
            path.unlink()
    for key in set(records) - planned:
        state.delete(STAGE, key)


def run(work_dir: Path, params: ShardsParams | None = None, jobs: int = 1, progress: bool = True,
        backend: Backend | None = None) -> Summary:
    """Write every shard whose inputs changed, then the index; left-out videos join summary.failures.

    When a shard fails, index.json is left as it was and summary.failed says how many.
    """
    params = params or ShardsParams()
    layout = WorkLayout(Path(work_dir))
    if not layout.state_db.exists():
        raise LrlError(f"{work_dir}: no run state here (run `lrl-prep extract` first)")
    ensure_writable(layout.shards)
    with RunState(layout.state_db) as state:
        p = plan_shards(layout.work, state, params, state.get_meta(BUCKETS_META, {}) or {})
        if not p.tasks:
            why = f"; {len(p.left_out)} left out, e.g. {p.left_out[0][0]}: {p.left_out[0][1]}" if p.left_out else ""
            raise LrlError(f"{work_dir}: no extracted video to shard{why}")
        state.set_meta(f"params:{STAGE}", asdict(params))
        state.set_meta(BUCKETS_META, p.buckets)
        remove_stale_temps(layout.shards)
        _forget_missing(state, p.tasks)
        summary = run_tasks(STAGE, p.tasks, work, state, jobs=jobs, unit="shards", item="samples",
                            count=lambda r: r.counts.get("samples", 0), progress=progress,
                            backend=backend or Backend())
        records = {r.key: r for r in state.records(STAGE)}
        summary.failures += _left_out(p, records)
        if summary.failed == 0:
            _finish(layout, state, p, params, records)
        return summary


def status_tasks(work: Path, state: RunState) -> list[Task]:
    """Re-plan with the parameters of the last run (no tasks when the stage never ran)."""
    saved = state.get_meta(f"params:{STAGE}")
    return plan(Path(work), state, ShardsParams(**saved)) if saved else []
