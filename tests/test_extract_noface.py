"""A clip whose face enters half-way (the demo's scene generator): no crop of a frame without it, counted."""

import numpy as np
import pytest

from pipeline.demo.scene import background, frame_geom, render_frame, sample_spec
from pipeline.engine.runstate import RunState
from pipeline.kernels.encode import ENCODINGS, write_videos
from pipeline.params import CropParams, ExtractParams
from pipeline.stages.extract import DETECT, STAGE
from pipeline.stages.status import status_report
from pipeline.store.layout import WorkLayout, frame_name
from tests.kit import run_extract as run

FRAMES, SAMPLED = 16, 8  # sampled: 0 2 4 6 (background only) and 9 11 13 15 (the face)
NO_FACE = "frames without a face (no crop)"


@pytest.fixture(scope="module")
def late_face(tmp_path_factory):
    root, work = tmp_path_factory.mktemp("late"), tmp_path_factory.mktemp("work")
    spec = sample_spec(np.random.default_rng(3), "000", "astronaut", FRAMES)
    bg = background(spec)
    empty = np.clip(np.rint(bg), 0, 255).astype(np.uint8)
    frames = [
        empty if i < FRAMES // 2 else render_frame(spec, frame_geom(spec, i), bg, i) for i in range(FRAMES)
    ]
    write_videos([(root / "original_sequences/youtube/raw/videos/000.mp4", ENCODINGS["raw"])], frames, 25)
    summary = run(
        root, work, ExtractParams(SAMPLED, CropParams(size=64)), jobs=1, device="cpu", progress=False
    )
    with RunState(WorkLayout(work).state_db) as state:
        rec, det = state.get(STAGE, "ffpp/youtube/raw/000"), state.get(DETECT, "ffpp/youtube/000")
    return work, summary, rec, det


def test_frames_before_the_face_get_no_crop_and_are_recorded(late_face, one_torch_thread):
    work, summary, rec, det = late_face
    assert summary.failed == 0, summary.failures
    assert det.data["frames"] == [0, 2, 4, 6, 9, 11, 13, 15]
    [face] = det.data["tracks"]
    assert face["no_face"] == [True] * 4 + [False] * 4 and not any(face["interpolated"])
    assert face["boxes"][:4] == [None] * 4
    assert rec.data["frames"] == [9, 11, 13, 15] and rec.data["no_face"] == [0, 2, 4, 6]
    written = sorted(p.name for p in (work / "faces" / rec.key).glob("*.png"))
    assert written == [frame_name(i) for i in (9, 11, 13, 15)]


def test_the_summary_line_and_status_count_the_frames_without_a_face(late_face):
    work, summary, rec, _ = late_face
    assert rec.counts == {"crops": 4, "no_face": 4, "partial": 0, "few_crops": 0}
    assert f"4 crops, 4 {NO_FACE}" in summary.line()
    extract_line = next(line for line in status_report(work).splitlines() if line.startswith("extract"))
    assert extract_line.endswith(
        f"4 {NO_FACE}  0 videos read in part  0 fakes with far fewer crops than their real"
    )
