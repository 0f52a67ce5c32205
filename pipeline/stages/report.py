"""`lrl-prep report --work WORK --out DIR`: the dataset QA pages of a WORK folder (reads, never writes WORK).

What it reads: the run state's done extract and masks records (`CropsRecord`, `MasksRecord`), its
failed units with their reasons, index.json's left-out videos, and the crop and mask PNGs of the
frames shown. What it writes (pipeline.pages.dataset): DIR/index.html (counts, mask histograms,
videos worth a look, failures, skipped inputs, links) and DIR/sheets-NNNN.html, `per_page` videos each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.engine.runstate import FAILED, RunState
from pipeline.errors import LrlError
from pipeline.params import ReportOptions
from pipeline.store.images import read_png
from pipeline.store.index import load_index
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import DETECT, EXTRACT, MASKS, NO_MASK, SHARDS, CropsRecord, MasksRecord

FAILING_UNITS = (DETECT, EXTRACT, MASKS, SHARDS)
SHEET_FRAMES = 16  # at most this many frames per video on a contact sheet (evenly picked, flagged ones first)


@dataclass
class WorkSummary:
    """What the QA pages show, gathered from the run state and index.json."""

    videos: list[tuple[CropsRecord, MasksRecord | None]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (unit, key, reason)
    no_mask: list[tuple[str, str]] = field(
        default_factory=list
    )  # (fake, reason): no real known, not a failure
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (video, reason): left out of the shards
    few_crops: list[tuple[str, str]] = field(
        default_factory=list
    )  # (fake, note): far fewer crops than its real


def gather(work: Path) -> WorkSummary:
    """The done videos (with their masks record, None for reals), failed units and left-out videos."""
    layout = WorkLayout(Path(work))
    if not layout.state_db.exists():
        raise LrlError(f"{work}: no run state here (run `lrl-prep refresh` or `extract` first)")
    out = WorkSummary()
    with RunState(layout.state_db) as state:
        masks = {r.key: MasksRecord.from_dict(r.data) for r in state.records(MASKS) if r.ok}
        for r in sorted(state.records(EXTRACT), key=lambda r: r.key):
            if r.ok:
                out.videos.append((CropsRecord.from_dict(r.data), masks.get(r.key)))
            if r.ok and r.counts.get("few_crops"):
                out.few_crops.append((r.key, r.data.get("note", "")))
        for unit in FAILING_UNITS:
            out.failures += [
                (unit, r.key, r.reason or "unknown reason") for r in state.records(unit) if r.status == FAILED
            ]
        out.no_mask = [(r.key, r.reason) for r in state.records(MASKS) if r.status == NO_MASK]
    if layout.shard_index.exists():
        out.skipped = sorted(load_index(layout.shard_index).get("left_out", {}).items())
    return out


def shown_frames(crops: CropsRecord, limit: int = SHEET_FRAMES) -> list[int]:
    """Positions of the frames a sheet shows: all when few, else the flagged ones and an even spread."""
    n = len(crops.frames)
    if n <= limit:
        return list(range(n))
    flagged = [i for i, f in enumerate(crops.interpolated) if f][: limit // 2]
    spread = np.linspace(0, n - 1, limit - len(flagged)).round().astype(int).tolist()
    return sorted(set(flagged) | set(spread))[:limit]


def tiles(
    layout: WorkLayout, crops: CropsRecord, masks: MasksRecord | None, thumb: int
) -> tuple[list, list[str]]:
    """[(crop thumb RGB, mask thumb in [0, 1] or None, frame, flag)] in frame order, flag "", "interpolated"
    or "no face" (a grey tile: up to SHEET_FRAMES // 4 of a video's frames without a face), and the
    problems met reading."""
    import cv2

    rec = crops.record
    face_dir = layout.face_dir(rec.dataset, rec.method, rec.quality, rec.video)
    mask_dir = layout.mask_dir(rec.dataset, rec.method, rec.quality, rec.video)
    out, problems = [], []
    for i in shown_frames(crops):
        frame, face = crops.frames[i], crops.faces[i]
        try:
            rgb = read_png(face_dir / frame_name(frame, face), crops.size, "crop")
            mask = (
                read_png(mask_dir / frame_name(frame, face), crops.size, "mask", grey=True) if masks else None
            )
        except LrlError as exc:
            problems.append(str(exc))
            continue
        small = cv2.resize(rgb, (thumb, thumb), interpolation=cv2.INTER_AREA)
        m = (
            None
            if mask is None
            else cv2.resize((mask > 0).astype(np.float32), (thumb, thumb), interpolation=cv2.INTER_AREA)
        )
        out.append((small, m, frame, "interpolated" if crops.interpolated[i] else ""))
    grey = np.full((thumb, thumb, 3), 160, np.uint8)
    out += [(grey, None, frame, "no face") for frame in crops.no_face[: SHEET_FRAMES // 4]]
    return sorted(out, key=lambda t: t[2]), problems


def run(work: Path, out: Path, opts: ReportOptions | None = None) -> str:
    """Write the QA pages; returns the summary line."""
    from pipeline.pages.dataset import index_page, sheet_page

    opts = opts or ReportOptions()
    start = time.perf_counter()
    layout = WorkLayout(Path(work))
    summary = gather(work)
    out = Path(out)
    pages = []
    for first in range(0, len(summary.videos), opts.per_page):
        chunk = summary.videos[first : first + opts.per_page]
        rows = [(c, m, *tiles(layout, c, m, opts.thumb)) for c, m in chunk]
        name = f"sheets-{len(pages) + 1:04d}.html"
        sheet_page(out / name, rows, len(pages) + 1)
        pages.append((name, chunk[0][0].record.key, chunk[-1][0].record.key))
    index_page(out / "index.html", summary, pages, str(work), opts.per_page)
    return (
        f"report: {len(summary.videos)} videos on {len(pages)} sheet pages, "
        f"{len(summary.failures)} failed units, "
        f"{len(summary.no_mask)} fakes without a mask, {len(summary.few_crops)} fakes with far fewer crops "
        f"than their real, {len(summary.skipped)} skipped; "
        f"{time.perf_counter() - start:.1f} s; wrote {out / 'index.html'}"
    )
