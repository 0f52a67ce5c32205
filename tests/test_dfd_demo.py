"""The DFD demo tree (pipeline.demo.dfd): indexed as dataset dfd / split test, and through refresh its
two-person fake keeps only the swapped face, the smaller one (DFD's trap: the bystander is larger)."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline.dataset.adapters import scan
from pipeline.dataset.ffpp import DFD_FAKE, DFD_REAL
from pipeline.demo.dfd import make_dfd_demo, plan
from pipeline.engine.runstate import RunState
from pipeline.params import CropParams, ExtractParams, PrepConfig, RunOptions
from pipeline.stages.refresh import refresh
from pipeline.store.images import read_png
from pipeline.store.layout import WorkLayout, frame_name

FRAMES = 4
CONFIG = PrepConfig(
    extract=ExtractParams(frames=FRAMES, crop=CropParams(size=64)),
    run=RunOptions(jobs=1, progress=False, device="cpu"),
)
TRAP_REAL = "dfd/actors/c23/04__meeting_serious"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return make_dfd_demo(tmp_path_factory.mktemp("dfd") / "dfd", size="tiny", n_jobs=2).root


def test_plan_sizes_and_names():
    for size, reals, fakes in (("tiny", 2, 2), ("small", 4, 5)):
        clips = plan(0, size)
        assert Counter(c.label for c in clips) == {0: reals, 1: fakes}, size
        stems = [Path(c.path).stem for c in clips]
        assert all((DFD_FAKE if c.label else DFD_REAL).match(s) for c, s in zip(clips, stems, strict=True)), (
            stems
        )
        assert len(set(stems)) == len(stems)
        # every fake's real is in the tree, and the trap scene has a fake
        assert {f"{s[:2]}__{s.split('__')[1]}" for c, s in zip(clips, stems, strict=True) if c.label} <= set(
            stems
        )
        assert any(c.kind == "two-people" and c.label for c in clips)
    assert [c.path for c in plan(0, "small")] == [c.path for c in plan(0, "small")]  # one seed, one tree


def test_dfd_demo_indexes_as_dfd_test(tree):
    found = scan(tree)
    assert Counter((r.dataset, r.method, r.quality, r.split, r.label) for r in found.records) == {
        ("dfd", "actors", "c23", "test", 0): 2,
        ("dfd", "DeepFakeDetection", "c23", "test", 1): 2,
    }
    assert not found.problems and not found.notes
    reals = {r.video for r in found.records if not r.is_fake}
    assert all(r.target in reals and r.target_method == "actors" for r in found.records if r.is_fake)


def test_refreshed_trap_fake_keeps_the_smaller_swapped_face(tree, tmp_path):
    work = tmp_path / "work"
    report = refresh(tree, work, CONFIG)
    assert report.exit_code == 0
    with RunState(WorkLayout(work).state_db) as state:
        detections = {r.key: r.data for r in state.records("detect")}
        crops = {r.key: r.data for r in state.records("extract")}
    fake_key = next(k for k in crops if k.startswith("dfd/DeepFakeDetection/c23/04_01__meeting_serious__"))
    fake, real = crops[fake_key], crops[TRAP_REAL]
    tracks = detections[fake["detect_key"]]["tracks"]
    assert fake["detect_key"] == "dfd/actors/04__meeting_serious" and len(tracks) == 2

    def mean_width(track):
        return np.mean([b[2] - b[0] for b in track["boxes"] if b is not None])

    smaller = int(np.argmin([mean_width(t) for t in tracks]))
    assert smaller == 1 and mean_width(tracks[0]) > 1.2 * mean_width(tracks[1])  # the bystander is face 0
    # the extract record: every crop of the fake is of the smaller face, the one that differs from the real
    assert set(fake["faces"]) == {smaller} and len(fake["frames"]) == FRAMES
    assert fake["differences"][smaller] > 10 * fake["differences"][1 - smaller]
    assert sorted(set(real["faces"])) == [0, 1]  # the real keeps both faces
    # the crops: only that face's files, cut where the real's crops of that face are, showing the swap
    layout = WorkLayout(work)
    fake_dir = layout.face_dir("dfd", "DeepFakeDetection", "c23", Path(fake_key).name)
    real_dir = layout.face_dir("dfd", "actors", "c23", "04__meeting_serious")
    assert sorted(p.name for p in fake_dir.iterdir()) == sorted(
        frame_name(f, smaller) for f in fake["frames"]
    )
    real_transform = {
        (f, k): t for f, k, t in zip(real["frames"], real["faces"], real["transforms"], strict=True)
    }
    for frame, face, transform in zip(fake["frames"], fake["faces"], fake["transforms"], strict=True):
        assert transform == real_transform[(frame, face)]
        forged = read_png(fake_dir / frame_name(frame, face), 64, "crop").astype(np.int16)
        same = read_png(real_dir / frame_name(frame, face), 64, "crop").astype(np.int16)
        assert np.abs(forged - same).mean() > 10
