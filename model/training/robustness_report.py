"""The robustness table (aligned text and markdown) and plot, from the rows of model.training.robustness.

One line per perturbation and level (the clean row first, level 0), one group of columns per checkpoint:
frame AUC, video AUC, frame ACC, frame EER and mask IoU of the fakes ("n/a": undefined, e.g. one class only,
or no mask head). The plot: AUC against level (0 = clean), one line per perturbation, one panel per
checkpoint (columns) and scoring level (rows: frame, video), a shared y axis and the chance line at 0.5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLUMNS = (
    ("frame AUC", "frame", "auc"),
    ("video AUC", "video", "auc"),
    ("frame ACC", "frame", "acc"),
    ("frame EER", "frame", "eer"),
    ("mask IoU", "mask_iou_fake", None),
)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _param(value) -> str:
    return "" if value is None else f"{value:g}"


def _lines(rows: list[dict], labels: list[str]) -> tuple[list[str], list[list[str]]]:
    """(headings, cells): one cells row per (perturbation, level) in the rows' order."""
    headings = ["perturbation", "level", "param"] + [
        f"{label} {h}" if len(labels) > 1 else h for label in labels for h, _, _ in COLUMNS
    ]
    by = {(r["checkpoint"], r["perturbation"], r["level"]): r for r in rows}
    keys = list(dict.fromkeys((r["perturbation"], r["level"]) for r in rows))
    cells = []
    for name, level in keys:
        first = by[labels[0], name, level]
        line = [name, str(level), _param(first["parameter"])]
        for label in labels:
            r = by[label, name, level]
            line += [_fmt(r[part] if metric is None else r[part][metric]) for _, part, metric in COLUMNS]
        cells.append(line)
    return headings, cells


def text(rows: list[dict], labels: list[str]) -> list[str]:
    """Aligned lines: headings, then one line per perturbation and level."""
    headings, cells = _lines(rows, labels)
    table = [headings] + cells
    widths = [max(len(r[i]) for r in table) for i in range(len(headings))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in table
    ]


def _md(headings: list[str], cells: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headings) + " |", "|---|" + "---:|" * (len(headings) - 1)] + [
        "| " + " | ".join(c) + " |" for c in cells
    ]


def pivot(rows: list[dict], labels: list[str], part: str = "frame") -> tuple[list[str], list[list[str]]]:
    """`part` ("frame" or "video") AUC with one line per perturbation and one column per checkpoint and level
    (its clean AUC first): (headings, cells)."""
    levels = sorted({r["level"] for r in rows if r["level"]})
    by = {(r["checkpoint"], r["perturbation"], r["level"]): r for r in rows}
    names = list(dict.fromkeys(r["perturbation"] for r in rows if r["perturbation"] != "clean"))
    headings = ["perturbation"] + [
        f"{label} {'clean' if level == 0 else f'L{level}'}" for label in labels for level in [0] + levels
    ]
    cells = [
        [name]
        + [
            _fmt(by[label, name if level else "clean", level][part]["auc"])
            for label in labels
            for level in [0] + levels
        ]
        for name in names
    ]
    return headings, cells


def markdown(rows: list[dict], labels: list[str]) -> str:
    """Frame AUC by level (pivot), then every number of the table (numbers right-aligned)."""
    return (
        "\n".join(
            ["Frame AUC by level (clean: no perturbation):", ""]
            + _md(*pivot(rows, labels))
            + ["", "Every metric:", ""]
            + _md(*_lines(rows, labels))
        )
        + "\n"
    )


def _auc(r: dict, part: str) -> float:
    value = r[part]["auc"]
    return np.nan if value is None else value


def plot(path: Path, rows: list[dict], labels: list[str]) -> None:
    """AUC against level (module docstring), written atomically as a PNG."""
    from model.training.plots import _figure
    from pipeline.store.atomic import atomic_path

    plt = _figure()
    names = list(dict.fromkeys(r["perturbation"] for r in rows if r["perturbation"] != "clean"))
    values = [_auc(r, part) for r in rows for part in ("frame", "video")]
    low = min(0.4, np.nanmin(values) - 0.05) if not np.isnan(values).all() else 0.4
    fig, axes = plt.subplots(
        2,
        len(labels),
        figsize=(3.6 * len(labels) + 1.6, 5.6),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    colours = plt.get_cmap("tab10")
    for c, label in enumerate(labels):
        mine = [r for r in rows if r["checkpoint"] == label]
        clean = next(r for r in mine if r["perturbation"] == "clean")
        for k, part in enumerate(("frame", "video")):
            ax = axes[k, c]
            for j, name in enumerate(names):
                line = [clean] + [r for r in mine if r["perturbation"] == name]
                ax.plot(
                    [r["level"] for r in line],
                    [_auc(r, part) for r in line],
                    marker="o",
                    ms=3,
                    color=colours(j % 10),
                    label=name,
                )
            ax.axhline(0.5, color="k", lw=0.7, ls=":")
            ax.set(ylim=(low, 1.02), xticks=range(0, 6))
            ax.set_title(f"{label}: {part} AUC", fontsize=9)
            if k == 1:
                ax.set_xlabel("level (0 = clean)")
    axes[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
