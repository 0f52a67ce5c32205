"""benchmarks/realdev.py (`make realdev`): the tables' arithmetic, and `--quick` end to end on a tree shaped
as realdev made of the tiny demos (so it runs without ../shared/data/realdev)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
spec = importlib.util.spec_from_file_location("realdev", ROOT / "benchmarks" / "realdev.py")
realdev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(realdev)


def result(model: str, fold: int, auc: float, celeb: float) -> dict:
    per = {"frame_auc": auc, "frame_acc": auc - 0.1, "video_auc": auc + 0.05, "video_acc": None}
    return {
        "table": "table4",
        "model": model,
        "fold": fold,
        "test": {"overall": per, "Deepfakes": per},
        "cross": {"celebdf": {"video_auc": celeb}, "dfd": {"real_mean_score": 0.25, "real_called_fake": 0.0}},
    }


def test_tables_are_mean_and_sample_sd_over_folds_beside_the_papers():
    runs = [result("full", 0, 0.6, 0.5), result("full", 1, 0.8, 0.7), result("rgb", 0, 0.7, 0.6)]
    summary = realdev.summarise(runs)
    full = summary["full"]["test"]["overall"]["frame_auc"]
    assert full["mean"] == pytest.approx(0.7) and full["sd"] == pytest.approx(0.2 / 2**0.5) and full["n"] == 2
    assert summary["rgb"]["test"]["overall"]["frame_auc"]["sd"] is None  # one fold: no spread
    assert summary["full"]["test"]["Face2Face"]["frame_auc"] == {"mean": None, "sd": None, "n": 0}
    md = realdev.markdown(summary, {}, {"prep": "frames 16"})
    assert (
        "| full | 0.9147 | 0.9521 | 0.600 ± 0.141 (n=2) | 0.700 ± 0.141 (n=2) | 0.750 ± 0.141 (n=2) |" in md
    )
    assert "| rgb | 0.8915 | 0.9303 | 0.600 (n=1) | 0.700 (n=1) | 0.750 (n=1) |" in md
    assert "| Deepfakes | 0.9884 | 0.600 ± 0.141 (n=2) |" in md
    assert "| full | n/a | 0.600 ± 0.141 (n=2) | 0.250 ± 0.000 (n=2) | 0.000 ± 0.000 (n=2) |" in md


def link(path: Path, target: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target, target_is_directory=True)


@pytest.fixture(scope="module")
def tiny_realdev(demo_root, tmp_path_factory):
    """realdev's layout (ffpp: youtube, the four methods, actors at c40; celebdf) from the tiny demos."""
    from pipeline.demo.celebdf import make_celebdf_demo
    from pipeline.demo.dfd import make_dfd_demo

    top = tmp_path_factory.mktemp("tiny-realdev")
    dfd = make_dfd_demo(top / "dfd-demo", size="tiny", n_jobs=1).root
    celebdf = make_celebdf_demo(top / "celebdf-demo", size="tiny", n_jobs=1).root
    tree = top / "realdev"
    link(tree / "ffpp/original_sequences/youtube", demo_root / "original_sequences/youtube")
    link(tree / "ffpp/manipulated_sequences", demo_root / "manipulated_sequences")
    link(tree / "ffpp/original_sequences/actors/c40", dfd / "original_sequences/actors/c23")
    for folder in realdev.CELEBDF_PARTS:
        link(tree / "celebdf" / folder, celebdf / folder)
    return tree


def realdev_run(tree, out, *flags):
    """`benchmarks/realdev.py` on `tree` into `out` (tiny settings, 3 folds, 4 frames); asserts exit 0."""
    cmd = [sys.executable, "benchmarks/realdev.py", "--realdev", str(tree), "--out", str(out), *flags]
    cmd += ["--tiny", "--n-folds", "3", "--frames", "4"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_quick_runs_one_fold_one_model_per_table_and_resumes(tiny_realdev, tmp_path):
    out = tmp_path / "out"
    proc = realdev_run(tiny_realdev, out, "--quick")
    tables = json.loads((out / "tables.json").read_text())
    assert [(r["model"], r["fold"]) for r in tables["runs"]] == [("full", 0), ("MC-LCR", 0)]
    assert set(tables["masks"]) == set(realdev.METHODS) and all(
        v["samples"] for v in tables["masks"].values()
    )
    assert (out / "quick/runs/4f-80px-t0.15/full/fold-0/best.pt").is_file()
    assert tables["runs"][0]["cross"]["dfd"]["real_called_fake"] is not None
    assert "[1/2] table4 full fold 0" in proc.stdout and "[2/2] compare MC-LCR fold 0" in proc.stdout
    md = (out / "tables.md").read_text()
    assert "## Table 4" in md and "## Table 3 mini" in md and "| MC-LCR |" in md
    splits = {
        s: json.loads((out / "splits/fold-0" / f"{s}.json").read_text()) for s in ("train", "val", "test")
    }
    assert len(splits["test"]) == 2 and len(splits["val"]) == 2  # one reciprocal pair: a_b and b_a
    again = realdev_run(tiny_realdev, out, "--quick")
    assert "epoch" not in again.stdout  # both runs reused, nothing trained
    assert json.loads((out / "tables.json").read_text())["runs"] == tables["runs"]


def test_recipe_trains_on_every_pair_and_the_blends_then_scores_the_unseen_clips(tiny_realdev, tmp_path):
    out = tmp_path / "out"
    realdev_run(tiny_realdev, out, "--recipe")
    result = json.loads((out / "transfer" / "transfer.json").read_text())
    celebdf = list((tiny_realdev / "celebdf").glob("Celeb-*/**/*.mp4"))
    assert result["celebdf_scored"] == len(celebdf) and result["dfd_scored"] == 2
    assert 0 <= result["dfd_real_mean_score"] <= 1 and result["celebdf_video_auc"] is not None
    splits = {s: json.loads((out / "splits/all" / f"{s}.json").read_text()) for s in ("train", "val", "test")}
    assert splits["val"] == splits["test"] == []  # everything trains: the FF++ pairs and the blends
    assert {i for pair in splits["train"] for i in pair} == {f"{i:03d}" for i in range(6)}
    index = json.loads((out / "work/4f-80px-t0.15/recipe/shards/index.json").read_text())
    trained = json.loads((out / "transfer" / "config.json").read_text())
    assert trained["data"]["shards"].endswith("recipe/shards") and "SelfBlend" in json.dumps(index)
    proc = realdev_run(tiny_realdev, out, "--transfer", "--models", "b", "--seeds", "0")
    tables = json.loads((out / "transfer-tables.json").read_text())
    assert [(r["model"], r["fold"]) for r in tables["runs"]] == [("b: blends of the FF++ reals (SBI)", 0)]
    blend_masks = tables["masks"]  # set b reads the blends' own masks: far larger than the diff rule's
    assert set(blend_masks) == {"transfer-blendmask: SelfBlend", "transfer-blendmask: FaceSwapBlend"}
    assert "[1/1] transfer b: blends of the FF++ reals (SBI) seed 0" in proc.stdout


def test_a_fold_outside_the_folds_is_refused_in_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r"--folds 0,5: folds are 0 to 4 \(--n-folds 5\)"):
        realdev.main(["--realdev", str(tmp_path), "--out", str(tmp_path / "out"), "--folds", "0,5"])
    assert not (tmp_path / "out").exists()
