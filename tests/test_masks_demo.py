"""The masks stage after a real extract run: on the demo tree (IoU against its ground-truth masks),
and on the sample FF++ pair in ../shared/data/ffpp (skipped when absent)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.dataset.layout import mask_video_dir
from pipeline.engine.runstate import RunState
from pipeline.kernels.masks import iou, warp_mask
from pipeline.params import CropParams, ExtractParams, MasksParams, Scope, Selection
from pipeline.stages.masks import read_gray_frames
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import VideoRecord
from tests.kit import run_extract as extract
from tests.kit import run_masks as run

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ffpp"


@pytest.fixture(scope="module")
def demo(request, tmp_path_factory):
    """(ROOT, WORK): the shared demo tree (or a tiny one of our own), the test pairs extracted raw and c40."""
    try:
        root = Path(request.getfixturevalue("demo_root"))
    except pytest.FixtureLookupError:
        from pipeline.demo.tree import make_demo

        root = make_demo(tmp_path_factory.mktemp("demo"), seed=0, size="tiny", n_jobs=2).root
    work = tmp_path_factory.mktemp("work")
    params = ExtractParams(frames=2, crop=CropParams(size=96))
    scope = Scope(qualities=("raw", "c40"), splits=("test",))
    summary = extract(root, work, params, scope, jobs=2, device="cpu", progress=False)
    assert summary.failed == 0, summary.failures
    return root, work


def stage_masks(work: Path, key: str) -> dict[int, np.ndarray]:
    with RunState(WorkLayout(work).state_db) as state:
        frames = state.get("masks", key).data["frames"]
    folder = WorkLayout(work).mask_dir(*key.split("/"))
    return {f: cv2.imread(str(folder / frame_name(f)), cv2.IMREAD_UNCHANGED) for f in frames}


def ground_truth(root: Path, extract_data: dict) -> dict[int, np.ndarray]:
    """The demo's mask of every changed pixel, warped into the crops like the official source."""
    video = VideoRecord.from_dict(extract_data["record"])
    full = read_gray_frames(mask_video_dir(root, video.method) / f"{video.video}.mp4", extract_data["frames"])
    return {
        f: warp_mask(full[f], t, extract_data["size"])
        for f, t in zip(extract_data["frames"], extract_data["transforms"], strict=True)
    }


def iou_table(root: Path, work: Path, params: MasksParams, qualities) -> dict[tuple[str, str], float]:
    """Mean IoU against the ground truth per (method, quality), printed."""
    run(root, work, params, Selection(qualities=qualities), jobs=2, progress=False)
    scores: dict[tuple[str, str], list[float]] = {}
    with RunState(WorkLayout(work).state_db) as state:
        for unit in state.records("masks"):
            video = VideoRecord.from_dict(state.get("extract", unit.key).data["record"])
            if video.quality not in qualities:
                continue
            truth = ground_truth(root, state.get("extract", unit.key).data)
            mine = stage_masks(work, unit.key)
            scores.setdefault((video.method, video.quality), []).extend(iou(mine[f], truth[f]) for f in truth)
    table = {k: float(np.mean(v)) for k, v in sorted(scores.items())}
    print(f"\nIoU vs demo ground truth, threshold {params.threshold}, reference {params.reference_quality}:")
    for (method, quality), value in table.items():
        print(f"  {method:<15} {quality:<4} {value:.3f}")
    return table


def test_raw_reference_masks_are_identical_for_every_quality(demo):
    root, work = demo
    table = iou_table(root, work, MasksParams(), ("raw", "c40"))
    assert {m for m, _ in table} == set(METHODS)
    with RunState(WorkLayout(work).state_db) as state:
        for method in METHODS:
            for name in ("004_005", "005_004"):
                raw, c40 = f"ffpp/{method}/raw/{name}", f"ffpp/{method}/c40/{name}"
                assert state.get("masks", c40).data["reference_quality"] == "raw"
                raw_masks, c40_masks = stage_masks(work, raw), stage_masks(work, c40)
                assert raw_masks.keys() == c40_masks.keys()
                for frame, mask in raw_masks.items():
                    np.testing.assert_array_equal(c40_masks[frame], mask)
    for method in METHODS:  # raw reference: the c40 masks score exactly as the raw ones
        assert table[(method, "c40")] == table[(method, "raw")]


def test_masks_of_every_changed_pixel_match_the_ground_truth_on_raw(demo):
    # Threshold 0 marks every changed pixel, which is what the demo's ground truth holds: this checks
    # the pairing and crop geometry. At the paper's 0.15 the IoU measures the recipe, not the stage:
    # the re-enactments and FaceSwap fade out at their edges, so much of their region changes by less
    # than 0.15 (printed); the whole-face replacement (Deepfakes) holds nearly every pixel of its
    # hard-edged ellipse at least 0.18 off the real, so the paper's masks must find it. (Its IoU at
    # 0.15 may even pass the one at 0: the crop's bilinear resampling smears the hard edge by a pixel,
    # and the ground truth, binarised at half, leaves those faint edge pixels out, as 0.15 does.)
    root, work = demo
    exact = iou_table(root, work, MasksParams(threshold=0.0), ("raw",))
    for method in METHODS:
        assert exact[(method, "raw")] >= 0.9, method
    paper = iou_table(root, work, MasksParams(), ("raw",))
    assert paper[("Deepfakes", "raw")] >= 0.8
    for method in ("Face2Face", "FaceSwap", "NeuralTextures"):
        assert 0.0 < paper[(method, "raw")] < exact[(method, "raw")], method


def test_raw_reference_has_fewer_specks_than_same_quality_c40(demo):
    root, work = demo
    counts = {}
    for reference in ("raw", "same"):
        run(
            root,
            work,
            MasksParams(reference_quality=reference),
            Selection(qualities=("c40",)),
            jobs=2,
            progress=False,
        )
        with RunState(WorkLayout(work).state_db) as state:
            records = [r for r in state.records("masks") if "/c40/" in r.key]
            assert {r.data["reference_quality"] for r in records} == {
                reference if reference == "raw" else "c40"
            }
            counts[reference] = sum(r.data["mean_components"] for r in records)
    print(f"\nc40 components summed over fakes: raw reference {counts['raw']:.1f}, same {counts['same']:.1f}")
    assert counts["raw"] < counts["same"]


@pytest.mark.skipif(
    not (SAMPLE / "manipulated_sequences").is_dir(), reason="no FF++ sample in ../shared/data/ffpp"
)
def test_sample_ffpp_pair_masks_and_statistics(tmp_path):
    work = tmp_path / "work"
    params = ExtractParams(frames=4, crop=CropParams(size=128))
    scope = Scope(methods=("youtube", "NeuralTextures"), qualities=("c23",))
    assert extract(SAMPLE, work, params, scope, jobs=1, device="cpu", progress=False).failed == 0
    summary = run(SAMPLE, work, MasksParams(), jobs=1, progress=False)
    assert (summary.done, summary.failed, summary.items) == (1, 0, 4)
    with RunState(WorkLayout(work).state_db) as state:
        data = state.get("masks", "ffpp/NeuralTextures/c23/004_982").data
    print(f"\nNeuralTextures 004_982 c23 (no raw: same-quality reference): {data}")
    assert data["reference_quality"] == "c23" and len(data["frames"]) == 4
    assert 0.0 < data["mean_area"] < 0.5 and data["mean_components"] >= 1.0
    masks = stage_masks(work, "ffpp/NeuralTextures/c23/004_982")
    assert all(m.shape == (128, 128) and set(np.unique(m)) <= {0, 255} for m in masks.values())
