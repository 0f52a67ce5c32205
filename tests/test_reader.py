"""The shard reader: global random access across shards, labels without images, fork safety."""

import multiprocessing
import pickle

import h5py
import numpy as np
import pytest
from work_fixture import FRAMES, TREE, make_work

from model.inputs import freq_input
from pipeline.errors import LrlError
from pipeline.params import ShardsParams
from pipeline.store.layout import WorkLayout
from pipeline.store.reader import ShardDataset
from tests.kit import run_shards as run


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    make_work(work)
    run(work, ShardsParams(shard_samples=6), jobs=1, progress=False)
    return WorkLayout(work).shards


def test_length_labels_and_videos_from_metadata(shards):
    ds = ShardDataset(shards, "train")
    assert len(ds) == 8 * len(FRAMES) and len(ds.paths) > 1
    labels, videos, methods = ds.labels.copy(), list(ds.videos), list(ds.methods)
    assert ds._files == {}  # known before any image is read; no file left open
    assert sorted(set(videos)) == sorted(v.record.key for v in TREE if v.split == "train")
    assert labels.dtype == np.uint8 and labels.tolist() == [ds[i]["label"] for i in range(len(ds))]
    assert videos == [ds[i]["key"] for i in range(len(ds))]
    assert methods == [ds[i]["method"] for i in range(len(ds))]


def test_global_index_maps_to_every_shard_in_order(shards):
    ds = ShardDataset(shards, "train")
    expected = []
    for path in ds.paths:
        with h5py.File(path) as f:
            expected += [(k, int(fr)) for k, fr in zip(f["video"].asstr()[:], f["frame"][:], strict=True)]
    assert [(ds[i]["video"], ds[i]["frame"]) for i in range(len(ds))] == expected
    last = ds[-1]
    assert (last["video"], last["frame"]) == expected[-1]
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_fields_and_filters(shards):
    only_mask = ShardDataset(shards, "train", fields=("mask",))
    sample = only_mask[0]
    assert "mask" in sample and "rgb" not in sample and "freq" not in sample
    fakes = ShardDataset(shards / "index.json", "train", methods=("Deepfakes",))
    assert len(fakes) == 4 * len(FRAMES) and set(fakes.labels) == {1}
    assert all(fakes[i]["method"] == "Deepfakes" for i in range(len(fakes)))
    assert len(ShardDataset(shards, "train", qualities=("c40",))) == 0
    found = ShardDataset(
        shards, "train", interpolated=False
    )  # the fixture interpolates each video's last frame
    assert len(found) == 8 * (len(FRAMES) - 1) and not any(
        found[i]["interpolated"] for i in range(len(found))
    )
    assert sorted({found[i]["frame"] for i in range(len(found))}) == list(FRAMES[:-1])
    with pytest.raises(ValueError, match="unknown fields"):
        ShardDataset(shards, "train", fields=("depth",))


def test_normalised_freq_has_unit_spread(shards):
    ds = ShardDataset(shards, "train")
    values = np.stack([freq_input(ds[i]["freq"], ds.freq_std).numpy() for i in range(len(ds))])
    assert values.dtype == np.float32
    assert abs(values.std() - 1.0) < 0.01 and abs(values.mean()) < 0.01


def _read_in_child(conn, ds, index):
    sample = ds[index]
    conn.send((ds._pid, sample["rgb"], sample["video"]))
    conn.close()


def test_reopens_files_after_fork_and_pickles_without_handles(shards):
    ds = ShardDataset(shards, "train")
    parent = ds[3]
    parent_files = dict(ds._files)
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_read_in_child, args=(sender, ds, 3))
    child.start()
    pid, rgb, video = receiver.recv()
    child.join(10)
    assert child.exitcode == 0 and pid == child.pid and pid != ds._pid
    np.testing.assert_array_equal(rgb, parent["rgb"])
    assert video == parent["video"] and ds._files == parent_files
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._files == {} and clone._pid is None
    np.testing.assert_array_equal(clone[3]["rgb"], parent["rgb"])
    ds.close()
    clone.close()
    assert ds._files == {}


def test_missing_index_or_shard_is_a_one_line_error(shards, tmp_path):
    with pytest.raises(LrlError, match="no shard index"):
        ShardDataset(tmp_path, "train")
    copy = tmp_path / "index.json"
    copy.write_text((shards / "index.json").read_text())
    with pytest.raises(LrlError, match="cannot open shard"):
        ShardDataset(copy, "train")


def test_schema_1_shards_read_as_face_0_with_known_masks(shards, tmp_path):
    """A shard set written before schema 2 (no face, no mask_known columns) still opens."""
    import json
    import shutil

    old = tmp_path / "shards"
    shutil.copytree(shards, old)
    index = json.loads((old / "index.json").read_text())
    for entry in index["shards"]:
        with h5py.File(old / entry["file"], "a") as f:
            del f["face"], f["mask_known"]
            f.attrs["schema_version"] = 1
    (old / "index.json").write_text(json.dumps({**index, "schema_version": 1}))
    ds = ShardDataset(old, "test")
    assert len(ds) == len(ShardDataset(shards, "test")) > 0
    assert set(ds.meta["face"].tolist()) == {0} and set(ds.meta["mask_known"].tolist()) == {1}
    assert ds[0]["face"] == 0 and ds[0]["mask_known"] is True
