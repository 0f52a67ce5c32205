"""The distribution as others get it: a wheel carries the official split files, and an installed copy
(not the source tree) reads them through importlib.resources.

The wheel is built from a copy of the sources in tmp_path (no build/ or egg-info left in the tree).
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.dataset.layout import SPLITS
from pipeline.dataset.splits import load_pairs, official_split_dir
from pipeline.errors import LrlError

TOP = Path(__file__).resolve().parents[1]
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "cli.py", "pipeline", "model", "manifests")
TOP_LEVEL = {"cli.py", "pipeline", "model", "manifests"}  # docs/architecture.md "What pip installs"


def build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        (shutil.copytree if (TOP / name).is_dir() else shutil.copy2)(
            TOP / name, src / name, **({"ignore": ignore} if (TOP / name).is_dir() else {})
        )
    out = tmp_path / "wheel"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (wheel,) = out.glob("lrl-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_the_split_files_and_only_the_documented_top_level_names(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for split in SPLITS:
        assert f"manifests/ffpp/{split}.json" in names
    assert "manifests/__init__.py" in names
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == TOP_LEVEL


def test_an_installed_copy_indexes_an_ffpp_tree_with_the_official_splits(wheel, tmp_path):
    target = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    a, b = load_pairs(official_split_dir())["val"][0]
    root = tmp_path / "ffpp"  # no splits/ folder: the official split files decide
    for folder, name in (("original_sequences/youtube", a), ("manipulated_sequences/Deepfakes", f"{a}_{b}")):
        (root / folder / "c23" / "videos").mkdir(parents=True)
        (root / folder / "c23" / "videos" / f"{name}.mp4").write_bytes(b"\0" * 16)
    script = (
        "import json, sys, manifests, pipeline, cli\n"
        "from pipeline.dataset.splits import official_split_dir\n"
        "print(json.dumps([manifests.__file__, pipeline.__file__, str(official_split_dir())]))\n"
        "sys.argv = ['lrl-prep', 'index', '--root', sys.argv[1], '--json', sys.argv[2]]\n"
        "cli.prep()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = tmp_path / "index.json"
    run = subprocess.run(
        [sys.executable, "-c", script, str(root), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    files = json.loads(run.stdout.splitlines()[0])
    assert all(Path(f).is_relative_to(target) for f in files), files
    records = {r["video"]: r for r in json.loads(out.read_text())["records"]}
    assert records[a]["split"] == records[f"{a}_{b}"]["split"] == "val"


def test_a_missing_split_file_is_named_missing(tmp_path):
    for split in ("train", "val"):
        (tmp_path / f"{split}.json").write_text('[["000", "001"]]')
    with pytest.raises(LrlError, match=r"test\.json: split file missing"):
        load_pairs(tmp_path)
    (tmp_path / "test.json").write_text('{"a": 1}')
    with pytest.raises(LrlError, match=r"test\.json: not a split file of \[a, b\] pairs"):
        load_pairs(tmp_path)


def test_an_install_without_the_split_files_says_so(tmp_path, monkeypatch):
    from pipeline.dataset.ffpp import scan

    (tmp_path / "original_sequences" / "youtube" / "c23" / "videos").mkdir(parents=True)
    monkeypatch.setitem(sys.modules, "manifests", None)  # as in an older install
    with pytest.raises(LrlError, match=r"official split files \(package 'manifests'\) are not installed"):
        scan(tmp_path)
