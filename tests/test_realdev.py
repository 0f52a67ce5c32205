"""Real footage (issue 30) on ../shared/data/realdev, skipped when it is absent: one person is one track,
and fakes cropped or padded by a few pixels are read aligned to their real."""

from pathlib import Path

import pytest

from pipeline.engine.runstate import DONE, RunState
from pipeline.kernels.faces import detect_video
from pipeline.params import CropParams, DetectParams, ExtractParams
from pipeline.stages.extract import STAGE
from pipeline.store.layout import WorkLayout
from tests.kit import run_extract

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdev"
FFPP, CELEBDF = REALDEV / "ffpp", REALDEV / "celebdf"
YOUTUBE = FFPP / "original_sequences" / "youtube" / "c40" / "videos"
pytestmark = pytest.mark.skipif(not REALDEV.is_dir(), reason=f"no realdev data at {REALDEV}")


@pytest.mark.parametrize("path", [YOUTUBE / "253.mp4", CELEBDF / "Celeb-real" / "id33_0003.mp4"])
def test_one_person_in_every_frame_is_one_track_with_a_box_in_every_frame(path):
    faces = detect_video(path, 16, DetectParams())
    [track] = faces.tracks  # was two tracks each (11 + 5 and 11 + 7 frames)
    assert not track.no_face.any()


def link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(src)


def test_cropped_and_padded_fakes_are_read_aligned(tmp_path):
    root, celeb = tmp_path / "ffpp", tmp_path / "celebdf"
    for method in ("Face2Face", "NeuralTextures"):
        fake = FFPP / "manipulated_sequences" / method / "c40" / "videos" / "720_672.mp4"
        link(fake, root / "manipulated_sequences" / method / "c40" / "videos" / fake.name)
    link(YOUTUBE / "720.mp4", root / "original_sequences" / "youtube" / "c40" / "videos" / "720.mp4")
    link(CELEBDF / "Celeb-real" / "id13_0011.mp4", celeb / "Celeb-real" / "id13_0011.mp4")
    synthesis = CELEBDF / "Celeb-synthesis" / "id13_id10_0011.mp4"
    link(synthesis, celeb / "Celeb-synthesis" / synthesis.name)
    params = ExtractParams(4, CropParams(size=48))
    offsets = {}
    for tree in (root, celeb):
        summary = run_extract(tree, tmp_path / "work", params)
        assert summary.failed == 0, summary.failures  # were refused: 640x480 vs 656x480, 944x500 vs 942x500
        with RunState(WorkLayout(tmp_path / "work").state_db) as state:
            offsets.update({r.key: r.data["offset"] for r in state.records(STAGE) if r.status == DONE})
    assert offsets == {
        "ffpp/youtube/c40/720": [0, 0],
        "ffpp/Face2Face/c40/720_672": [8, 0],  # 656 -> 640, centred
        "ffpp/NeuralTextures/c40/720_672": [8, 0],
        "celebdf/Celeb-real/orig/id13_0011": [0, 0],
        "celebdf/Celeb-synthesis/orig/id13_id10_0011": [0, 0],  # 942 -> 944, padded on the right
    }
