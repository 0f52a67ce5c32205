"""`lrl-prep blend`: forgeries made from the reals of any dataset tree, in FaceForensics++'s layout.

Under a lock on ROOT2 (ROOT2/.blend/.lock), with its own run state (ROOT2/.blend/state.db), run by the
engine like every stage (`--jobs`, `--backend`, the thread budget; a killed run keeps every finished unit):

1. ROOT is scanned with its adapter; its reals (label 0) are linked into ROOT2 (pipeline.blend.tree), the
   split files written; links and fakes whose real left ROOT are removed.
2. Unit "blend-detect", one per real: its face tracks in every frame (pipeline.blend.faces), from its
   best quality (raw > c23 > c40 > orig), or from extract's detection in `--work`.
3. Unit "blend", one per fake: SelfBlend AAA_AAA and FaceSwapBlend AAA_BBB for every real AAA with a
   face (the source BBB: pipeline.blend.sources), made by pipeline.blend.make.

A unit whose inputs (files, parameters, the tracks it uses) are unchanged is not redone, and files that
are already what they should be are not rewritten: a second run writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pipeline.blend import faces as facetracks
from pipeline.blend.identities import read_identities, same_person
from pipeline.blend.make import SELF, SWAP, FakeJob, make_fake
from pipeline.blend.sources import choose_source, median_shape
from pipeline.blend.tree import (
    MANIFEST,
    REAL,
    STATE,
    assign_ids,
    check_out,
    fake_paths,
    link,
    real_key,
    real_path,
    write_if_changed,
    write_splits,
)
from pipeline.dataset.adapters import scan
from pipeline.dataset.layout import FAKE_DIR, QUALITIES, REAL_DIR
from pipeline.engine.runner import Summary, Task, prune, run_tasks
from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult, fingerprint
from pipeline.errors import LrlError
from pipeline.params import Backend, BlendParams, DetectParams, Scope
from pipeline.store.atomic import remove_stale_temps
from pipeline.store.layout import WorkLayout
from pipeline.store.lock import WorkLock
from pipeline.store.records import VideoRecord

DETECT = "blend-detect"
STAGE = "blend"
VERSION = 1  # bump when a fake's making changes meaning, to redo earlier fakes
MIN_FACE = 32  # a real whose face 0 has a median side under this many pixels is not blended


@dataclass(frozen=True)
class DetectJob:
    key: str
    path: str
    params: DetectParams
    device: str = "cpu"
    reuse: dict | None = None  # extract's done "detect" record data, when --work has one for this file
    reuse_key: str = ""


@dataclass
class BlendRun:
    """What one `lrl-prep blend` run did."""

    reals: int
    detect: Summary
    fakes: Summary
    written: int = 0  # links, split files and blend.json (re)written
    failures: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        f, d = self.fakes, self.detect
        rate = f.items / f.seconds if f.seconds > 0 else 0.0
        no_face = sum(f.notes.values())
        return (
            f"blend: {self.reals} reals (faces found {d.done} / kept {d.skipped} / failed {d.failed}), "
            f"fakes done {f.done} / skipped {f.skipped} / failed {f.failed}, {f.items} frames "
            f"({no_face} without a face), {self.written} links and files written, "
            f"{d.seconds + f.seconds:.1f} s ({rate:.1f} frames/s)"
        )

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def lines(self) -> list[str]:
        """What `lrl-prep blend` prints: the summary line, then one line per failure."""
        return [self.line()] + [f"failed: {key}: {reason}" for key, reason in self.failures]


# ---------------------------------------------------------------- detection units


def detect_work(job: DetectJob) -> UnitResult:
    """The face tracks of one real in every frame; failed when it has none or its face is too small."""
    try:
        if job.reuse is not None:
            tracks = facetracks.reused_detection(job.reuse, job.reuse_key)
        else:
            tracks = facetracks.detect_tracks(Path(job.path), job.params, job.device)
    except LrlError as exc:
        return UnitResult(job.key, "", FAILED, str(exc))
    side = tracks.median_side(0)
    if side < MIN_FACE:
        return UnitResult(
            job.key,
            "",
            FAILED,
            f"{job.path}: face too small to blend (median side {side:.0f} px < {MIN_FACE})",
        )
    return UnitResult(job.key, "", DONE, counts={"frames": tracks.n_frames}, data=tracks.to_dict())


def detect_tasks(best: dict[str, VideoRecord], work: Path | None) -> list[Task]:
    """One task per real, reading extract's record in WORK when it was made on the same file."""
    params = DetectParams()
    reused = _extract_records(work, best)
    tasks = []
    for key, video in sorted(best.items()):
        rec = reused.get(key)
        job = DetectJob(
            key, video.path, params, reuse=rec.data if rec else None, reuse_key=key if rec else ""
        )
        fp = fingerprint(
            [video.path], {"version": VERSION, "detect": asdict(params)}, [rec.fingerprint] if rec else []
        )
        tasks.append(Task(key, fp, job))
    return tasks


def _extract_records(work: Path | None, best: dict[str, VideoRecord]) -> dict[str, UnitResult]:
    """Extract's done "detect" records in WORK for these reals, made on the very file blend reads."""
    if work is None:
        return {}
    db = WorkLayout(Path(work)).state_db
    if not db.exists():
        raise LrlError(
            f"--work {work}: no run state here (run `lrl-prep extract` on ROOT first, or leave --work out)"
        )
    found = {}
    with RunState(db) as state:
        for key, video in best.items():
            rec = state.get(facetracks.DETECT, key)
            if rec is not None and rec.status == DONE and rec.data.get("video") == video.path:
                found[key] = rec
    return found


# ---------------------------------------------------------------- fake units


@dataclass(frozen=True)
class Reals:
    """ROOT's reals: best quality per real key, their ids in ROOT2 and their splits."""

    best: dict[str, VideoRecord]
    ids: dict[str, str]
    identities: dict[str, str] = field(
        default_factory=dict
    )  # ROOT's real id -> person (pipeline.blend.identities)

    def split(self, key: str) -> str:
        return self.best[key].split


def fake_tasks(
    out: Path, reals: Reals, detects: list[Task], state: RunState, params: BlendParams
) -> list[Task]:
    """Every fake's task, with its tracks attached, or the reason it cannot be made."""
    done, reasons, fps = {}, {}, {t.key: t.fingerprint for t in detects}
    for key in reals.best:
        rec = state.get(DETECT, key)
        if rec is not None and rec.fingerprint == fps[key] and rec.status == DONE:
            done[key] = rec.data
        else:
            reasons[key] = (
                f"face detection failed: {rec.reason}" if rec is not None else "face detection has not run"
            )
    tasks = []
    for method in params.chosen:
        for key in sorted(reals.best, key=reals.ids.get):
            tasks.append(_fake(out, reals, key, method, done, reasons, fps, params))
    return tasks


def _fake(out, reals: Reals, key, method, done, reasons, fps, params: BlendParams) -> Task:
    aaa, target = reals.ids[key], reals.best[key]
    base = {"method": method, "seed": params.seed, "target": target.path}
    source_key, why = (key, "") if method == SELF else _swap_source(reals, key, done, params.seed)
    if key not in done:
        why = reasons[key]
    if why:
        name = f"{method}/{aaa}_{reals.ids[source_key] if source_key else '?'}"
        return Task(name, fingerprint([], {"error": why}), FakeJob(name, outputs=(), error=why, **base))
    name = f"{aaa}_{reals.ids[source_key]}"
    tracks = done[key]
    faces = tuple(range(len(tracks["boxes"]))) if params.all_faces else (0,)
    outputs = tuple((q, str(p)) for q, p in fake_paths(out, method, name).items())
    source = reals.best[source_key].path if method == SWAP else ""
    fp = fingerprint(
        [target.path] + ([source] if source else []),
        {"version": VERSION, "method": method, "seed": params.seed, "faces": faces, "out": outputs},
        [fps[key]] + ([fps[source_key]] if source else []),
    )
    job = FakeJob(
        f"{method}/{name}",
        outputs=outputs,
        faces=faces,
        tracks=tracks,
        source=source,
        source_tracks=done[source_key] if source else None,
        **base,
    )
    return Task(job.key, fp, job)


def _swap_source(reals: Reals, key: str, done: dict, seed: int) -> tuple[str | None, str]:
    split = reals.split(key)
    candidates = {}
    name = reals.best[key].video
    for other, tracks in done.items():
        if reals.split(other) == split and (
            other == key or not same_person(reals.identities, name, reals.best[other].video)
        ):
            shape = median_shape(tracks["landmarks"][0])
            side = facetracks.FaceTracks.from_dict(tracks).median_side(0)
            if shape is not None:
                candidates[other] = (shape, side)
    side = facetracks.FaceTracks.from_dict(done[key]).median_side(0) if key in done else 0.0
    source, why = choose_source(key, seed, candidates, side)
    return source, f"{why} (split {split})" if why else ""


# ---------------------------------------------------------------- the tree outside the units


def real_records(root: Path, scope: Scope) -> list[VideoRecord]:
    index = scan(root, scope.dataset, Path(scope.split_dir) if scope.split_dir else None)
    reals = [r for r in index.records if not r.is_fake and scope.selection.keeps(r)]
    if not reals:
        raise LrlError(
            f"{root}: no real video to blend (the tree has {len(index.records)} videos"
            f"{', ' + str(len(index.problems)) + ' files skipped' if index.problems else ''})"
        )
    return reals


def plan_reals(
    records: list[VideoRecord], identities: dict[str, str] | None = None
) -> tuple[Reals, dict[str, list[VideoRecord]]]:
    rank = {q: i for i, q in enumerate(QUALITIES)}
    groups: dict[str, list[VideoRecord]] = defaultdict(list)
    for r in records:
        groups[real_key(r)].append(r)
    best = {k: min(g, key=lambda r: rank.get(r.quality, 99)) for k, g in groups.items()}
    return Reals(best, assign_ids(sorted(groups)), identities or {}), groups


def link_reals(out: Path, reals: Reals, groups: dict[str, list[VideoRecord]]) -> int:
    """Link every real at every quality; remove links of reals no longer in ROOT; how many changed."""
    wanted = {real_path(out, reals.ids[k], r.quality): Path(r.path) for k, g in groups.items() for r in g}
    changed = sum(link(path, target) for path, target in wanted.items())
    for stale in (out / REAL_DIR / REAL).glob("*/videos/*"):
        if stale.is_symlink() and stale not in wanted:
            stale.unlink()
            changed += 1
    return changed


def manifest(reals: Reals, params: BlendParams, state: RunState) -> dict:
    fakes = {
        r.key: {k: r.data[k] for k in ("target", "source", "faces", "ratios")}
        for r in state.records(STAGE)
        if r.status == DONE
    }
    return {
        "seed": params.seed,
        "methods": list(params.chosen),
        "all_faces": params.all_faces,
        "reals": {
            reals.ids[k]: {
                "key": k,
                "path": v.path,
                "split": v.split,
                "identity": reals.identities.get(v.video, v.video),
            }
            for k, v in reals.best.items()
        },
        "fakes": fakes,
    }


def run(
    root: Path,
    out: Path,
    params: BlendParams = BlendParams(),
    scope: Scope = Scope(),
    work: Path | None = None,
    jobs: int = 1,
    progress: bool = False,
    backend: Backend | None = None,
    device: str = "auto",
    identities: Path | None = None,
) -> BlendRun:
    """`lrl-prep blend`: link ROOT's reals into OUT and make every missing or changed fake. `identities`: a
    JSON file naming each real's person (pipeline.blend.identities; default ROOT/demo_truth.json if there)."""
    root, out = Path(root).resolve(), Path(out)
    check_out(root, out)
    reals, groups = plan_reals(real_records(root, scope), read_identities(root, identities))
    backend = backend or Backend()
    with WorkLock(out / STATE.parent), RunState(out / STATE) as state:
        for folder in (out / REAL_DIR, out / FAKE_DIR):
            remove_stale_temps(folder)
        written = link_reals(out, reals, groups) + write_splits(
            out, {reals.ids[k]: v.split for k, v in reals.best.items()}
        )
        detects = detect_tasks(reals.best, work)
        if any(not state.is_fresh(DETECT, t.key, t.fingerprint) and t.payload.reuse is None for t in detects):
            resolved = facetracks.detection_device(device)
            detects = [replace(t, payload=replace(t.payload, device=resolved)) for t in detects]
        found = run_tasks(
            DETECT,
            detects,
            detect_work,
            state,
            jobs,
            "reals",
            "frames",
            lambda r: r.counts.get("frames", 0),
            progress,
            backend,
        )
        prune(DETECT, {t.key for t in detects}, state)
        tasks = fake_tasks(out, reals, detects, state, params)
        prune(STAGE, {t.key for t in tasks}, state)
        made = run_tasks(
            STAGE,
            tasks,
            make_fake,
            state,
            jobs,
            "fakes",
            "frames",
            lambda r: r.counts.get("frames", 0),
            progress,
            backend,
            notes={"no_face": "frames without a face"},
        )
        written += write_if_changed(out / MANIFEST, manifest(reals, params, state))
    return BlendRun(len(reals.best), found, made, written, found.failures + made.failures)
