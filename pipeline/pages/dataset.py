"""`lrl-prep report`: the dataset QA pages (index and contact sheets), from what pipeline.stages.report
gathers.

Contact sheets show, per video, one mosaic image of crop thumbnails: a fake's mask tinted red over
its crop, frames whose face box was interpolated framed in orange, frames without a face (no crop)
as grey tiles with a cross. One image per video keeps a page of `per_page` videos a few MB at most.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from pipeline.pages.html import esc, img, overlay, table, write_page

ORANGE = (230, 159, 0)
BORDER = 3  # px of the flag frame drawn inside a thumbnail


def mosaic(tiles: list) -> np.ndarray:
    """One row image of (crop, mask or None, frame, flag) tiles, 2 px apart on white."""
    side = tiles[0][0].shape[0]
    out = np.full((side, len(tiles) * (side + 2) - 2, 3), 255, np.uint8)
    for j, (rgb, mask, _, flag) in enumerate(tiles):
        tile = overlay(rgb, mask, strength=0.55) if mask is not None else rgb.copy()
        if flag == "interpolated":
            tile[:BORDER], tile[-BORDER:], tile[:, :BORDER], tile[:, -BORDER:] = (
                ORANGE,
                ORANGE,
                ORANGE,
                ORANGE,
            )
        elif flag == "no face":
            diagonal = np.arange(side)
            tile[diagonal, diagonal] = tile[diagonal, side - 1 - diagonal] = 60
        out[:, j * (side + 2) : j * (side + 2) + side] = tile
    return out


def video_block(crops, masks, tiles: list, problems: list[str]) -> str:
    rec = crops.record
    n, flagged = len(crops.frames), sum(crops.interpolated)
    facts = f"{rec.split} · {n} frames · {flagged} interpolated · {len(crops.no_face)} without a face"
    if masks is not None:
        facts += (
            f" · mask area {masks.mean_area:.3f} · {masks.mean_components:.1f} components · "
            f"{len(masks.empty_frames)} empty ({masks.reference_quality}, {masks.source})"
        )
    marks = {"": "", "interpolated": "*", "no face": "-"}
    shown = " ".join(f"{f}{marks[flag]}" for _, _, f, flag in tiles)
    body = img(mosaic(tiles), rec.key) if tiles else '<p class="bad">no crop could be read</p>'
    bad = "".join(f'<p class="bad">{esc(p)}</p>' for p in problems)
    return (
        f'<section id="{esc(rec.key)}"><h2>{esc(rec.key)}</h2><p class="note">{esc(facts)}; frames shown: '
        f"{esc(shown)} (* interpolated box, - no face)</p>{body}{bad}</section>"
    )


def sheet_page(path: Path, rows: list, number: int) -> Path:
    """One contact-sheet page: rows of (CropsRecord, MasksRecord or None, tiles, problems)."""
    legend = (
        '<p class="note">red tint: forgery mask; orange frame: face box interpolated from neighbouring '
        'frames; grey crossed tile: no face (no crop); <a href="index.html">back to the index</a></p>'
    )
    return write_page(path, f"Contact sheets, page {number}", legend + "".join(video_block(*r) for r in rows))


def counts_table(videos) -> str:
    """Videos (and frames) per dataset / method / quality, one column per split."""
    splits = sorted({c.record.split for c, _ in videos})
    count, frames = Counter(), Counter()
    for c, _ in videos:
        group = (c.record.dataset, c.record.method, c.record.quality)
        count[group + (c.record.split,)] += 1
        frames[group] += len(c.frames)
    groups = sorted({k[:3] for k in count})
    rows = [
        [esc(g[0]), esc(g[1]), esc(g[2])]
        + [str(count[g + (s,)]) for s in splits]
        + [str(sum(count[g + (s,)] for s in splits)), str(frames[g])]
        for g in groups
    ]
    return table(["dataset", "method", "quality"] + [esc(s) for s in splits] + ["videos", "frames"], rows)


def histograms_png(videos) -> np.ndarray | None:
    """Per method (columns): histograms of the per-video mean mask area and mean number of components."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_method = defaultdict(list)
    for c, m in videos:
        if m is not None:
            by_method[c.record.method].append((m.mean_area, m.mean_components))
    if not by_method:
        return None
    methods = sorted(by_method)
    fig, axes = plt.subplots(2, len(methods), figsize=(2.3 * len(methods), 4.2), squeeze=False)
    for j, method in enumerate(methods):
        values = np.array(by_method[method])
        axes[0, j].hist(values[:, 0], bins=20, range=(0, max(0.01, values[:, 0].max())), color="#1f4e9c")
        axes[0, j].set_title(f"{method} (n={len(values)})", fontsize=9)
        axes[1, j].hist(values[:, 1], bins=20, color="#b00020")
    axes[0, 0].set_ylabel("videos, by mask area")
    axes[1, 0].set_ylabel("videos, by components")
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def worth_a_look(videos, pages: list[tuple[str, str, str]], per_page: int, top: int = 10) -> str:
    """The videos with the most interpolated frames, the largest masks and empty masks, linked to their
    sheet."""
    page_of = {c.record.key: pages[i // per_page][0] for i, (c, _) in enumerate(videos)} if pages else {}

    def link(c) -> str:
        return f'<a href="{esc(page_of.get(c.record.key, ""))}#{esc(c.record.key)}">{esc(c.record.key)}</a>'

    interp = sorted(videos, key=lambda v: -sum(v[0].interpolated) / max(len(v[0].frames), 1))[:top]
    fakes = [v for v in videos if v[1] is not None]
    area = sorted(fakes, key=lambda v: -v[1].mean_area)[:top]
    empty = sorted(fakes, key=lambda v: -len(v[1].empty_frames))[:top]
    rows = [[link(c), f"{sum(c.interpolated)} / {len(c.frames)}"] for c, _ in interp if sum(c.interpolated)]
    out = "<h2>Most interpolated face boxes</h2>" + (
        table(["video", "interpolated"], rows) if rows else '<p class="note">none</p>'
    )
    faceless = sorted(videos, key=lambda v: -len(v[0].no_face))[:top]
    rows = [
        [link(c), f"{len(c.no_face)} / {len(c.no_face) + len(c.frames)}"] for c, _ in faceless if c.no_face
    ]
    out += "<h2>Most frames without a face</h2>" + (
        table(["video", "no face"], rows) if rows else '<p class="note">none</p>'
    )
    rows = [[link(c), f"{m.mean_area:.3f}", f"{m.mean_components:.1f}"] for c, m in area]
    out += "<h2>Largest masks</h2>" + (
        table(["video", "mean area", "components"], rows) if rows else '<p class="note">no masks</p>'
    )
    rows = [[link(c), f"{len(m.empty_frames)} / {len(m.frames)}"] for c, m in empty if m.empty_frames]
    return (
        out
        + "<h2>Empty masks</h2>"
        + (table(["video", "empty"], rows) if rows else '<p class="note">none</p>')
    )


def index_page(path: Path, summary, pages: list[tuple[str, str, str]], work: str, per_page: int) -> Path:
    """The QA index: counts, histograms, videos worth a look, failures, skipped inputs, sheet links."""
    hist = histograms_png(summary.videos)
    failures = [[esc(u), esc(k), esc(r)] for u, k, r in summary.failures]
    skipped = [[esc(k), esc(r)] for k, r in summary.skipped]
    no_mask = [[esc(k), esc(r)] for k, r in summary.no_mask]
    few = [[esc(k), esc(r)] for k, r in summary.few_crops]
    links = [[f'<a href="{esc(n)}">{esc(n)}</a>', esc(a), esc(b)] for n, a, b in pages]
    body = (
        f'<p class="note">WORK {esc(work)}: {len(summary.videos)} videos with crops, '
        f"{len(summary.failures)} failed units, {len(summary.no_mask)} fakes without a mask, "
        f"{len(summary.few_crops)} fakes with far fewer crops than their real, "
        f"{len(summary.skipped)} left out of the shards</p>"
        "<h2>Videos per dataset / method / quality / split</h2>"
        + counts_table(summary.videos)
        + "<h2>Masks per method: mean area and components per video</h2>"
        + (img(hist, "mask histograms") if hist is not None else '<p class="note">no masks</p>')
        + worth_a_look(summary.videos, pages, per_page)
        + "<h2>Failures</h2>"
        + (table(["unit", "key", "reason"], failures) if failures else '<p class="note">none</p>')
        + "<h2>Fakes with far fewer crops than their real</h2>"
        + (table(["video", "why"], few) if few else '<p class="note">none</p>')
        + "<h2>Fakes without a mask (no real known: in the shards with mask_known 0)</h2>"
        + (table(["video", "reason"], no_mask) if no_mask else '<p class="note">none</p>')
        + "<h2>Skipped (left out of the shards)</h2>"
        + (table(["video", "reason"], skipped) if skipped else '<p class="note">none</p>')
        + "<h2>Contact sheets</h2>"
        + table(["page", "first video", "last video"], links)
    )
    return write_page(path, "lrl dataset report", body)
