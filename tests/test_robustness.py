"""Issue 25: `lrl-train --evaluate CKPT [--evaluate CKPT2] --perturb ... --levels ...` end to end on tiny
checkpoints trained here (shards of tests/work_fixture.py at 80 px), Fig. 5 / 6 from `--figures --baseline`,
`--augment` and benchmarks/robustness.py."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import train as train_cli
from model.inputs import freq_input
from model.training.config import TrainConfig
from model.training.loop import train
from model.training.robustness import PerturbedSamples, labels_of, parse_levels, parse_perturbations
from pipeline.errors import LrlError
from pipeline.kernels.dct import frequency_cue
from pipeline.kernels.perturb import PERTURBATIONS, video_compression
from pipeline.params import ShardsParams
from pipeline.store.reader import ShardDataset
from tests.kit import TINY, run_shards
from tests.work_fixture import make_work

SMALL = {**TINY, "epochs": 1, "max_batches": 1, "bf16": False}


@pytest.fixture(scope="module")
def runs(shards, tmp_path_factory, request):
    """{variant: best.pt} of three tiny runs on the same shards: the full model, the rgb baseline, MC-LCR."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    out = {}
    for name, extra in (("full", {}), ("rgb", {"variant": "rgb"}), ("mclcr", {"model": "mclcr"})):
        folder = tmp_path_factory.mktemp("runs") / name
        torch.manual_seed(0)
        train(
            TrainConfig.from_flat(dict(shards=str(shards), out=str(folder), **SMALL, **extra)),
            echo=lambda s: None,
        )
        out[name] = folder / "best.pt"
    return out


def invoke(*args):
    return CliRunner().invoke(train_cli, [str(a) for a in args])


def perturb_both(runs, *args):
    """`lrl-train --evaluate FULL --evaluate RGB --perturb ARGS...`."""
    return invoke("--evaluate", runs["full"], "--evaluate", runs["rgb"], "--perturb", *args)


def written(output: str, ext: str) -> Path:
    line = next(line for line in output.splitlines() if line.endswith(f".{ext}"))
    return Path(line.removeprefix("robustness: "))


def test_two_checkpoints_side_by_side_with_the_clean_row_of_evaluate(runs, shards, tmp_path):
    result = perturb_both(
        runs,
        "gb,vc,patch",
        "--levels",
        "1,5",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:5] == ["perturbation", "level", "param", "full", "frame"]
    assert [line.split()[:2] for line in lines[1:4]] == [["clean", "0"], ["gb", "1"], ["gb", "5"]]
    saved = json.loads(written(result.output, "json").read_text())
    assert [c["label"] for c in saved["checkpoints"]] == ["full", "rgb"]  # both best.pt: named by folder
    rows = saved["rows"]
    assert len(rows) == 2 * (1 + 3 * 2)
    assert [(r["perturbation"], r["level"], r["parameter"]) for r in rows[:7]] == [
        ("clean", 0, None),
        ("gb", 1, 7),
        ("gb", 5, 21),
        ("vc", 1, 30),
        ("vc", 5, 40),
        ("patch", 1, 0.1),
        ("patch", 5, 0.5),
    ]
    assert {r["frame"]["n"] for r in rows} == {4} and all(0 <= r["frame"]["auc"] <= 1 for r in rows)
    assert all(r["mask_iou_fake"] is not None for r in rows)
    clean = invoke("--evaluate", runs["full"], "--out", tmp_path / "plain")
    plain = json.loads(next((tmp_path / "plain").glob("metrics-*.json")).read_text())
    assert rows[0]["frame"] == plain["frame"]["overall"] and rows[0]["video"] == plain["video"]["overall"]
    assert clean.exit_code == 0 and rows[0]["mask_iou_fake"] == plain["mask_iou"]["fake"]
    md = written(result.output, "md").read_text().splitlines()
    assert md[2] == "| perturbation | full clean | full L1 | full L5 | rgb clean | rgb L1 | rgb L5 |"
    assert md[4].startswith("| gb | ") and len(md) == 2 + 2 + 3 + 3 + 2 + 7
    assert md[10].startswith("| perturbation | level | param | full frame AUC |")
    assert written(result.output, "png").stat().st_size > 10_000


def test_the_same_seed_gives_the_same_rows_and_files(runs, tmp_path):
    args = ("--evaluate", runs["full"], "--perturb", "gnc,bw", "--levels", "3", "--seed", "7")
    first, second = invoke(*args, "--out", tmp_path / "a"), invoke(*args, "--out", tmp_path / "b")
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    a, b = (json.loads(written(r.output, "json").read_text()) for r in (first, second))
    assert a["rows"] == b["rows"]
    assert written(first.output, "json").name == written(second.output, "json").name
    other = invoke(
        "--evaluate",
        runs["full"],
        "--perturb",
        "gnc,bw",
        "--levels",
        "3",
        "--seed",
        "8",
        "--out",
        tmp_path / "a",
    )
    assert written(other.output, "json").name != written(first.output, "json").name  # the seed names the file


def test_perturbed_samples_recompute_the_frequency_cue_from_the_perturbed_crop(shards):
    data = ShardDataset(shards, "test", interpolated=False)
    std = 12.5
    for name in ("gnc", "patch"):
        one, again = (PerturbedSamples(data, name, 4, 3, 0.33, std, True) for _ in range(2))
        other = PerturbedSamples(data, name, 4, 4, 0.33, std, True)
        for i in range(len(data)):
            item = one[i]
            rgb = ((item["rgb"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
            assert not np.array_equal(rgb, data[i]["rgb"])
            expected = freq_input(frequency_cue(rgb, 0.33), std)
            np.testing.assert_allclose(item["freq"].numpy(), expected, atol=1e-5)
            assert torch.equal(item["rgb"], again[i]["rgb"]) and not torch.equal(item["rgb"], other[i]["rgb"])
            assert np.array_equal(item["mask"][0].numpy(), data[i]["mask"].astype(np.float32))
    blind = PerturbedSamples(data, "jpeg", 1, 0, 0.33, std, False)[0]
    assert blind["freq"].shape == (1, 80, 80) and not blind["freq"].any()  # a network that does not read x2


def test_video_compression_runs_on_each_video_in_frame_order(shards):
    data = ShardDataset(shards, "test", interpolated=False)
    samples = PerturbedSamples(data, "vc", 2, 0, 0.33, 1.0, True)
    for video in sorted(set(data.videos)):
        members = [i for i in np.argsort(data.meta["frame"], kind="stable") if data.videos[i] == video]
        crops = np.stack([data[int(i)]["rgb"] for i in members])
        expected = video_compression(crops, PERTURBATIONS["vc"].param(2))
        for i, image in zip(members, expected, strict=True):
            got = ((samples[int(i)]["rgb"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
            assert np.array_equal(got, image)


def test_an_mclcr_checkpoint_runs_the_perturbations(runs, tmp_path):
    result = invoke("--evaluate", runs["mclcr"], "--perturb", "jpeg,cs", "--levels", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    saved = json.loads(written(result.output, "json").read_text())
    assert saved["checkpoints"][0]["detector"] == "mclcr" and len(saved["rows"]) == 3
    assert all(r["mask_iou_fake"] is None and r["frame"]["n"] == 4 for r in saved["rows"])
    assert "n/a" in result.output.splitlines()[1]  # mask IoU: no mask head


def test_a_shard_set_preprocessed_otherwise_is_refused_before_anything_is_written(runs, tmp_path):
    make_work(tmp_path / "work", size=80)
    assert run_shards(tmp_path / "work", ShardsParams(alpha=0.5), progress=False).failed == 0
    other = tmp_path / "work" / "shards"
    result = perturb_both(
        runs,
        "gb",
        "--shards",
        other,
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 2
    assert result.output == (
        f"error: {other}: shards unlike best.pt's: alpha 0.5, trained on 0.33 (--force evaluates anyway)\n"
    )
    assert not (tmp_path / "out").exists()


def test_bad_options_are_one_line_errors(runs, tmp_path):
    full = ("--evaluate", runs["full"])
    cases = [
        ((*full, "--perturb", "gb,fog"), "--perturb 'gb,fog': unknown fog (choose all or from cs, "),
        ((*full, "--perturb", "gb", "--levels", "0-3"), "--levels '0-3': give levels 1 to 5"),
        ((*full, "--evaluate", runs["rgb"]), "several --evaluate go with --perturb"),
        (("--perturb", "gb", "--out", tmp_path), "--perturb and --baseline go with --evaluate"),
        ((*full, "--perturb", "gb", "--figures"), "--figures and --baseline go with --evaluate"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2 and len(result.output.splitlines()) == 1, args
        assert message in result.output, args


def test_option_parsing():
    assert parse_perturbations("all") == tuple(PERTURBATIONS)
    assert parse_perturbations("vc, GB,vc") == ("vc", "gb")
    assert [parse_levels(t) for t in ("1-5", "5,1-2", "3")] == [(1, 2, 3, 4, 5), (1, 2, 5), (3,)]
    for bad in ("", "6", "a-b", "2-1"):
        with pytest.raises(LrlError):
            parse_levels(bad)
    assert labels_of([Path("a/full/best.pt"), Path("b/rgb/best.pt")]) == ["full", "rgb"]
    assert labels_of([Path("a/x/best.pt"), Path("a/x/last.pt")]) == ["best", "last"]
    assert labels_of([Path("a/x/best.pt"), Path("b/x/best.pt")]) == ["x-best-1", "x-best-2"]


def test_figures_5_and_6_with_a_baseline(runs, tmp_path):
    import matplotlib.image

    full = ("--evaluate", runs["full"])
    result = invoke("--evaluate", runs["full"], "--figures", "--baseline", runs["rgb"], "--out", tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-2] == f"figures: Fig. 5: {tmp_path / 'fig5-test.png'}"
    assert lines[-1] == f"figures: Fig. 6: {tmp_path / 'fig6-test.png'}"
    fig5, fig6 = (matplotlib.image.imread(tmp_path / f"fig{n}-test.png")[..., :3] for n in (5, 6))
    assert fig5.shape[1] > 2.5 * fig5.shape[0]  # 2 rows (real, Deepfakes) of 2 + 3 x 3 panels
    assert fig6.std() > 0.1 and fig6.shape[0] > fig6.shape[1] * 0.6  # 4 rows: input, M_hat, M_hat, s_hat
    no_baseline = invoke("--evaluate", runs["full"], "--baseline", runs["rgb"])
    assert no_baseline.exit_code == 2 and "--baseline goes with --figures" in no_baseline.output
    before = sorted(tmp_path.iterdir())
    mclcr = invoke(*full, "--figures", "--baseline", runs["mclcr"], "--out", tmp_path / "x")
    assert mclcr.exit_code == 2
    assert mclcr.output == (
        f"error: {runs['mclcr']}: Fig. 5 and 6 draw LRL's streams and masks; a mclcr model has neither\n"
    )
    assert sorted(tmp_path.iterdir()) == before  # refused before anything was evaluated


def test_augmentation_perturbs_about_half_the_samples_and_recomputes_their_frequency_image(shards, tmp_path):
    from model.training.data import AUGMENT_KINDS, LRLSamples

    assert TrainConfig().data.augment is False and "vc" not in AUGMENT_KINDS
    data = ShardDataset(shards, "train", interpolated=False)
    plain, augmented = LRLSamples(data, seed=1), LRLSamples(data, seed=1, augment=True)
    changed = 0
    for epoch in range(4):
        augmented.set_epoch(epoch)
        for i in range(len(data)):
            item, clean = augmented[i], plain[i]
            if torch.equal(item["rgb"], clean["rgb"]):
                assert torch.equal(item["freq"], clean["freq"])  # not augmented: the stored image
                continue
            changed += 1
            rgb = ((item["rgb"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
            expected = freq_input(frequency_cue(rgb, 0.33), data.freq_std)
            np.testing.assert_allclose(item["freq"].numpy(), expected, atol=1e-5)
            assert torch.equal(item["rgb"], augmented[i]["rgb"]) and torch.equal(item["mask"], clean["mask"])
    assert 0.3 < changed / (4 * len(data)) < 0.7
    lines = []
    train(
        TrainConfig.from_flat(dict(shards=str(shards), out=str(tmp_path), augment=True, **SMALL)),
        echo=lines.append,
    )
    assert (
        json.loads((tmp_path / "config.json").read_text())["data"]["augment"] is True
        and "epoch   1" in lines[-1]
    )


def test_the_benchmark_prints_seconds_per_thousand_frames_against_clean(runs):
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "robustness.py"
    spec = importlib.util.spec_from_file_location("bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lines = bench.main(["--checkpoint", str(runs["full"]), "--perturb", "gb", "vc", "--repeats", "1"])
    assert lines[0].startswith("4 frames of split 'test', level 3, 1 thread(s)")
    assert [line.split()[0] for line in lines[1:]] == ["perturbation", "clean", "gb", "vc"]
    assert lines[2].split()[2] == "1.00" and float(lines[3].split()[1]) > 0 and float(lines[4].split()[3]) > 0
    assert float(lines[3].split()[4]) > 0  # wall seconds
