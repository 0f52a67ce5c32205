"""`lrl-predict --report DIR`: one self-contained page per input and an index page.

An input's page: its score, the per-frame probability curve, the sampled frames with their face box
(orange: box interpolated from neighbouring frames; grey caption: no face, no crop), and for the highest- and
lowest-scoring frames the crop, the predicted forgery mask M_hat (eq. 12) as an overlay, the similarity
pattern s_hat (eq. 8-9, k*k x k*k) as a heat map and the RFAM attention maps A1 (RGB) and A2 (frequency)
of every level (eq. 5). The shown score carries `id="score"` and `data-score`, the JSON's value. A
multi-face input's page lists every face's score and shows the face whose score is the input's (the
maximum over its faces; `result.detail.face`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pipeline.pages.html import curve_svg, enlarge, esc, figure, heat, img, overlay, table, write_page

MAP_SIDE = 150  # CSS px of every map and crop shown


def page_name(position: int, path: str) -> str:
    """A file name for input number `position` (unique even when two inputs share a stem)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem)[:60] or "input"
    return f"{position:04d}-{stem}.html"


def verdict(score: float) -> str:
    label = "fake" if score >= 0.5 else "real"
    return f'<span id="score" class="{label}" data-score="{score!r}">{score:.4f}</span> ({label})'


def boxed(thumb: np.ndarray, box, scale: float, interpolated: bool) -> np.ndarray:
    """The thumbnail with the face box drawn (green detected, orange interpolated; none without a face)."""
    import cv2

    out = thumb.copy()
    if box is None:
        return out
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    cv2.rectangle(out, (x0, y0), (x1, y1), (230, 159, 0) if interpolated else (0, 200, 0), 2)
    return out


def shown(result):
    """The face the page shows: the one whose score is the input's."""
    return result.faces[result.detail.face]


def frame_caption(result, i: int) -> str:
    f, face = result.frames[i], shown(result)
    if face.no_face[i]:
        return f'frame {f}: <span class="note">no face</span>'
    return f"frame {f}: {face.probs[i]:.3f}" + (" (interpolated)" if face.interpolated[i] else "")


def frames_section(result) -> str:
    d, face = result.detail, shown(result)
    figs = [
        figure(
            img(
                boxed(d.thumbs[i], face.boxes[i], d.scale, face.interpolated[i]),
                f"frame {f}",
                cls="flag" if face.interpolated[i] else "",
            ),
            frame_caption(result, i),
        )
        for i, f in enumerate(result.frames)
    ]
    return f'<h2>Sampled frames and face boxes</h2><div class="grid">{"".join(figs)}</div>'


def maps_section(result, j: int, title: str) -> str:
    """Crop, mask overlay, s_hat and attention maps of the j-th cropped frame."""
    d = result.detail
    crop = d.crops[j]
    side = crop.shape[0]
    mask = d.masks[j].astype(np.float32)
    figs = [
        figure(img(crop, "crop", MAP_SIDE), "crop"),
        figure(img(overlay(crop, mask), "mask overlay", MAP_SIDE), f"M_hat overlay (mean {mask.mean():.3f})"),
    ]
    if d.s_hat is not None:
        figs.append(
            figure(
                img(enlarge(heat(d.s_hat[j]), 5 * d.s_hat.shape[-1]), "s_hat", MAP_SIDE),
                f"s_hat {d.s_hat.shape[-2]}x{d.s_hat.shape[-1]} (0..1)",
            )
        )
    else:
        figs.append('<p class="note">this model variant has no MPSM: no similarity pattern s_hat</p>')
    for level, maps in enumerate(d.attention):
        for channel, name in enumerate(("A1 RGB", "A2 freq")):
            a = maps[j, channel].astype(np.float32)
            figs.append(
                figure(
                    img(enlarge(heat(a, cmap="magma"), side), name, MAP_SIDE),
                    f"{name}, level {level + 1} ({a.shape[0]}x{a.shape[1]})",
                )
            )
    if not d.attention:
        figs.append('<p class="note">this model variant has no RFAM attention maps</p>')
    frame = result.frames[d.cropped[j]]
    return (
        f"<h2>{esc(title)}: frame {frame}, probability {shown(result).probs[d.cropped[j]]:.4f}</h2>"
        f'<div class="grid">{"".join(figs)}</div>'
    )


def counting(face) -> str:
    """Which frames a face's score averages, in words."""
    if not any(face.interpolated):
        return "no face box was interpolated"
    if len(face.counted) == sum(p is not None for p in face.probs):
        return "frames with an interpolated box included, as the checkpoint was trained"
    return "frames with an interpolated box left out, as in training"


def input_page(path: Path, result, checkpoint: str) -> Path:
    """Write the page of one scored input (result.detail filled)."""
    if not result.ok:
        body = f'<p class="bad">failed: {esc(result.reason)}</p>'
        return write_page(path, Path(result.path).name, body)
    cropped, face = result.detail.cropped, shown(result)
    probs = np.array([face.probs[i] for i in cropped])
    flagged = {j for j, i in enumerate(cropped) if face.interpolated[i]}
    faces = (
        []
        if len(result.faces) == 1
        else [
            [
                "faces",
                f"{len(result.faces)}, scores "
                + ", ".join(f"face {f.face} {f.score:.4f}" for f in result.faces)
                + f"; the input's score is their maximum; this page shows face {face.face}",
            ]
        ]
    )
    facts = table(
        ["", ""],
        [
            ["input", esc(result.path)],
            ["score", verdict(result.score)],
            *faces,
            [
                "aggregation",
                f"mean of the frame probabilities over {len(face.counted)} frames ({counting(face)})",
            ],
            [
                "frames",
                f"{len(result.frames)} sampled of {result.n_frames}: {len(flagged)} with interpolated box, "
                f"{sum(face.no_face)} without a face",
            ],
            ["size", f"{result.width}x{result.height}"],
            ["checkpoint", esc(checkpoint)],
        ],
    )
    curve = (
        "<h2>Probability per cropped frame</h2>"
        + curve_svg(probs, flagged)
        + '<p class="note">hollow points: interpolated face box; dashed: 0.5; frames without a face have no '
        "point</p>"
    )
    top, low = int(np.argmax(probs)), int(np.argmin(probs))
    body = (
        facts
        + curve
        + maps_section(result, top, "Highest-scoring frame")
        + maps_section(result, low, "Lowest-scoring frame")
        + frames_section(result)
    )
    return write_page(path, Path(result.path).name, body)


def index_page(path: Path, rows: list[tuple[str, object, np.ndarray | None]], checkpoint: str) -> Path:
    """The index: per input (page file, result, small crop or None) its score, frames and link."""
    cells = []
    for name, result, thumb in rows:
        face = img(thumb, "face", 64) if thumb is not None else ""
        score = (
            f"{result.score:.4f} ({'fake' if result.score >= 0.5 else 'real'})"
            if result.ok
            else f'<span class="bad">failed: {esc(result.reason)}</span>'
        )
        link = f'<a href="{esc(name)}">{esc(Path(result.path).name)}</a>' if name else esc(result.path)
        cells.append([face, link, score, str(len(result.frames))])
    body = (
        f"<p>checkpoint {esc(checkpoint)}; video score = the maximum over its faces of the mean of the "
        "frame probabilities</p>" + table(["face", "input", "score", "frames"], cells)
    )
    return write_page(path, "lrl-predict report", body)
