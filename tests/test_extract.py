"""`lrl-prep extract` on a small FF++-shaped tree of real face photographs, with broken videos in it."""

import errno
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from videos import background, face_clip, forge, truncate, write_video

import pipeline.kernels.video
from cli import prep
from pipeline.dataset.layout import video_dir
from pipeline.engine.runstate import DONE, FAILED, RunState
from pipeline.errors import LrlError
from pipeline.kernels.crop import template
from pipeline.kernels.detect import get_mtcnn, iou, mtcnn_faces
from pipeline.kernels.faces import detect_video
from pipeline.params import CropParams, DetectParams, ExtractParams, Scope
from pipeline.stages import extract as extract_stage
from pipeline.stages.extract import DETECT, STAGE, detect_sources
from pipeline.stages.status import saved_plan
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import Detection, VideoRecord
from tests.kit import prep_args
from tests.kit import run_extract as run

FRAMES, SIZE = 6, 96
REAL = face_clip(12, 640, 480, face=200, step=4)
FAKE, FAKE_MASKS = forge(REAL)
ORPHAN = face_clip(12, 640, 480, face=240, step=-3)
TWO = face_clip(8, 320, 240, face=140, step=1, second=100)  # faces 64 and 48 px wide
SMALL = face_clip(8, 320, 240, face=140, step=2)
BAD = {  # video key -> reason
    "ffpp/youtube/raw/006": "006.mp4: cannot open as a video",
    "ffpp/youtube/raw/007": "007.mp4: cannot open as a video",
    "ffpp/youtube/raw/008": "008.mp4: no face detected in any of the 6 sampled frames",
    "ffpp/NeuralTextures/raw/000_002": "000_002.mp4: frames are 320x240, ",
}


def real_path(root, video, quality="raw"):
    return video_dir(root, "youtube", quality) / f"{video}.mp4"


def fake_path(root, method, video, quality="raw"):
    return video_dir(root, method, quality) / f"{video}.mp4"


def build_tree(root: Path) -> Path:
    for quality, crf in (("raw", 0), ("c23", 28)):
        write_video(real_path(root, "000", quality), REAL.frames, crf=crf)
        write_video(fake_path(root, "Deepfakes", "000_001", quality), FAKE, crf=crf)
    write_video(fake_path(root, "FaceSwap", "000_001"), FAKE[:7])  # shorter than its real
    write_video(fake_path(root, "Face2Face", "002_003"), ORPHAN.frames)  # its real 002 is absent
    real_path(root, "005").write_bytes(b"")  # not a unit: an index problem ("empty file (0 bytes)")
    real_path(root, "006").write_text("not a video\n" * 30)
    truncate(write_video(real_path(root, "007"), SMALL.frames), 0.5)  # index at the end: unreadable
    write_video(real_path(root, "008"), [background(320, 240)] * 8)  # no face
    write_video(real_path(root, "009"), TWO.frames)  # two faces
    write_video(real_path(root, "010"), SMALL.frames, pts=[0, 30, 45, 200, 230, 600, 610, 990])  # VFR
    write_video(real_path(root, "011"), [np.rot90(f, -1) for f in SMALL.frames], rotation=90)  # rotated
    truncate(write_video(real_path(root, "012"), SMALL.frames * 3, faststart=True), 0.6)  # decodable prefix
    write_video(
        real_path(root, "013"), SMALL.frames[:3] + [background(320, 240)] + SMALL.frames[4:]
    )  # face gone
    write_video(fake_path(root, "NeuralTextures", "000_002"), SMALL.frames)  # not the size of its real
    return root


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = build_tree(tmp_path_factory.mktemp("ffpp"))
    work = tmp_path_factory.mktemp("work")
    args = prep_args("extract", root, work, FRAMES, SIZE, "--device", "cpu")
    result = CliRunner().invoke(prep, args)
    state = RunState(WorkLayout(work).state_db)
    yield (
        root,
        work,
        result,
        {r.key: r for r in state.records(STAGE)},
        {r.key: r for r in state.records(DETECT)},
    )
    state.close()


def key(method, quality, video):
    return f"ffpp/{method}/{quality}/{video}"


def crops(work, k, face=0):
    """{frame: crop} of one face of a video."""
    _, method, quality, video = k.split("/")
    folder = WorkLayout(work).face_dir("ffpp", method, quality, video)
    names = {frame_name(int(p.name[:6]), face): int(p.name[:6]) for p in folder.glob("*.png")}
    return {
        names[p.name]: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        for p in sorted(folder.glob("*.png"))
        if p.name in names
    }


def track(detection: dict, face: int = 0) -> dict:
    """One face track of a "detect" record's data."""
    return detection["tracks"][face]


def test_cli_prints_a_summary_and_one_line_per_failure_and_exits_1(extracted):
    root, _, result, records, _ = extracted
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    summary = [line for line in lines if line.startswith("extract: videos done")]
    assert summary == [lines[-3 - len(BAD)]] and ", 1 videos read in part, " in summary[0]
    note = records[key("youtube", "raw", "012")].data["note"]  # a decodable prefix of 24 frames
    assert lines[-2] == f"note: {key('youtube', 'raw', '012')}: {note}"
    assert note.startswith("read in part: its header gives 24 frames, ") and note.endswith(
        "; 6 of the 6 sampled frames read"
    )
    assert lines[-1] == f"problem: {real_path(root, '005')}: empty file (0 bytes)"
    assert f"done {len(records) - len(BAD)} / skipped 0 / failed {len(BAD)}" in summary[0]
    failed = [line for line in lines if line.startswith("failed: ")]
    assert len(failed) == len(BAD)
    for k, reason in BAD.items():
        assert any(line.startswith(f"failed: {k}: ") and reason in line for line in failed), k


def test_every_good_video_yields_one_crop_per_sampled_frame(extracted):
    _, work, _, records, _ = extracted
    good = [k for k, r in records.items() if r.status == DONE]
    assert len(good) == len(records) - len(BAD) == 11
    for k in good:
        rec = records[k]
        faces = sorted(set(rec.data["faces"]))
        assert faces == ([0, 1] if k == key("youtube", "raw", "009") else [0]), k  # 009 holds two faces
        files = {(frame, face): img for face in faces for frame, img in crops(work, k, face).items()}
        assert sorted(files) == sorted(zip(rec.data["frames"], rec.data["faces"], strict=True))
        partial = int(k == key("youtube", "raw", "012"))  # a decodable prefix (issue 26: said so)
        assert rec.counts == {"crops": len(files), "no_face": 0, "partial": partial, "few_crops": 0}
        assert ("note" in rec.data) == bool(partial)
        assert all(img.shape == (SIZE, SIZE, 3) for img in files.values())
        if "FaceSwap" not in k:
            assert len(files) == FRAMES * len(faces), k
    for k in BAD:
        assert records[k].status == FAILED and "\n" not in records[k].reason


def test_real_and_fakes_at_every_quality_share_frames_and_transforms(extracted):
    _, _, _, records, detects = extracted
    base = records[key("youtube", "raw", "000")].data
    assert base["frames"] == [0, 1, 2, 4, 5, 6]  # within the 7 frames FaceSwap 000_001 shares with it
    for k in (
        key("youtube", "c23", "000"),
        key("Deepfakes", "raw", "000_001"),
        key("Deepfakes", "c23", "000_001"),
    ):
        assert records[k].data["frames"] == base["frames"]
        assert records[k].data["transforms"] == base["transforms"]
        assert records[k].data["detect_key"] == "ffpp/youtube/000"
    assert detects["ffpp/youtube/000"].data["video"].endswith("raw/videos/000.mp4")  # best quality


def test_fake_shorter_than_its_real_gets_every_crop_its_real_has(extracted):
    _, _, _, records, detects = extracted
    short = records[key("FaceSwap", "raw", "000_001")].data
    base = records[key("youtube", "raw", "000")].data
    assert short["frames"] == base["frames"] and short["transforms"] == base["transforms"]
    assert detects["ffpp/youtube/000"].data["n_frames"] == 12  # the real's own length, sampled within 7


def test_fake_without_its_real_is_detected_on_itself(extracted):
    _, _, _, records, detects = extracted
    own = key("Face2Face", "raw", "002_003")
    assert records[own].status == DONE and records[own].data["detect_key"] == own
    boxes = np.array(track(detects[own].data)["boxes"])
    truth = ORPHAN.boxes[detects[own].data["frames"]]
    assert all(iou(b, t) >= 0.8 for b, t in zip(boxes, truth, strict=True))


def test_fake_and_real_crops_are_pixel_aligned_outside_the_forged_region(extracted):
    _, work, _, records, _ = extracted
    real, fake = crops(work, key("youtube", "raw", "000")), crops(work, key("Deepfakes", "raw", "000_001"))
    rec = records[key("Deepfakes", "raw", "000_001")].data
    for frame, matrix in zip(rec["frames"], rec["transforms"], strict=True):
        mask = cv2.warpAffine(FAKE_MASKS[frame], np.array(matrix), (SIZE, SIZE), flags=cv2.INTER_NEAREST) > 0
        diff = np.abs(fake[frame].astype(float) - real[frame]).mean(axis=2)
        assert diff[~mask].mean() < 2, frame
        assert diff[mask].mean() > 20, frame  # the forgery itself is there


def test_detected_boxes_match_the_true_face_boxes(extracted):
    _, _, _, _, detects = extracted
    data = detects["ffpp/youtube/000"].data
    face = track(data)
    overlaps = [iou(np.array(b), REAL.boxes[f]) for f, b in zip(data["frames"], face["boxes"], strict=True)]
    assert np.mean(np.array(overlaps) >= 0.8) >= 0.95, overlaps
    assert not any(face["interpolated"]) and min(face["scores"]) > 0.9 and len(data["tracks"]) == 1
    assert np.array(face["landmarks"]).shape == (FRAMES, 5, 2) and data["n_frames"] == 12


def test_two_faces_are_two_tracks_the_larger_consistent_one_first(extracted):
    _, _, _, _, detects = extracted
    params = DetectParams()
    seen = mtcnn_faces(get_mtcnn("cpu", params), TWO.frames[:1], 320, 240, 1, params.pad)[0]
    assert len(seen.confident(params.min_score).scores) == 2  # both faces are there
    data = detects["ffpp/youtube/009"].data
    assert len(data["tracks"]) == 2
    for f, b in zip(data["frames"], track(data)["boxes"], strict=True):
        assert iou(np.array(b), TWO.boxes[f]) >= 0.8
    second = track(data, 1)["boxes"]
    assert all(
        iou(np.array(b), np.array(TWO.boxes[f])) == 0 for f, b in zip(data["frames"], second, strict=True)
    )


def test_variable_frame_rate_and_rotated_videos_are_cropped(extracted):
    _, _, _, records, detects = extracted
    vfr = detects["ffpp/youtube/010"].data
    assert vfr["frames"] == [0, 1, 3, 4, 6, 7] and records[key("youtube", "raw", "010")].status == DONE
    rotated = detects["ffpp/youtube/011"].data
    assert (rotated["width"], rotated["height"]) == (320, 240)  # stored 240 x 320, shown upright
    for f, b in zip(rotated["frames"], track(rotated)["boxes"], strict=True):
        assert iou(np.array(b), SMALL.boxes[f]) >= 0.8
    assert records[key("youtube", "raw", "011")].status == DONE


def test_truncated_video_with_a_readable_index_is_sampled_over_its_decodable_prefix(extracted):
    _, _, _, records, detects = extracted
    data = detects["ffpp/youtube/012"].data
    assert 0 < data["n_frames"] < 24
    assert data["frames"][-1] == data["n_frames"] - 1 and len(data["frames"]) == FRAMES
    assert records[key("youtube", "raw", "012")].status == DONE


def test_a_frame_without_the_face_is_interpolated_and_flagged_not_dropped(extracted):
    _, work, _, records, detects = extracted
    data = detects["ffpp/youtube/013"].data
    assert data["frames"] == [0, 1, 3, 4, 6, 7]
    face = track(data)
    assert face["interpolated"] == [False, False, True, False, False, False] and face["scores"][2] == 0
    midway = (np.array(face["boxes"][1]) * 1 + np.array(face["boxes"][3]) * 2) / 3  # frames 1 and 4 -> 3
    assert np.array(face["boxes"][2]) == pytest.approx(midway, abs=0.02)
    rec = records[key("youtube", "raw", "013")]
    assert rec.data["interpolated"][2] and sorted(crops(work, rec.key)) == data["frames"]


def test_status_tasks_replans_both_stages_from_the_saved_parameters(extracted):
    _, work, _, records, detects = extracted
    with RunState(WorkLayout(work).state_db) as state:
        tasks = saved_plan(extract_stage, work, state)
        fresh = [t for t in tasks[STAGE] if state.is_fresh(STAGE, t.key, t.fingerprint)]
    assert {t.key for t in tasks[STAGE]} == set(records)
    assert {t.key for t in tasks[DETECT]} == set(detects)
    assert len(fresh) == len(records) - len(BAD)


def test_detect_sources_group_by_real_at_the_best_quality():
    def rec(method, quality, video):
        fake = method != "youtube"
        target = video.split("_")[0] if fake else video
        return VideoRecord(
            "ffpp",
            method,
            quality,
            video,
            f"/{method}/{quality}/{video}.mp4",
            int(fake),
            target,
            "youtube",
            video.split("_")[1] if fake else None,
            None,
            "train",
        )

    records = [
        rec("youtube", "c40", "000"),
        rec("youtube", "c23", "000"),
        rec("Deepfakes", "raw", "000_001"),
        rec("Deepfakes", "c40", "002_003"),
        rec("Deepfakes", "c23", "002_003"),
    ]
    sources = detect_sources(records)
    assert {k: (dk, src.quality) for k, (dk, src) in sources.items()} == {
        "ffpp/youtube/c40/000": ("ffpp/youtube/000", "c23"),
        "ffpp/youtube/c23/000": ("ffpp/youtube/000", "c23"),
        "ffpp/Deepfakes/raw/000_001": ("ffpp/youtube/000", "c23"),
        "ffpp/Deepfakes/c40/002_003": ("ffpp/Deepfakes/c23/002_003", "c23"),
        "ffpp/Deepfakes/c23/002_003": ("ffpp/Deepfakes/c23/002_003", "c23"),
    }


@pytest.fixture
def small_tree(tmp_path):
    root = tmp_path / "ffpp"
    write_video(real_path(root, "000"), SMALL.frames)
    write_video(real_path(root, "000", "c23"), SMALL.frames, crf=28)
    write_video(fake_path(root, "Deepfakes", "000_001"), SMALL.frames)
    return root, tmp_path / "work"


def test_rerun_with_nothing_changed_decodes_nothing_and_a_changed_real_recrops_its_fakes(
    small_tree, monkeypatch
):
    root, work = small_tree
    params = ExtractParams(frames=3)
    opened = Counter()
    real_open = pipeline.kernels.video._open

    def counting(path, *threads):
        opened[Path(path).relative_to(root).parts[1] + "/" + Path(path).parts[-3]] += 1
        return real_open(path, *threads)

    monkeypatch.setattr("pipeline.kernels.video._open", counting)
    first = run(root, work, params, jobs=1, device="cpu", progress=False)
    assert (first.done, first.failed, first.items) == (3, 0, 9)
    # the detected video is decoded once (after reading its header) and cropped from those frames; its
    # header is read once more to check the decodable length against it (read_in_part), and once with
    # its fake's header when planning, for the length they share (extract.shared_lengths; then kept)
    assert opened == {"youtube/raw": 4, "youtube/c23": 1, "Deepfakes/raw": 2}

    def no_decoding(path, *threads):
        raise AssertionError(f"decoded {path}")

    monkeypatch.setattr("pipeline.kernels.video._open", no_decoding)
    again = run(root, work, params, jobs=1, device="cpu", progress=False)
    assert (again.done, again.skipped, again.items) == (0, 3, 0)
    monkeypatch.undo()
    stamp = real_path(root, "000").stat().st_mtime_ns + 10**9
    os.utime(real_path(root, "000"), ns=(stamp, stamp))
    changed = run(root, work, params, jobs=1, device="cpu", progress=False)
    assert (changed.done, changed.skipped) == (3, 0)  # the real's detection feeds all three
    bigger = run(root, work, ExtractParams(frames=4), jobs=1, device="cpu", progress=False)
    assert bigger.done == 3
    folder = WorkLayout(work).face_dir("ffpp", "youtube", "raw", "000")
    assert sorted(p.name for p in folder.glob("*.png")) == [frame_name(f) for f in (0, 2, 5, 7)]


def test_frames_all_and_filters_and_parallel_workers(small_tree):
    root, work = small_tree
    scope = Scope(methods=("youtube",), qualities=("c23",))
    summary = run(root, work, ExtractParams(frames=None), scope, jobs=2, device="cpu", progress=False)
    assert (summary.done, summary.failed, summary.items) == (1, 0, 8)
    with RunState(WorkLayout(work).state_db) as state:
        detect = state.get(DETECT, "ffpp/youtube/000")
        assert detect.data["video"].endswith("raw/videos/000.mp4")  # detected on raw, though only c23 chosen
        assert state.get(STAGE, key("youtube", "raw", "000")) is None


def test_cuda_asked_without_cuda_is_a_one_line_error(small_tree):
    root, work = small_tree
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    result = CliRunner().invoke(
        prep, ["extract", "--root", str(root), "--work", str(work), "--device", "cuda"]
    )
    assert result.exit_code == 2 and result.output.strip() == (
        "error: --device cuda: no CUDA device is available (use --device cpu or auto)"
    )


def test_small_faces_missed_at_the_detection_scale_are_found_at_twice_the_scale(tmp_path):
    tiny = face_clip(2, 960, 540, face=70, step=2, plain=True)  # face box 32 px: 14 px at scale 4/9: missed
    path = write_video(tmp_path / "small_face.mp4", tiny.frames)
    data = Detection.from_faces(detect_video(path, 1, DetectParams()))
    assert data.frames == [0] and data.tracks[0].interpolated == [False]
    assert iou(np.array(data.tracks[0].boxes[0]), tiny.boxes[0]) >= 0.7
    with pytest.raises(LrlError, match="no face detected in any of the 1 sampled frames"):
        detect_video(path, 1, DetectParams(retry=False))


def test_align_maps_the_landmarks_onto_the_template_for_real_and_fake_alike(small_tree):
    root, work = small_tree
    params = ExtractParams(frames=2, crop=CropParams(size=112, align=True))
    summary = run(root, work, params, jobs=1, device="cpu", progress=False)
    assert (summary.done, summary.failed) == (3, 0)
    with RunState(WorkLayout(work).state_db) as state:
        real, fake = (
            state.get(STAGE, key("youtube", "raw", "000")),
            state.get(STAGE, key("Deepfakes", "raw", "000_001")),
        )
        marks = np.array(track(state.get(DETECT, "ffpp/youtube/000").data)["landmarks"])
    assert fake.data["transforms"] == real.data["transforms"]
    for matrix, points in zip(real.data["transforms"], marks, strict=True):
        mapped = points @ np.array(matrix)[:, :2].T + np.array(matrix)[:, 2]
        miss = np.hypot(*(mapped - template(112, 1.3)).T)  # a similarity fits the 5 points, not exactly
        assert miss[:2].max() < 3 and miss.max() < 6  # eyes within 3 px of the template, all within 6
    assert all(img.shape == (112, 112, 3) for img in crops(work, real.key).values())


def test_a_full_disk_stops_the_run_naming_the_file_and_a_rerun_completes(small_tree, monkeypatch):
    """A full disk is no unit's fault: the run stops at once with DiskFull (issue 26; it used to fail every
    unit in turn), nothing is recorded as done, a rerun with room completes."""
    from pipeline.store.space import DiskFull

    root, work = small_tree

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("pipeline.store.images.write_bytes", full)
    params = ExtractParams(frames=2)
    with pytest.raises(
        DiskFull,
        match=r"/faces/ffpp/youtube/raw/000/000000.png: disk full: writing it needs "
        r"[\d.]+ KB free, [\d.]+ [KMG]?B free there",
    ):
        run(root, work, params, jobs=1, device="cpu", progress=False)
    assert not list(Path(work).rglob("*.png"))
    with RunState(WorkLayout(work).state_db) as state:
        assert not [r for r in state.records(STAGE) if r.ok]
    monkeypatch.undo()
    again = run(root, work, params, jobs=1, device="cpu", progress=False)
    assert (again.done, again.failed, again.items) == (3, 0, 6)
