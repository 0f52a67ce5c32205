"""`lrl-prep extract` on the real FaceForensics++ sample pair (skipped when ../shared/data/ffpp is absent)."""

from pathlib import Path

import pytest

from pipeline.engine.runstate import DONE, RunState
from pipeline.params import ExtractParams
from pipeline.stages.extract import DETECT, STAGE
from pipeline.store.layout import WorkLayout
from tests.kit import run_extract as run

FFPP = Path(__file__).resolve().parents[2] / "shared" / "data" / "ffpp"
REAL, FAKE = "ffpp/youtube/c23/004", "ffpp/NeuralTextures/c23/004_982"


@pytest.mark.skipif(not (FFPP / "original_sequences").is_dir(), reason=f"no FF++ sample data at {FFPP}")
def test_real_ffpp_pair_gives_32_aligned_crops_with_a_face_in_every_frame(tmp_path):
    summary = run(FFPP, tmp_path, ExtractParams(), jobs=1, device="cpu", progress=False)
    assert summary.failed == 0, summary.failures
    with RunState(WorkLayout(tmp_path).state_db) as state:
        real, fake = state.get(STAGE, REAL), state.get(STAGE, FAKE)
        detect = state.get(DETECT, "ffpp/youtube/004")
    for rec in (real, fake):
        assert rec.status == DONE and rec.counts == {"crops": 32, "no_face": 0, "partial": 0, "few_crops": 0}
        assert len(list((tmp_path / "faces" / rec.key).glob("*.png"))) == 32
    assert fake.data["frames"] == real.data["frames"] and fake.data["transforms"] == real.data["transforms"]
    assert detect.data["n_frames"] == 309 and detect.data["frames"][-1] == 308
    [face] = detect.data["tracks"]  # the spurious track seen in 1 of 32 frames is no face (DetectParams)
    assert not any(face["interpolated"]) and min(face["scores"]) > 0.9
