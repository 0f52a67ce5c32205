"""Dataset index: name parsing, splits, problems, the shared FF++ sample."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import prep
from pipeline.dataset.adapters import scan
from pipeline.dataset.ffpp import parse_name
from pipeline.dataset.layout import mask_video_dir, video_dir
from pipeline.dataset.splits import load_pairs, official_split_dir, split_lookup
from pipeline.errors import LrlError
from pipeline.params import Selection

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ffpp"


def touch(path: Path, data: bytes = b"\0" * 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_official_splits_have_720_140_140_disjoint_ids():
    lookup = split_lookup(load_pairs(official_split_dir()))
    ids = {
        split: {k for k, v in lookup.items() if v == split and "_" not in k}
        for split in ("train", "val", "test")
    }
    assert [len(ids[s]) for s in ("train", "val", "test")] == [720, 140, 140]
    assert (
        not (ids["train"] & ids["val"])
        and not (ids["train"] & ids["test"])
        and not (ids["val"] & ids["test"])
    )
    assert set().union(*ids.values()) == {f"{i:03d}" for i in range(1000)}


def test_pair_puts_both_fakes_in_its_split():
    pairs = load_pairs(official_split_dir())
    lookup = split_lookup(pairs)
    a, b = pairs["test"][0]
    assert lookup[f"{a}_{b}"] == lookup[f"{b}_{a}"] == lookup[a] == lookup[b] == "test"


@pytest.mark.parametrize(
    "method,name,expected",
    [
        ("youtube", "004", ("004", "youtube", None)),
        ("NeuralTextures", "004_982", ("004", "youtube", "982")),
        ("DeepFakeDetection", "01_02__meeting_serious__YVGY8LOK", ("01__meeting_serious", "actors", "02")),
        ("actors", "01__meeting_serious", ("01__meeting_serious", "actors", None)),
        ("Deepfakes", "004", None),
        ("youtube", "abc", None),
    ],
)
def test_parse_name(method, name, expected):
    assert parse_name(method, name) == expected


def test_scan_maps_fakes_to_targets_masks_and_splits(tmp_path):
    pairs = load_pairs(official_split_dir())
    a, b = pairs["val"][0]
    touch(video_dir(tmp_path, "youtube", "c23") / f"{a}.mp4")
    touch(video_dir(tmp_path, "Deepfakes", "c23") / f"{a}_{b}.mp4")
    touch(mask_video_dir(tmp_path, "Deepfakes") / f"{a}_{b}.mp4")
    touch(video_dir(tmp_path, "Face2Face", "c23") / f"{b}_{a}.mp4")
    touch(video_dir(tmp_path, "Face2Face", "c23") / "notes.mp4")
    touch(video_dir(tmp_path, "actors", "raw") / "01__talking.mp4")
    touch(video_dir(tmp_path, "DeepFakeDetection", "raw") / "01_03__talking__ABCDEFGH.mp4")
    index = scan(tmp_path)
    by_video = {r.video: r for r in index.records}
    assert set(by_video) == {a, f"{a}_{b}", f"{b}_{a}", "01__talking", "01_03__talking__ABCDEFGH"}
    fake = by_video[f"{a}_{b}"]
    assert (fake.target, fake.source, fake.label, fake.split) == (a, b, 1, "val")
    assert fake.mask_path and fake.mask_path.endswith(f"{a}_{b}.mp4")
    assert by_video[f"{b}_{a}"].mask_path is None
    assert by_video["01_03__talking__ABCDEFGH"].target == "01__talking"
    dfd = [by_video["01__talking"], by_video["01_03__talking__ABCDEFGH"]]
    assert [(r.dataset, r.split) for r in dfd] == [
        ("dfd", "test"),
        ("dfd", "test"),
    ]  # DFD: its own Table-3 row
    assert {r.dataset for r in by_video.values() if r not in dfd} == {"ffpp"}
    reasons = [p.reason for p in index.problems]
    assert any("cannot parse" in r and "notes" in r for r in reasons)
    assert any(f"youtube/{b} is not in ROOT" in n.reason for n in index.notes)
    assert index.filter(Selection(methods=("Deepfakes",))).records == [fake]
    assert {r.video for r in index.filter(Selection(datasets=("dfd",))).records} == {
        "01__talking",
        "01_03__talking__ABCDEFGH",
    }
    assert {r.video for r in index.filter(Selection(splits=("test",), datasets=("ffpp",))).records} == set()


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    path = touch(video_dir(tmp_path, "youtube", "raw") / "000.mp4")
    touch(video_dir(tmp_path, "youtube", "raw") / "001.mp4")
    import pipeline.dataset.scan as index_module  # the shared checks every adapter uses

    real_access = index_module.os.access
    monkeypatch.setattr(index_module.os, "access", lambda p, m: Path(p) != path and real_access(p, m))
    index = scan(tmp_path)
    assert [r.video for r in index.records] == ["001"]
    assert (
        index.problems[0].path == str(path)
        and index.problems[0].reason == "permission denied (not readable by this user)"
    )


@pytest.mark.parametrize("make", ["empty", "not_ffpp", "missing"])
def test_bad_roots_give_one_line_errors(tmp_path, make):
    root = tmp_path / "root"
    if make != "missing":
        root.mkdir()
    if make == "not_ffpp":
        touch(root / "videos" / "a.mp4")
    with pytest.raises(LrlError, match=str(root)):
        scan(root)


def test_cli_index_exit_codes_and_json(tmp_path):
    runner = CliRunner()
    result = runner.invoke(prep, ["index", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "not a dataset layout this tool knows" in result.output
    assert (
        "original_sequences/" in result.output
        and "Celeb-real" in result.output
        and "dfdc_train_part" in result.output
    )
    result = runner.invoke(prep, ["index", "--root", str(tmp_path), "--dataset", "ffpp"])
    assert result.exit_code == 2 and "not a FaceForensics++ tree" in result.output
    assert "Traceback" not in result.output
    touch(video_dir(tmp_path, "NeuralTextures", "c23") / "004_982.mp4")
    out = tmp_path / "index.json"
    result = runner.invoke(prep, ["index", "--root", str(tmp_path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "its real youtube/004 is not in ROOT" in result.output
    data = json.loads(out.read_text())
    assert data["records"][0]["target"] == "004" and data["notes"] and not data["problems"]


def test_empty_tree_exits_non_zero(tmp_path):
    (tmp_path / "original_sequences").mkdir()
    result = CliRunner().invoke(prep, ["index", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "no video could be indexed" in result.output


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/ffpp is absent")
def test_shared_ffpp_sample():
    index = scan(SHARED)
    records = sorted((r.method, r.quality, r.video, r.label, r.target, r.split) for r in index.records)
    assert records == [
        ("NeuralTextures", "c23", "004_982", 1, "004", "val"),
        ("youtube", "c23", "004", 0, "004", "val"),
    ]
    assert not index.problems
