"""The masks stage on a hand-built WORK tree: crops and "extract" records written as pipeline.store.layout
and CropsRecord say."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.engine.runstate import DONE, FAILED, RunState, UnitResult
from pipeline.params import MasksParams, PrepConfig, Selection
from pipeline.stages import masks as masks_stage
from pipeline.stages.context import Context
from pipeline.stages.status import saved_plan
from pipeline.store.images import write_png
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import VideoRecord
from tests.kit import run_masks as run

SIZE = 32
FRAMES = (0, 5, 10)
REGION = (slice(8, 20), slice(10, 24))  # the forged rectangle of every fake crop
QUALITIES = ("raw", "c23", "c40")


def real_crop(video: str, frame: int) -> np.ndarray:
    from skimage.data import astronaut

    shift = 7 * int(video[:3]) + frame
    return cv2.resize(np.roll(astronaut(), shift, axis=1), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def forge(real: np.ndarray) -> np.ndarray:
    """Every channel of the region moves by exactly 128: grey difference 128 > 0.15 * 255."""
    fake = real.copy()
    fake[REGION] = (real[REGION].astype(np.int32) + 128) % 256
    return fake


def expected_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[REGION] = 255
    return mask


def compress(image: np.ndarray, seed: int) -> np.ndarray:
    """Stand-in for c23/c40: independent noise, strong enough to leave specks in a same-quality diff."""
    noise = np.random.default_rng(seed).integers(-60, 61, image.shape)
    return np.clip(image.astype(np.int32) + noise, 0, 255).astype(np.uint8)


def transform(frame: int) -> list:
    return [[0.5, 0.0, -float(frame)], [0.0, 0.5, -4.0]]


def video_record(method: str, quality: str, video: str) -> VideoRecord:
    fake = method != "youtube"
    target, source = video.split("_") if fake else (video, None)
    return VideoRecord(
        dataset="ffpp",
        method=method,
        quality=quality,
        video=video,
        path=f"/nowhere/{method}/{video}.mp4",
        label=int(fake),
        target=target,
        target_method="youtube",
        source=source,
        mask_path=None,
        split="train",
    )


def add_extract(work: Path, state: RunState, video: VideoRecord, images: dict, status=DONE, tag="v1") -> None:
    """Write crops and record a finished "extract" unit, as the extract stage would."""
    folder = WorkLayout(work).face_dir(video.dataset, video.method, video.quality, video.video)
    for frame, image in images.items():
        write_png(folder / frame_name(frame), image)
    frames = sorted(images)
    state.record(
        "extract",
        UnitResult(
            key=video.key,
            fingerprint=f"{video.key}:{tag}",
            status=status,
            reason=None if status == DONE else "no face found",
            counts={"crops": len(frames)},
            data={
                "record": video.to_dict(),
                "frames": frames,
                "interpolated": [False] * len(frames),
                "size": SIZE,
                "transforms": [transform(f) for f in frames],
                "detect_key": f"ffpp/youtube/{video.target}",
            },
        ),
    )


def add_pair(
    work: Path,
    state: RunState,
    fake_name: str,
    qualities=QUALITIES,
    method="Deepfakes",
    with_real=True,
    frames=FRAMES,
) -> None:
    """A fake and (optionally) its real at the given qualities; non-raw crops get independent noise."""
    target = fake_name.split("_")[0]
    for qi, quality in enumerate(qualities):
        reals = {f: real_crop(target, f) for f in frames}
        fakes = {f: forge(img) for f, img in reals.items()}
        if quality != "raw":
            reals = {f: compress(img, 100 * qi + f) for f, img in reals.items()}
            fakes = {f: compress(img, 100 * qi + f + 50) for f, img in fakes.items()}
        add_extract(work, state, video_record(method, quality, fake_name), fakes)
        if with_real:
            add_extract(work, state, video_record("youtube", quality, target), reals)


def read_mask(work: Path, key: str, frame: int) -> np.ndarray:
    dataset, method, quality, video = key.split("/")
    path = WorkLayout(work).mask_dir(dataset, method, quality, video) / frame_name(frame)
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def face_path(work: Path, key: str, frame: int) -> Path:
    return WorkLayout(work).face_dir(*key.split("/")) / frame_name(frame)


@pytest.fixture
def work(tmp_path):
    return tmp_path / "work"


@pytest.fixture
def state(work):
    with RunState(WorkLayout(work).state_db) as s:
        yield s


def run_quiet(work, jobs=1, **kwargs):
    return run(work.parent, work, jobs=jobs, progress=False, **kwargs)


def test_raw_reference_masks_are_written_for_every_quality(work, state):
    add_pair(work, state, "000_001")
    summary = run_quiet(work)
    assert (summary.done, summary.failed, summary.items) == (3, 0, 9)
    for quality in QUALITIES:
        key = f"ffpp/Deepfakes/{quality}/000_001"
        for frame in FRAMES:
            mask = read_mask(work, key, frame)
            assert mask.dtype == np.uint8 and mask.shape == (SIZE, SIZE)
            np.testing.assert_array_equal(mask, expected_mask())
        data = state.get("masks", key).data
        assert data["reference_quality"] == "raw" and data["source"] == "diff"
        assert data["frames"] == list(FRAMES)
        assert data["mean_area"] == pytest.approx((12 * 14) / SIZE**2)
        assert data["mean_components"] == 1.0 and data["empty_frames"] == []
        assert state.get("masks", key).counts == {"masks": 3}
    assert not WorkLayout(work).mask_dir("ffpp", "youtube", "raw", "000").exists()  # reals: implied zeros


def test_same_reference_uses_the_noisy_pair_of_its_own_quality(work, state):
    add_pair(work, state, "000_001")
    run_quiet(work, params=MasksParams(reference_quality="same"))
    raw = state.get("masks", "ffpp/Deepfakes/raw/000_001").data
    c23 = state.get("masks", "ffpp/Deepfakes/c23/000_001").data
    assert raw["reference_quality"] == "raw" and c23["reference_quality"] == "c23"
    assert raw["mean_components"] == 1.0
    assert c23["mean_components"] > 1.0  # compression-noise specks, as on real c23 pairs
    assert not np.array_equal(read_mask(work, "ffpp/Deepfakes/c23/000_001", 0), expected_mask())


def test_auto_reference_falls_back_to_same_quality_without_raw_crops(work, state):
    add_pair(work, state, "000_001", qualities=("c23",))
    run_quiet(work)
    assert state.get("masks", "ffpp/Deepfakes/c23/000_001").data["reference_quality"] == "c23"


def test_raw_reference_asked_for_without_raw_crops_fails_that_video_only(work, state):
    add_pair(work, state, "000_001", qualities=("c23",))
    add_pair(work, state, "002_003", qualities=("raw", "c23"))
    summary = run_quiet(work, params=MasksParams(reference_quality="raw"))
    assert (summary.done, summary.failed) == (2, 1)
    failed = state.get("masks", "ffpp/Deepfakes/c23/000_001")
    assert failed.status == FAILED and "reference quality raw" in failed.reason
    assert state.get("masks", "ffpp/Deepfakes/c23/002_003").data["reference_quality"] == "raw"


def test_second_run_skips_and_changes_rerun(work, state):
    add_pair(work, state, "000_001", qualities=("raw", "c23"))
    assert run_quiet(work).done == 2
    mask_file = WorkLayout(work).mask_dir("ffpp", "Deepfakes", "c23", "000_001") / frame_name(0)
    stamp = mask_file.stat().st_mtime_ns
    again = run_quiet(work)
    assert (again.done, again.skipped) == (0, 2)
    assert mask_file.stat().st_mtime_ns == stamp
    assert run_quiet(work, params=MasksParams(threshold=0.2)).done == 2
    # new crops of the raw real change the upstream fingerprint of both units (raw is their reference)
    add_extract(
        work, state, video_record("youtube", "raw", "000"), {f: real_crop("000", f) for f in FRAMES}, tag="v2"
    )
    assert run_quiet(work, params=MasksParams(threshold=0.2)).done == 2


def test_empty_frame_is_flagged_not_dropped(work, state):
    add_pair(work, state, "000_001", qualities=("raw",))
    untouched = real_crop("000", 5)
    add_extract(
        work,
        state,
        video_record("Deepfakes", "raw", "000_001"),
        {0: forge(real_crop("000", 0)), 5: untouched, 10: forge(real_crop("000", 10))},
    )
    run_quiet(work)
    data = state.get("masks", "ffpp/Deepfakes/raw/000_001").data
    assert data["empty_frames"] == [5] and data["frames"] == list(FRAMES)
    assert read_mask(work, "ffpp/Deepfakes/raw/000_001", 5).max() == 0
    assert data["mean_components"] == pytest.approx(2 / 3)


def test_missing_real_crops_fail_that_video_only(work, state):
    add_pair(work, state, "000_001", qualities=("raw",))
    add_pair(work, state, "002_003", qualities=("raw",), with_real=False)
    add_pair(work, state, "004_005", qualities=("raw",))
    face_path(work, "ffpp/youtube/raw/004", 10).unlink()
    summary = run_quiet(work)
    assert (summary.done, summary.failed) == (1, 2)
    reasons = dict(summary.failures)
    assert (
        "real crops missing: no finished extract of ffpp/youtube/raw/002"
        in reasons["ffpp/Deepfakes/raw/002_003"]
    )
    assert (
        reasons["ffpp/Deepfakes/raw/004_005"]
        == f"{face_path(work, 'ffpp/youtube/raw/004', 10)}: crop missing"
    )
    assert state.get("masks", "ffpp/Deepfakes/raw/000_001").status == DONE


def test_real_crops_of_other_frames_or_transforms_fail(work, state):
    add_pair(work, state, "000_001", qualities=("raw",), frames=(0, 5))
    add_extract(
        work,
        state,
        video_record("Deepfakes", "raw", "000_001"),
        {f: forge(real_crop("000", f)) for f in (0, 7)},
    )
    run_quiet(work)
    assert "has no crop of frame 7" in state.get("masks", "ffpp/Deepfakes/raw/000_001").reason


def test_crops_of_different_sizes_fail_that_video_only(work, state):
    add_pair(work, state, "000_001", qualities=("raw",))
    add_pair(work, state, "002_003", qualities=("raw",))
    bad = face_path(work, "ffpp/youtube/raw/002", 5)
    write_png(bad, cv2.resize(real_crop("002", 5), (SIZE - 2, SIZE - 2)))
    summary = run_quiet(work)
    assert (summary.done, summary.failed) == (1, 1)
    assert dict(summary.failures)["ffpp/Deepfakes/raw/002_003"] == f"{bad}: crop is 30x30, expected 32x32"


def test_truncated_png_fails_that_video_and_keeps_earlier_masks(work, state):
    add_pair(work, state, "000_001", qualities=("raw",))
    add_pair(work, state, "002_003", qualities=("raw",))
    run_quiet(work)
    before = {f: read_mask(work, "ffpp/Deepfakes/raw/002_003", f) for f in FRAMES}
    bad = face_path(work, "ffpp/Deepfakes/raw/002_003", 10)
    bad.write_bytes(bad.read_bytes()[:200])
    summary = run_quiet(work, params=MasksParams(threshold=0.9), jobs=2)
    assert (summary.done, summary.failed) == (1, 1)
    assert (
        dict(summary.failures)["ffpp/Deepfakes/raw/002_003"]
        == f"{bad}: crop unreadable (truncated or not a PNG)"
    )
    for frame, mask in before.items():  # nothing written for the failed unit
        np.testing.assert_array_equal(read_mask(work, "ffpp/Deepfakes/raw/002_003", frame), mask)
    assert read_mask(work, "ffpp/Deepfakes/raw/000_001", 0).max() == 0  # 0.9 leaves nothing


def write_mask_video(path: Path, n_frames: int) -> None:
    """A 64x48 white-rectangle mask video; the rectangle moves right by 2 px a frame."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(n_frames):
            image = np.zeros((48, 64, 3), np.uint8)
            image[16:32, 20 + 2 * i : 36 + 2 * i] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def official_expected(frame: int) -> np.ndarray:
    full = np.zeros((48, 64), np.uint8)
    full[16:32, 20 + 2 * frame : 36 + 2 * frame] = 255
    return cv2.warpAffine(full, np.array(transform(frame)), (SIZE, SIZE), flags=cv2.INTER_NEAREST)


def test_official_source_warps_the_mask_video_and_records_missing_ones(work, state):
    from pipeline.dataset.layout import mask_video_dir
    from pipeline.kernels.masks import iou

    root = work.parent
    add_pair(work, state, "000_001", qualities=("raw",))
    add_pair(work, state, "002_003", qualities=("raw",))
    add_pair(work, state, "004_005", qualities=("raw",))
    write_mask_video(mask_video_dir(root, "Deepfakes") / "000_001.mp4", 12)
    write_mask_video(mask_video_dir(root, "Deepfakes") / "004_005.mp4", 8)  # shorter than frame 10
    add_pair(work, state, "006_007", qualities=("raw",))
    (mask_video_dir(root, "Deepfakes") / "006_007.mp4").write_bytes(b"not a video")
    summary = run_quiet(work, params=MasksParams(source="official"))
    assert (summary.done, summary.failed) == (1, 3)
    for frame in FRAMES:
        assert iou(read_mask(work, "ffpp/Deepfakes/raw/000_001", frame), official_expected(frame)) >= 0.9
    data = state.get("masks", "ffpp/Deepfakes/raw/000_001").data
    assert data["source"] == "official" and data["reference_quality"] == "official"
    reasons = dict(summary.failures)
    assert reasons["ffpp/Deepfakes/raw/002_003"] == "no official mask video for ffpp/Deepfakes/raw/002_003"
    assert "mask video has 8 frames, crop frame 10 is beyond it" in reasons["ffpp/Deepfakes/raw/004_005"]
    assert "006_007.mp4: cannot open as a video" in reasons["ffpp/Deepfakes/raw/006_007"]


def status_tasks(work, state):
    return saved_plan(masks_stage, work, state)["masks"]


def plan(work, state):
    """Every fake's masks task with the default parameters."""
    return masks_stage.plan(Context(work, state, PrepConfig(masks=MasksParams()))).units["masks"]


def test_selection_and_status_replan(work, state):
    add_pair(work, state, "000_001", qualities=("raw", "c23"))
    add_pair(work, state, "002_003", qualities=("raw",), method="FaceSwap")
    assert status_tasks(work, state) == []
    summary = run_quiet(work, selection=Selection(methods=("FaceSwap",)))
    assert summary.done == 1
    replanned = status_tasks(work, state)
    assert [t.key for t in replanned] == ["ffpp/FaceSwap/raw/002_003"]
    assert all(state.is_fresh("masks", t.key, t.fingerprint) for t in replanned)
    everything = plan(work, state)
    assert [t.key for t in everything] == [
        "ffpp/Deepfakes/c23/000_001",
        "ffpp/Deepfakes/raw/000_001",
        "ffpp/FaceSwap/raw/002_003",
    ]


def test_failed_extract_of_the_fake_is_not_planned(work, state):
    add_pair(work, state, "000_001", qualities=("raw",))
    add_extract(work, state, video_record("Deepfakes", "raw", "002_003"), {}, status=FAILED)
    assert [t.key for t in plan(work, state)] == ["ffpp/Deepfakes/raw/000_001"]


def test_cli_prints_summary_and_failures(work, state):
    from cli import prep

    add_pair(work, state, "000_001", qualities=("raw",))
    add_pair(work, state, "002_003", qualities=("raw",), with_real=False)
    result = CliRunner().invoke(
        prep,
        [
            "masks",
            "--root",
            str(work.parent),
            "--work",
            str(work),
            "--threshold",
            "0.2",
            "--jobs",
            "1",
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert "masks: videos done 1 / skipped 0 / failed 1, 3 masks" in result.output
    assert "failed: ffpp/Deepfakes/raw/002_003: real crops missing" in result.output
    assert state.get_meta("params:masks")["threshold"] == 0.2


def test_cli_refuses_bad_threshold_and_empty_work(tmp_path):
    from cli import prep

    (tmp_path / "w").mkdir()
    result = CliRunner().invoke(prep, ["masks", "--root", str(tmp_path), "--work", str(tmp_path / "w")])
    assert result.exit_code == 2 and "no run state here" in result.output
    result = CliRunner().invoke(
        prep, ["masks", "--root", str(tmp_path), "--work", str(tmp_path / "w"), "--threshold", "1.5"]
    )
    assert result.exit_code == 2 and "--threshold" in result.output
