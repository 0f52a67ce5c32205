"""Issue 17, Table 3: one checkpoint on several shard sets, one row per dataset; --datasets; the
preprocessing check per shard set; TrainConfig.datasets; samples whose mask is unknown (mask_known 0)
left out of LRL training; a multi-face video counted once. Shards are written by the project's stages
(tests/work_fixture.py); their face / mask_known columns are rewritten with h5py where a test needs it."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import train as train_cli
from model import build_model
from model.training import checkpoint
from model.training.config import TrainConfig
from model.training.data import LRLSamples
from model.training.evaluate import predict
from model.training.loop import train
from model.training.metrics import video_level
from model.training.run_eval import mismatches
from pipeline.errors import LrlError
from pipeline.params import ShardsParams
from pipeline.store.index import digest, load_index
from pipeline.store.preprocessing import Preprocessing
from pipeline.store.reader import ShardDataset
from tests.kit import TINY, run_shards
from tests.work_fixture import TREE, Video, make_work

SMALL = {**TINY, "epochs": 1, "max_batches": 1}
CELEB = dict(quality="orig", dataset="celebdf", real="Celeb-real")
CELEBDF = [
    Video("id0_0000", "train", "Celeb-real", **CELEB),
    Video("id0_0000", "train", "Celeb-synthesis", "id1", **CELEB),
    Video("id2_0000", "test", "Celeb-real", **CELEB),
    Video("id2_0000", "test", "Celeb-synthesis", "id3", **CELEB),
    Video("00000", "test", "YouTube-real", quality="orig", dataset="celebdf", real="YouTube-real"),
]
DFDC = [
    Video("aaa", "test", "real", quality="orig", dataset="dfdc", real="real"),
    Video("aaa", "test", "fake", "bbb", quality="orig", dataset="dfdc", real="real"),
]


def shards_of(work: Path, videos, **params) -> Path:
    make_work(work, size=80, videos=videos)
    assert run_shards(work, ShardsParams(**params), progress=False).failed == 0
    return work / "shards"


@pytest.fixture(scope="module")
def run(tmp_path_factory, request):
    """(mixed shards: FF++ and Celeb-DF in one WORK, DFDC shards, checkpoint, training lines) of one run on
    the mixed WORK with --qualities c23 (FF++'s), which must not empty Celeb-DF's 'orig' at evaluation."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    mixed = shards_of(tmp_path_factory.mktemp("mixed"), TREE + CELEBDF)
    dfdc = shards_of(tmp_path_factory.mktemp("dfdc"), DFDC)
    out = tmp_path_factory.mktemp("run")
    lines = []
    train(
        TrainConfig.from_flat(dict(shards=str(mixed), out=str(out), qualities="c23", **SMALL)),
        echo=lines.append,
    )
    return mixed, dfdc, out / "best.pt", lines


def evaluate(*args):
    return CliRunner().invoke(train_cli, ["--evaluate", *map(str, args)])


def test_a_run_trains_on_the_train_split_datasets_that_have_a_val_split(run):
    mixed, _, ckpt, lines = run
    assert lines[0] == (
        "datasets: training and validating on ffpp (split 'train' datasets with a 'val' split); "
        "celebdf left out: --datasets celebdf,ffpp trains on them too"
    )
    assert json.loads((ckpt.parent / "config.json").read_text())["data"]["datasets"] == ["ffpp"]
    cfg = TrainConfig.from_flat(dict(shards=str(mixed), datasets="ffpp,dfdc"))
    with pytest.raises(LrlError, match=r"no dfdc samples in split 'train' \(it holds celebdf, ffpp\)"):
        train(cfg, echo=lambda s: None)


def test_one_checkpoint_on_two_shard_sets_gives_one_row_per_dataset(run):
    mixed, dfdc, ckpt, _ = run
    result = evaluate(ckpt, "--shards", mixed, "--shards", dfdc)
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert out[0].startswith(f"{mixed} test: frame ACC") and out[3].startswith(f"{dfdc} test: frame ACC")
    header = out.index(next(line for line in out if line.startswith("dataset")))
    assert (
        out[header].split("  ")[0] == "dataset"
        and "frame AUC  video AUC  frame EER  video EER" in out[header]
    )
    # frame 8 of every video is interpolated and left out: 2 frames per video; 'orig' kept despite
    # --qualities c23
    assert [line.split()[:3] for line in out[header + 1 : header + 4]] == [
        ["celebdf", "6", "3"],
        ["ffpp", "4", "2"],
        ["dfdc", "4", "2"],
    ]
    assert len({len(line) for line in out[header : header + 4]}) == 1  # aligned
    table_json, table_md = (Path(line.removeprefix("table: ")) for line in out[header + 4 :])
    saved = json.loads(table_json.read_text())
    assert [(r["dataset"], r["frames"], r["videos"], r["fake_frames"]) for r in saved["rows"]] == [
        ("celebdf", 6, 3, 2),
        ("ffpp", 4, 2, 2),
        ("dfdc", 4, 2, 2),
    ]
    assert [s["index"] for s in saved["shard_sets"]] == [digest(load_index(mixed)), digest(load_index(dfdc))]
    assert (
        saved["checkpoint"]["path"] == str(ckpt.resolve()) and 0.0 <= saved["rows"][2]["frame"]["auc"] <= 1.0
    )
    md = table_md.read_text().splitlines()
    assert md[0].startswith("| dataset | frames | videos | frame AUC |") and md[1].startswith("|---|---:|")
    assert md[4].startswith("| dfdc | 4 | 2 | ") and len(md) == 5
    for source in (mixed, dfdc):
        assert (ckpt.parent / f"metrics-best-test-{digest(load_index(source))}.json").is_file()


def test_datasets_keeps_some_rows_and_names_its_files_apart(run):
    mixed, dfdc, ckpt, _ = run
    before = set(ckpt.parent.glob("table-*.json"))
    result = evaluate(ckpt, "--shards", mixed, "--shards", dfdc, "--datasets", "dfdc,celebdf")
    assert result.exit_code == 0, result.output
    saved = json.loads(Path(result.output.splitlines()[-2].removeprefix("table: ")).read_text())
    assert [r["dataset"] for r in saved["rows"]] == ["celebdf", "dfdc"] and saved["datasets"] == [
        "dfdc",
        "celebdf",
    ]
    assert (ckpt.parent / f"metrics-best-test-{digest(load_index(mixed))}-celebdf.json").is_file()
    assert set(ckpt.parent.glob("table-*.json")) - before  # a new table, none overwritten
    only = evaluate(ckpt, "--shards", mixed, "--shards", dfdc, "--datasets", "dfdc")
    assert only.exit_code == 0 and only.output.startswith(
        f"{mixed}: no dfdc samples in split 'test': not evaluated\n"
    )
    none = evaluate(ckpt, "--shards", dfdc, "--datasets", "dfdc,nosuch")
    assert none.exit_code == 2
    assert none.output == f"error: --datasets nosuch: no such samples in split 'test' of {dfdc}\n"


def test_a_shard_set_preprocessed_otherwise_is_refused_by_name_before_any_evaluation(run, tmp_path):
    mixed, _, ckpt, _ = run
    other = shards_of(tmp_path / "other", DFDC, alpha=0.5)
    before = sorted(ckpt.parent.glob("*"))
    result = evaluate(ckpt, "--shards", mixed, "--shards", other)
    assert result.exit_code == 2
    assert (
        result.output
        == f"error: {other}: shards unlike best.pt's: alpha 0.5, trained on 0.33 (--force evaluates anyway)\n"
    )
    assert sorted(ckpt.parent.glob("*")) == before
    forced = evaluate(ckpt, "--shards", mixed, "--shards", other, "--force")
    assert forced.exit_code == 0, forced.output
    saved = json.loads(Path(forced.output.splitlines()[-2].removeprefix("table: ")).read_text())
    assert [s["forced"] for s in saved["shard_sets"]] == [[], ["alpha 0.5, trained on 0.33"]]


def test_what_the_check_compares():
    trained = {
        "size": 80,
        "alpha": 0.33,
        "schema_version": 1,
        "freq_std": 20.0,
        "mask_params": {"threshold": 0.15, "reference_quality": "auto", "source": "diff"},
    }
    # schema 2 (adds columns the reader fills in for schema 1) and another dataset's freq_std: not refused
    prep = Preprocessing.from_dict
    assert mismatches(prep(trained), prep({**trained, "schema_version": 2, "freq_std": 31.0})) == []
    other_masks = {**trained, "mask_params": {**trained["mask_params"], "threshold": 0.1}}
    assert mismatches(prep(trained), prep(other_masks)) == ["mask threshold 0.1, trained on 0.15"]
    assert mismatches(prep(trained), prep(other_masks), masks_matter=False) == []  # no mask IoU measured
    assert TrainConfig.from_flat({"qualities": "c40"}).data.quality_list == ("c40", "orig")
    assert TrainConfig().data.quality_list is None


def set_columns(shards: Path, face_of, known_of) -> None:
    """Overwrite the columns `face` and `mask_known` of every shard: per sample, face_of(video, frame) and
    known_of(video)."""
    import h5py

    for path in sorted(shards.glob("*.h5")):
        with h5py.File(path, "r+") as f:
            videos, frames = f["video"].asstr()[:], f["frame"][:]
            f["face"][...] = [face_of(v, i) for v, i in zip(videos, frames, strict=True)]
            f["mask_known"][...] = [known_of(v) for v in videos]


def test_unknown_masks_leave_lrl_training_and_a_two_face_video_counts_once(tmp_path, one_torch_thread):
    """The 001_002 fake's mask is unknown; the test fake 006_007 shows two faces (frame 0: face 0, frame 4:
    face 1)."""
    shards = shards_of(tmp_path / "work", TREE)
    set_columns(shards, lambda v, i: int(v == "006_007" and i > 0), lambda v: int(v != "001_002"))
    every = ShardDataset(shards, "train", fields=(), interpolated=False)
    known = ShardDataset(shards, "train", fields=(), interpolated=False, unknown_masks=False)
    assert (len(every), len(known), known.unknown_masks_left_out) == (16, 14, 2)
    lines = []
    train(
        TrainConfig.from_flat(dict(shards=str(shards), out=str(tmp_path / "run"), **SMALL)), echo=lines.append
    )
    assert lines[0] == (
        "training: 2 samples whose mask is unknown (mask_known 0) left out: LRL's similarity and "
        "segmentation targets come from the mask (--model mclcr trains on them)"
    )
    result = evaluate(tmp_path / "run" / "best.pt")
    assert result.exit_code == 0, result.output
    saved = json.loads(Path(result.output.splitlines()[-2].removeprefix("table: ")).read_text())
    assert [(r["dataset"], r["frames"], r["videos"]) for r in saved["rows"]] == [("ffpp", 4, 2)]
    # the face column reaches the predictions: each face of 006_007 has one frame, so its video score is
    # their max
    net = build_model(TrainConfig.from_flat(SMALL).model)
    net.load_state_dict(checkpoint.load(tmp_path / "run" / "best.pt")["model"])
    pred = predict(net, LRLSamples(ShardDataset(shards, "test", interpolated=False)), torch.device("cpu"), 8)
    fake = "ffpp/Deepfakes/c23/006_007"
    assert sorted(zip(pred.videos, pred.faces.tolist(), strict=True)) == [
        (fake, 0),
        (fake, 1),
        ("ffpp/youtube/c23/006", 0),
        ("ffpp/youtube/c23/006", 0),
    ]
    _, scores, names = video_level(pred.videos, pred.labels, pred.probs, pred.faces)
    assert scores[names.index(fake)] == pytest.approx(pred.probs[np.array(pred.videos) == fake].max())


def test_a_forced_set_the_network_cannot_run_on_writes_no_file_of_any_set(run, tmp_path):
    mixed, _, ckpt, _ = run
    make_work(tmp_path / "small", size=64, videos=DFDC)  # 64 px: the last level is 4 px, too few for k = 5
    assert run_shards(tmp_path / "small", progress=False).failed == 0
    before = sorted(ckpt.parent.glob("*"))
    result = evaluate(ckpt, "--shards", mixed, "--shards", tmp_path / "small" / "shards", "--force")
    assert result.exit_code == 2 and "patches" in result.output and len(result.output.splitlines()) == 1
    assert sorted(ckpt.parent.glob("*")) == before  # not even the first set's metrics


def test_a_shard_set_given_twice_is_refused(run):
    mixed, _, ckpt, _ = run
    result = evaluate(ckpt, "--shards", mixed, "--shards", mixed)
    assert (
        result.exit_code == 2
        and result.output == f"error: --shards {mixed}: given twice (each shard set once)\n"
    )
