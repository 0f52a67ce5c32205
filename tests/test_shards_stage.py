"""`lrl-prep shards`: write -> read round trip, index, incremental rewrites, --verify, bad input."""

import errno
import json
import os
import re
import tempfile

import cv2
import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from work_fixture import FRAMES, TREE, Video, add_video, box_mask, crop, make_work

from cli import prep
from pipeline.engine.runstate import RunState
from pipeline.errors import LrlError
from pipeline.kernels.dct import frequency_cue
from pipeline.params import ShardsParams
from pipeline.stages import shards as shards_stage
from pipeline.stages.status import saved_plan, stage_status
from pipeline.store.images import write_png
from pipeline.store.index import sha256_file, verify
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.reader import ShardDataset
from pipeline.store.schema import SCHEMA_VERSION, ShardWriter
from tests.kit import run_shards as run

PARAMS = ShardsParams(shard_samples=6)


def _run(work, params=PARAMS):
    return run(work, params, jobs=1, progress=False)


def _stamps(work) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in WorkLayout(work).shards.iterdir()}


def test_round_trip_equals_the_inputs(tmp_path):
    records = make_work(tmp_path)
    summary = _run(tmp_path)
    assert summary.failed == 0 and summary.items == len(TREE) * len(FRAMES)
    index = json.loads(WorkLayout(tmp_path).shard_index.read_text())
    seen = 0
    for split in ("train", "val", "test"):
        ds = ShardDataset(WorkLayout(tmp_path).shards, split)
        for i in range(len(ds)):
            s = ds[i]
            seed = [v.record.key for v in TREE].index(s["key"])
            rec = records[s["key"]]
            np.testing.assert_array_equal(s["rgb"], crop(32, seed, s["frame"]))
            expected_mask = box_mask(32, s["frame"]) // 255 if rec.is_fake else np.zeros((32, 32), np.uint8)
            np.testing.assert_array_equal(s["mask"], expected_mask)
            cue = frequency_cue(s["rgb"])
            np.testing.assert_allclose(
                s["freq"].astype(np.float32), cue, atol=np.abs(cue).max() / 1000 + 1e-3
            )
            assert (
                s["freq"].dtype == np.float16 and s["rgb"].dtype == np.uint8 and s["mask"].dtype == np.uint8
            )
            assert (s["label"], s["method"], s["quality"], s["split"]) == (
                rec.label,
                rec.method,
                rec.quality,
                split,
            )
            assert (s["dataset"], s["video"]) == (rec.dataset, rec.video)
            assert s["interpolated"] == (s["frame"] == FRAMES[-1])
            seen += 1
    assert seen == len(TREE) * len(FRAMES)
    assert sum(e["samples"] for e in index["shards"]) == seen
    assert index["splits"]["train"]["label"] == {"0": 12, "1": 12}
    assert index["splits"]["val"]["method"] == {"Face2Face": 3, "youtube": 3}
    assert 1.0 < index["freq_std"] < 100.0 and index["freq_std_from"] == "train"


def test_file_attributes_and_checksums(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    layout = WorkLayout(tmp_path)
    index = json.loads(layout.shard_index.read_text())
    for entry in index["shards"]:
        path = layout.shards / entry["file"]
        assert sha256_file(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
        with h5py.File(path) as f:
            assert f.attrs["schema_version"] == SCHEMA_VERSION and f.attrs["alpha"] == pytest.approx(0.33)
            assert f.attrs["size"] == 32 and f.attrs["mask_threshold"] == pytest.approx(0.15)
            assert f.attrs["split"] == entry["split"] and f.attrs["compression"] == "blosc-lz4"
            assert f["rgb"].chunks == (1, 32, 32, 3) and f["freq"].compression is None
            fakes = any(m != "youtube" for m in f["method"].asstr()[:])
            assert f.attrs["mask_reference_quality"] == ("raw" if fakes else "")


def test_second_run_rewrites_nothing(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    before = _stamps(tmp_path)
    summary = _run(tmp_path)
    assert summary.done == 0 and summary.skipped == len([n for n in before if n.endswith(".h5")])
    assert _stamps(tmp_path) == before


def test_touching_one_video_rewrites_only_its_shard(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    layout = WorkLayout(tmp_path)
    before = _stamps(tmp_path)
    ds = ShardDataset(layout.shards, "train")
    shard_of = {key: ds.paths[shard].name for key, shard in zip(ds.videos, ds.meta["shard"], strict=True)}
    with RunState(layout.state_db) as state:
        add_video(tmp_path, state, TREE[5], seed=99, version="2")  # new crops, new extract fingerprint
        status = stage_status("shards", saved_plan(shards_stage, tmp_path, state)["shards"], state)
    assert (status.stale, status.pending, status.done) == (1, 0, len(before) - 2)
    summary = _run(tmp_path)
    after = _stamps(tmp_path)
    target = shard_of[TREE[5].record.key]
    assert summary.done == 1
    assert after[target][1] != before[target][1]
    assert {n: s for n, s in after.items() if n not in (target, "index.json")} == {
        n: s for n, s in before.items() if n not in (target, "index.json")
    }
    ds = ShardDataset(layout.shards, "train")
    i = list(ds.videos).index(TREE[5].record.key)
    np.testing.assert_array_equal(ds[i]["rgb"], crop(32, 99, ds[i]["frame"]))


def test_rewritten_png_without_a_new_record_rewrites_its_shard(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    layout = WorkLayout(tmp_path)
    rec = TREE[6].record
    write_png(
        layout.mask_dir(rec.dataset, rec.method, rec.quality, rec.video) / frame_name(4),
        np.full((32, 32), 255, np.uint8),
    )
    assert _run(tmp_path).done == 1
    ds = ShardDataset(layout.shards, "train")
    (i,) = [i for i in range(len(ds)) if ds[i]["key"] == rec.key and ds[i]["frame"] == 4]
    assert ds[i]["mask"].min() == 1


def test_deleted_shard_is_rewritten(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    victim = sorted(WorkLayout(tmp_path).shards.glob("*.h5"))[0]
    victim.unlink()
    assert _run(tmp_path).done == 1 and victim.is_file()


def test_bad_videos_are_left_out_and_reported(tmp_path):
    make_work(tmp_path)
    layout = WorkLayout(tmp_path)
    with RunState(layout.state_db) as state:
        no_png = add_video(tmp_path, state, Video("000", "train", "FaceSwap", "002"), seed=50)
        small = add_video(tmp_path, state, Video("001", "train", "FaceSwap", "003"), seed=51)
        no_record = add_video(tmp_path, state, Video("002", "train", "FaceSwap", "000"), seed=52, masks=False)
    (layout.mask_dir("ffpp", "FaceSwap", "c23", no_png.video) / frame_name(4)).unlink()
    cv2.imwrite(
        str(layout.face_dir("ffpp", "FaceSwap", "c23", small.video) / frame_name(8)),
        np.zeros((20, 32, 3), np.uint8),
    )
    summary = _run(tmp_path)
    reasons = dict(summary.held)
    assert summary.failed == 0 and len(reasons) == 3 and not summary.failures
    assert "/ videos left out 3" in summary.line()
    assert reasons[no_png.key].startswith("left out:") and "000004.png: mask missing" in reasons[no_png.key]
    assert "crop is 32x20, expected 32x32" in reasons[small.key]
    assert "no done masks record" in reasons[no_record.key]
    keys = set(ShardDataset(layout.shards, "train").videos)
    assert not keys & {no_png.key, small.key, no_record.key} and len(keys) == 8
    assert json.loads(layout.shard_index.read_text())["left_out"] == reasons
    assert dict(_run(tmp_path).held) == reasons  # still reported when nothing is rewritten


def _flip_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_names_the_shard_with_a_flipped_byte(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    cli = CliRunner()
    ok = cli.invoke(prep, ["shards", "--work", str(tmp_path), "--verify"])
    assert ok.exit_code == 0 and "0 bad" in ok.output
    victim = sorted(WorkLayout(tmp_path).shards.glob("*.h5"))[1]
    _flip_byte(victim, victim.stat().st_size // 2)
    bad = cli.invoke(prep, ["shards", "--work", str(tmp_path), "--verify"])
    assert bad.exit_code == 1
    assert f"bad: {victim.name}: checksum differs" in bad.output and "1 bad" in bad.output
    assert bad.output.count("bad: ") == 1


def test_verify_names_missing_unlisted_and_miscounted_shards(tmp_path):
    make_work(tmp_path)
    _run(tmp_path)
    layout = WorkLayout(tmp_path)
    index = json.loads(layout.shard_index.read_text())
    first, second = index["shards"][0], index["shards"][1]
    (layout.shards / first["file"]).unlink()
    second["counts"]["label"] = {"0": 99}
    layout.shard_index.write_text(json.dumps(index))
    (layout.shards / "train-0042.h5").write_bytes(b"stray")
    good, bad = verify(tmp_path)
    reasons = dict(bad)
    assert good == len(index["shards"]) - 2 and len(bad) == 3
    assert reasons[first["file"]] == "missing"
    assert reasons[second["file"]].startswith("holds ") and "index.json says" in reasons[second["file"]]
    assert reasons["train-0042.h5"] == "not listed in index.json"


def test_cli_runs_and_prints_a_summary(tmp_path):
    make_work(tmp_path)
    out = CliRunner().invoke(
        prep, ["shards", "--work", str(tmp_path), "--shard-samples", "6", "--jobs", "2", "--no-progress"]
    )
    assert out.exit_code == 0, out.output
    written = len(list(WorkLayout(tmp_path).shards.glob("*.h5")))
    assert f"shards: shards done {written} / skipped 0 / failed 0, 36 samples" in out.output


def test_full_disk_keeps_previous_shards_and_index(tmp_path, monkeypatch):
    make_work(tmp_path)
    _run(tmp_path)
    layout = WorkLayout(tmp_path)
    before = _stamps(tmp_path)
    with RunState(layout.state_db) as state:
        add_video(tmp_path, state, TREE[2], seed=77, version="2")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ShardWriter, "append", full)
    out = CliRunner().invoke(
        prep, ["shards", "--work", str(tmp_path), "--shard-samples", "6", "--jobs", "1", "--no-progress"]
    )
    assert out.exit_code == 2  # a full disk stops the run (issue 26)
    full = rf"error: {layout.shards}/train-\d+\.h5: disk full: writing it needs [\d.]+ KB free, "
    assert re.match(full, out.output)
    assert out.output.count("\n") == 1 and "Traceback" not in out.output
    assert _stamps(tmp_path) == before  # no temp file, old shards and index intact


def test_read_only_folder_is_a_one_line_error(tmp_path, monkeypatch):
    make_work(tmp_path)

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(LrlError, match=r"shards: cannot write shards there \(Permission denied\)"):
        _run(tmp_path)
    out = CliRunner().invoke(prep, ["shards", "--work", str(tmp_path)])
    assert out.exit_code == 2 and out.output.count("\n") == 1 and "Permission denied" in out.output
    assert not any(WorkLayout(tmp_path).shards.iterdir())


def test_shards_path_that_is_a_file_is_a_one_line_error(tmp_path):
    make_work(tmp_path)
    WorkLayout(tmp_path).shards.write_text("not a folder")
    with pytest.raises(LrlError, match="cannot write shards there"):
        _run(tmp_path)


def test_nothing_to_shard(tmp_path):
    with RunState(WorkLayout(tmp_path).state_db):
        pass
    with pytest.raises(LrlError, match="no extracted video to shard"):
        _run(tmp_path)
