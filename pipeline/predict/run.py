"""`lrl-predict`: score every input, write OUT/predictions.json and .csv, optionally the HTML report.

predictions.json: {"checkpoint", "detector", "variant" (the checkpoint's detector, model.DETECTORS, and its
ablation variant), "preprocessing", "aggregation", "inputs": [Scored.to_dict()], "skipped"}, each input with
its score (the maximum over its faces) and "faces": per face track its score and per-frame rows; "skipped":
the entries of folders that are not inputs, each with its reason (pipeline.predict.inputs).
predictions.csv: one row per face and sampled frame (input, status, video score, face, face_video_score (its
mean), frame, box, detector score, interpolated, no face, counted in the face's score, probability); a failed
input has one row with its reason.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict
from pathlib import Path

from pipeline.errors import LrlError
from pipeline.predict.inputs import expand
from pipeline.predict.score import AGGREGATION, Predictor, Scored, load_predictor, score_input
from pipeline.store.atomic import write_bytes, write_json

CSV_COLUMNS = (
    "input",
    "kind",
    "status",
    "reason",
    "video_score",
    "face",
    "face_video_score",
    "frame",
    "x0",
    "y0",
    "x1",
    "y1",
    "face_score",
    "interpolated",
    "no_face",
    "counted",
    "probability",
)


def summary_line(r: Scored) -> str:
    """One stdout line per input."""
    if not r.ok:
        return f"failed {r.path}: {r.reason}"
    label = "fake" if r.score >= 0.5 else "real"
    faces = (
        f"{len(r.faces)} faces (max of " + ", ".join(f"{f.score:.4f}" for f in r.faces) + "), "
        if len(r.faces) > 1
        else ""
    )
    return (
        f"{label} {r.score:.4f} {r.path} ({len(r.frames)} frames, {faces}"
        f"{sum(sum(f.interpolated) for f in r.faces)} interpolated, {sum(sum(f.no_face) for f in r.faces)} "
        f"no face, {sum(len(f.counted) for f in r.faces)} counted, {r.seconds:.1f} s)"
    )


def csv_text(results: list[Scored]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for r in results:
        if not r.ok:
            out.writerow([r.path, r.kind, "failed", r.reason] + [""] * (len(CSV_COLUMNS) - 4))
            continue
        for face in r.faces:
            counted = set(face.counted)
            for i, f in enumerate(r.frames):
                box = [f"{v:.2f}" for v in face.boxes[i]] if face.boxes[i] is not None else [""] * 4
                prob = f"{face.probs[i]:.6f}" if face.probs[i] is not None else ""
                out.writerow(
                    [
                        r.path,
                        r.kind,
                        "scored",
                        "",
                        f"{r.score:.6f}",
                        face.face,
                        f"{face.score:.6f}",
                        f,
                        *box,
                        f"{face.face_scores[i]:.4f}",
                        int(face.interpolated[i]),
                        int(face.no_face[i]),
                        int(f in counted),
                        prob,
                    ]
                )
    return buf.getvalue()


def write_outputs(out: Path, pred: Predictor, results: list[Scored], skipped=()) -> None:
    """predictions.json (with "skipped": [{path, reason}] of the folders' entries that are not inputs) and
    predictions.csv."""
    prep = {
        "frames": pred.extract.frames,
        "extract": asdict(pred.extract),
        "alpha": pred.alpha,
        "freq_std": pred.freq_std,
    }
    write_json(
        out / "predictions.json",
        {
            "checkpoint": pred.checkpoint,
            "detector": pred.detector,
            "variant": pred.variant,
            "preprocessing": prep,
            "aggregation": AGGREGATION,
            "inputs": [r.to_dict() for r in results],
            "skipped": [{"path": p, "reason": why} for p, why in skipped],
        },
    )
    write_bytes(out / "predictions.csv", csv_text(results).encode())


def predict(
    ckpt: Path,
    inputs,
    out: Path,
    report: Path | None = None,
    device: str = "auto",
    batch: int = 32,
    echo=print,
) -> list[Scored]:
    """Score `inputs` (files or folders); returns every result, failures included (LrlError on bad usage)."""
    if not inputs:
        raise LrlError("no INPUT given: name video files, image files or folders")
    pred = load_predictor(Path(ckpt), device, batch)
    found = expand(inputs)
    files, bad = found.files, found.failed
    results = [Scored(path, "unknown", reason=reason) for path, reason in bad]
    for path, reason in bad:
        echo(f"failed {path}: {reason}")
    for path, reason in found.skipped:
        echo(f"skipped {path}: {reason}")
    rows = []
    start = time.perf_counter()
    for position, (path, kind) in enumerate(files, 1):
        r = score_input(path, kind, pred, detail=report is not None)
        echo(summary_line(r))
        if report is not None:
            rows.append(_report_page(Path(report), position, r, pred.checkpoint))
        r.detail = None  # the arrays are no longer needed
        results.append(r)
    out.mkdir(parents=True, exist_ok=True)
    write_outputs(out, pred, results, found.skipped)
    if report is not None:
        from pipeline.pages.prediction import index_page

        index_page(
            Path(report) / "index.html", rows + [("", r, None) for r in results[: len(bad)]], pred.checkpoint
        )
    scored = sum(r.ok for r in results)
    echo(
        f"predict: {scored} scored / {len(results) - scored} failed / {len(found.skipped)} skipped; "
        f"{time.perf_counter() - start:.1f} s; "
        f"wrote {out / 'predictions.json'}, {out / 'predictions.csv'}"
        + (f", {Path(report) / 'index.html'}" if report is not None else "")
    )
    return results


def _report_page(report: Path, position: int, r: Scored, checkpoint: str):
    import cv2
    import numpy as np

    from pipeline.pages.prediction import input_page, page_name

    name = page_name(position, r.path)
    input_page(report / name, r, checkpoint)
    thumb = None
    if r.ok:
        best = int(np.argmax([r.faces[r.detail.face].probs[i] for i in r.detail.cropped]))
        thumb = cv2.resize(r.detail.crops[best], (64, 64), interpolation=cv2.INTER_AREA)
    return name, r, thumb
