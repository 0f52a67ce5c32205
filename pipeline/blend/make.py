"""A worker's unit: one fake video, made frame by frame with the blend kernel and encoded as FF++ does.

The real (its best quality in ROOT) is decoded once, in order; each frame where a blended track has a face
is forged (self-blend, or swap with the source frame of nearest pose), and written at raw, c23 and c40
with its mask (the union of the blended faces' regions, pipeline.kernels.blend) as a lossless grey video.
Nothing appears until all four files are complete (atomic writes), so a killed or failed unit leaves the
fake's earlier files as they were. Parameters are drawn once per fake and face from the seed and the
fake's name (pipeline.blend.sources.rng_for), so a re-run makes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.blend.faces import FaceTracks
from pipeline.blend.sources import rng_for, source_frames
from pipeline.blend.tree import MASKS
from pipeline.engine.runstate import DONE, FAILED, UnitResult
from pipeline.engine.threads import worker_threads
from pipeline.errors import LrlError
from pipeline.kernels.blend import draw_self_blend, draw_swap, self_blend, swap
from pipeline.kernels.encode import ENCODINGS, MASK_ENCODING, video_rate, writers
from pipeline.kernels.video import iter_frames

SELF, SWAP = "SelfBlend", "FaceSwapBlend"


@dataclass(frozen=True)
class FakeJob:
    """A worker's payload: one fake (paths, the face tracks as dicts, small parameters)."""

    key: str  # "<Method>/AAA_BBB"
    method: str
    target: str  # the real's video (its best quality in ROOT)
    outputs: tuple[tuple[str, str], ...]  # (raw | c23 | c40 | masks, path)
    seed: int = 0
    faces: tuple[int, ...] = (0,)  # the target's tracks blended
    tracks: dict | None = None  # the target's FaceTracks, attached after detection
    source: str = ""  # swap: the source real's video
    source_tracks: dict | None = None
    error: str = ""  # set when the unit cannot be made


def make_fake(job: FakeJob) -> UnitResult:
    """Make and write one fake; its record says what was drawn and how many frames were forged."""
    if job.error:
        return UnitResult(job.key, "", FAILED, job.error)
    try:
        data = _make(job)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    except OSError as exc:  # e.g. a full disk: the unit fails, the run goes on
        return UnitResult(job.key, "", FAILED, f"{exc.filename or job.key}: {exc.strerror or exc}")
    return UnitResult(
        job.key,
        "",
        DONE,
        outputs=[p for _, p in job.outputs],
        counts={"frames": data["frames"], "no_face": data["frames"] - data["forged"]},
        data=data,
    )


def _make(job: FakeJob) -> dict:
    tracks = FaceTracks.from_dict(job.tracks)
    faces = [f for f in job.faces if f < len(tracks.boxes)]
    rng = rng_for(job.seed, job.key)
    drawn = [draw_swap(rng) if job.method == SWAP else draw_self_blend(rng) for _ in faces]
    sources, picks = _sources(job, tracks, faces)
    forged = frames = 0
    outputs = {
        name: (Path(path), MASK_ENCODING if name == MASKS else ENCODINGS[name]) for name, path in job.outputs
    }
    with writers(outputs, tracks.width, tracks.height, video_rate(Path(job.target))) as out:
        for i, frame in iter_frames(Path(job.target), None, threads=worker_threads()):
            if frame.shape[:2] != (tracks.height, tracks.width):
                raise LrlError(
                    f"{job.target}: frame {i} is {frame.shape[1]}x{frame.shape[0]}, its faces were "
                    f"found on {tracks.width}x{tracks.height}"
                )
            fake, region = _forge(job, frame, i, tracks, faces, drawn, sources, picks)
            forged += int(region is not None)
            mask = (
                np.zeros(frame.shape[:2], np.uint8)
                if region is None
                else np.round(region * 255).astype(np.uint8)
            )
            for name in outputs:
                out.write(name, np.repeat(mask[..., None], 3, 2) if name == MASKS else fake)
            frames += 1
    if frames == 0:
        raise LrlError(f"{job.target}: no decodable frame")
    ratios = [getattr(p, "ratio", 1.0) for p in drawn]
    return {
        "target": job.target,
        "source": job.source or None,
        "faces": faces,
        "ratios": ratios,
        "frames": frames,
        "forged": forged,
    }


def _sources(job: FakeJob, tracks: FaceTracks, faces: list[int]) -> tuple[dict, list]:
    """A swap's decoded source frames by index, and per blended face its source frame per target frame."""
    if job.method != SWAP:
        return {}, []
    src = FaceTracks.from_dict(job.source_tracks)
    picks = [source_frames(tracks.landmarks[f], src.landmarks[0]) for f in faces]
    wanted = sorted({i for p in picks for i in p if i is not None})
    frames = dict(iter_frames(Path(job.source), wanted, threads=worker_threads()))
    if len(frames) < len(wanted):
        raise LrlError(f"{job.source}: the swap source decodes to fewer frames than its faces were found on")
    return {"frames": frames, "tracks": src}, picks


def _forge(job, frame, i, tracks, faces, drawn, sources, picks) -> tuple[np.ndarray, np.ndarray | None]:
    """Frame i forged on every blended face it has, and the union of their regions (None: no face)."""
    region = None
    for k, (face, params) in enumerate(zip(faces, drawn, strict=True)):
        where = tracks.face(face, i)
        if where is None:
            continue
        if job.method == SWAP:
            j = picks[k][i] if i < len(picks[k]) else None
            if j is None:
                continue
            done = swap(frame, where, sources["frames"][j], sources["tracks"].face(0, j), params)
        else:
            done = self_blend(frame, where, params)
        frame = done.frame
        region = done.region if region is None else np.maximum(region, done.region)
    return frame, region
