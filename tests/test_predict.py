"""lrl-predict: the checkpoint's own preprocessing (same crops and frequency cue as the shards), JSON / CSV,
summary lines and exit codes, bad checkpoints."""

import csv
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import predict as predict_cli
from model.training import checkpoint
from pipeline.predict.score import crops_of, load_predictor
from pipeline.store.reader import ShardDataset


def demo_video(root, name="000", method="youtube"):
    folder = "original_sequences" if method == "youtube" else "manipulated_sequences"
    return root / folder / method / "raw" / "videos" / f"{name}.mp4"


def test_checkpoint_records_the_preprocessing_of_its_shards(tiny_run):
    _, work, ckpt = tiny_run
    prep = torch.load(ckpt, weights_only=True)["metrics"]["shards"]
    index = json.loads((work / "shards" / "index.json").read_text())
    assert prep["frames"] == 4 and prep["size"] == 80 and prep["extract"]["crop"]["size"] == 80
    assert prep["alpha"] == 0.33 and prep["freq_std"] == pytest.approx(index["freq_std"])
    assert prep["extract"]["detect"]["det_side"] == 240 and prep["mask_params"]["threshold"] == 0.15


def test_crops_and_frequency_cue_equal_the_shards(tiny_run, one_torch_thread):
    root, work, ckpt = tiny_run
    pred = load_predictor(ckpt, "cpu")
    det, [cropped], [crops], _, _ = crops_of(demo_video(root), pred, keep_thumbs=False)  # one face
    assert cropped == list(range(4))  # a face in every sampled frame of the demo
    shards = [ShardDataset(work / "shards", s) for s in ("train", "val", "test")]
    rows = [(ds, i) for ds in shards for i in range(len(ds)) if ds[i]["key"] == "ffpp/youtube/raw/000"]
    assert [ds[i]["frame"] for ds, i in rows] == det.frames
    for j, (ds, i) in enumerate(rows):
        assert np.array_equal(crops[j], ds[i]["rgb"])
    from pipeline.kernels.dct import frequency_cue

    freq = frequency_cue(crops, pred.alpha).astype(np.float16)
    assert np.array_equal(freq, np.stack([ds[i]["freq"] for ds, i in rows]))


def test_scores_json_csv_summary_lines_and_exit_one_on_a_failure(tiny_run, tmp_path, one_torch_thread):
    root, _, ckpt = tiny_run
    video, fake = demo_video(root), demo_video(root, "000_001", "Deepfakes")
    image = tmp_path / "still.png"
    import cv2

    from pipeline.kernels.video import iter_frames

    frame = next(iter_frames(video, [3]))[1]
    cv2.imwrite(str(image), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    out = tmp_path / "out"
    args = ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu", "--batch", "3"]
    result = CliRunner().invoke(
        predict_cli, args + [str(video), str(image), str(broken), str(tmp_path / "nope")]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("failed") and "broken.mp4: cannot open as a video" in line for line in lines)
    assert any(line.startswith("failed") and "nope: no such file or folder" in line for line in lines)
    assert lines[-1].startswith("predict: 2 scored / 2 failed")
    doc = json.loads((out / "predictions.json").read_text())
    by_path = {r["path"]: r for r in doc["inputs"]}
    v, im = by_path[str(video)], by_path[str(image)]
    [face], [im_face] = v["faces"], im["faces"]
    assert v["kind"] == "video" and len(v["frames"]) == len(face["probs"]) == len(face["boxes"]) == 4
    assert face["counted"] == v["frames"] and not any(face["interpolated"]) and not any(face["no_face"])
    assert (
        v["score"] == face["score"] == pytest.approx(np.mean(face["probs"]), abs=1e-6)
    )  # the stated aggregation
    assert im["kind"] == "image" and im["frames"] == [0] and im["n_frames"] == 1
    assert im_face["probs"][0] == pytest.approx(
        face["probs"][1], abs=0.02
    )  # the same frame (3 of 0, 3, 6, 9), PNG
    assert doc["preprocessing"]["frames"] == 4 and doc["aggregation"].startswith(
        "maximum over the faces of the mean"
    )
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 4 + 1 + 2
    assert [float(r["probability"]) for r in rows if r["input"] == str(video)] == pytest.approx(
        face["probs"], abs=1e-6
    )
    assert {r["face"] for r in rows if r["input"] == str(video)} == {"0"}
    assert {r["status"] for r in rows if r["input"] == str(broken)} == {"failed"}
    ok = CliRunner().invoke(predict_cli, args + [str(fake)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0].split()[0] in ("fake", "real") and str(fake) in ok.output


def test_bad_usage_exits_two_with_one_line(tiny_run, tmp_path):
    root, _, ckpt = tiny_run
    no_input = CliRunner().invoke(predict_cli, ["--checkpoint", str(ckpt)])
    assert no_input.exit_code == 2 and "no INPUT given" in no_input.output
    state = torch.load(ckpt, weights_only=True)
    del state["metrics"]["shards"]
    old = tmp_path / "old.pt"
    torch.save(state, old)
    result = CliRunner().invoke(predict_cli, ["--checkpoint", str(old), str(demo_video(root))])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        result.output.count("\n") == 1 and "old.pt: the checkpoint records no preprocessing" in result.output
    )
    missing = CliRunner().invoke(
        predict_cli, ["--checkpoint", str(tmp_path / "none.pt"), str(demo_video(root))]
    )
    assert missing.exit_code == 2 and "none.pt: no such checkpoint" in missing.output
    assert checkpoint.load(ckpt)["metrics"]["shards"]["frames"] == 4


def test_interpolated_frames_left_out_of_the_score_and_no_face_frames_unscored(
    tiny_run, tmp_path, one_torch_thread
):
    """Frame 3 blacked out lies between two detections (interpolated box); frame 9 is the last (no face)."""
    from pipeline.kernels.encode import ENCODINGS, write_videos
    from pipeline.kernels.video import iter_frames

    root, _, ckpt = tiny_run
    frames = [f for _, f in iter_frames(demo_video(root), None)]
    for i in (3, 9):
        frames[i] = np.zeros_like(frames[i])
    video = tmp_path / "gaps.mp4"
    write_videos([(video, ENCODINGS["raw"])], frames, 25)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        predict_cli, ["--checkpoint", str(ckpt), "--out", str(out), "--device", "cpu", str(video)]
    )
    assert result.exit_code == 0, result.output
    assert "(4 frames, 1 interpolated, 1 no face, 2 counted," in result.output
    doc = json.loads((out / "predictions.json").read_text())["inputs"][0]
    [r] = doc["faces"]
    assert doc["frames"] == [0, 3, 6, 9] and r["interpolated"] == [False, True, False, False]
    assert r["no_face"] == [False, False, False, True] and r["probs"][3] is None and r["boxes"][3] is None
    assert r["counted"] == [0, 6] and r["score"] == pytest.approx(
        (r["probs"][0] + r["probs"][2]) / 2, abs=1e-6
    )
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert [(r["counted"], r["no_face"], r["probability"] == "") for r in rows] == [
        ("1", "0", False),
        ("0", "0", False),
        ("1", "0", False),
        ("0", "1", True),
    ]


def test_every_face_of_a_two_person_video_is_scored_and_the_video_takes_the_maximum(
    tiny_run, tmp_path, one_torch_thread
):
    from pipeline.demo.crowd import write_crowd

    _, _, ckpt = tiny_run
    video = tmp_path / "two.mp4"
    write_crowd(video, tmp_path / "two_fake.mp4", frames=8)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        predict_cli,
        [
            "--checkpoint",
            str(ckpt),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--report",
            str(tmp_path / "report"),
            str(video),
        ],
    )
    assert result.exit_code == 0, result.output
    r = json.loads((out / "predictions.json").read_text())["inputs"][0]
    assert [f["face"] for f in r["faces"]] == [0, 1] and r["score"] == max(f["score"] for f in r["faces"])
    assert "2 faces (max of " in result.output and "8 counted" in result.output
    header = next(csv.reader((out / "predictions.csv").open()))
    assert len(header) == len(set(header)), header  # one name per column
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert [(row["face"], row["frame"]) for row in rows] == [
        (k, f) for k in "01" for f in ("0", "2", "5", "7")
    ]
    assert {row["face"]: float(row["face_video_score"]) for row in rows} == pytest.approx(
        {str(f["face"]): f["score"] for f in r["faces"]}, abs=1e-6
    )
    page = next((tmp_path / "report").glob("0001-*.html")).read_text()
    deciding = max(r["faces"], key=lambda f: f["score"])[
        "face"
    ]  # the page shows the face that decides the score
    assert f"this page shows face {deciding}" in page
