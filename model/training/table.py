"""The paper's Table 3 layout: one checkpoint, one row per dataset of the shard sets it was evaluated on.

A row holds the dataset's frames (samples) and videos, and ACC / AUC / EER at frame and video level
(metrics.video_level: the maximum over a video's faces of each face's mean frame score), plus mask IoU
of its fakes whose mask is known. `text` aligns the rows for a terminal, `markdown` writes them for a
README. A dataset found in two shard sets gets one row per shard set, labelled with the set's path.
"""

from __future__ import annotations

from collections import Counter

from model.training.evaluate import Predictions, report

# (heading, level, metric) of the metric columns, in Table 3's order (AUC first), then EER and ACC
METRICS = (
    ("frame AUC", "frame", "auc"),
    ("video AUC", "video", "auc"),
    ("frame EER", "frame", "eer"),
    ("video EER", "video", "eer"),
    ("frame ACC", "frame", "acc"),
    ("video ACC", "video", "acc"),
)
HEADINGS = ("dataset", "frames", "videos") + tuple(h for h, _, _ in METRICS)


def dataset_rows(pred: Predictions, shards: str) -> list[dict]:
    """One row per dataset of `pred` (sorted by name), `shards` naming the shard set it came from."""
    rows = []
    for name in sorted(set(pred.datasets.tolist())):
        part = pred.subset(pred.datasets == name)
        rep = report(part)
        frame, video = rep["frame"]["overall"], rep["video"]["overall"]
        rows.append(
            {
                "dataset": name,
                "shards": shards,
                "frames": frame["n"],
                "videos": video["n"],
                "fake_frames": int(part.labels.sum()),
                "frame": frame,
                "video": video,
                "mask_iou_fake": rep["mask_iou"]["fake"],
            }
        )
    return rows


def _label(row: dict, repeated: set[str]) -> str:
    return f"{row['dataset']} ({row['shards']})" if row["dataset"] in repeated else row["dataset"]


def cells(rows: list[dict]) -> list[list[str]]:
    """The table's cells as text, one list per row in HEADINGS order ("n/a": undefined, one class only)."""
    counts = Counter(row["dataset"] for row in rows)
    repeated = {name for name, n in counts.items() if n > 1}

    def fmt(x) -> str:
        return "n/a" if x is None else f"{x:.4f}"

    return [
        [_label(row, repeated), str(row["frames"]), str(row["videos"])]
        + [fmt(row[level][metric]) for _, level, metric in METRICS]
        for row in rows
    ]


def text(rows: list[dict]) -> list[str]:
    """Aligned lines: the headings, then one line per row (dataset left-aligned, numbers right-aligned)."""
    table = [list(HEADINGS)] + cells(rows)
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADINGS))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in table
    ]


def markdown(rows: list[dict]) -> str:
    """A markdown table of the rows (numbers right-aligned)."""
    lines = ["| " + " | ".join(HEADINGS) + " |", "|---|" + "---:|" * (len(HEADINGS) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in cells(rows)]
    return "\n".join(lines) + "\n"
