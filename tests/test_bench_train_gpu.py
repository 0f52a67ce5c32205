"""benchmarks/train_gpu.py: its tiny CPU mode runs the whole ladder from real shards; the plan puts compile
last."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit import run_shards
from tests.work_fixture import make_work

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "train_gpu.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("train_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_plan_runs_every_compiled_setting_last():
    bench = bench_module()
    ladder = bench.plan(bench.parse(["--tiny"]))
    assert [(m, s.name) for m, s in ladder] == [
        ("mobilenet", "fp32"),
        ("lite0", "fp32"),
        ("mobilenet", "fp32+cl"),
        ("lite0", "fp32+cl"),
        ("mobilenet", "bf16"),
        ("lite0", "bf16"),
        ("mobilenet", "bf16+cl"),
        ("lite0", "bf16+cl"),
        ("mobilenet", "bf16+cl+compile"),
        ("lite0", "bf16+cl+compile"),
    ]
    grid = bench.plan(bench.parse(["--tiny", "--grid", "--models", "lite0"]))
    assert len({s for _, s in grid}) == 8 and [s.compile for _, s in grid] == [False] * 4 + [True] * 4
    with pytest.raises(SystemExit, match="unknown model"):
        bench.plan(bench.parse(["--tiny", "--models", "vit"]))


def test_tiny_mode_measures_the_ladder_from_shards(tmp_path):
    work = tmp_path / "work"
    make_work(work, size=80)
    assert run_shards(work, progress=False).failed == 0
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--tiny",
        "--shards",
        str(work / "shards"),
        "--models",
        "mobilenet",
        "--steps",
        "2",
        "--json",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = proc.stdout[proc.stdout.index("model      setting") :].splitlines()
    assert (
        len(table) == 1 + 5
        and table[1].split()[:2] == ["mobilenet", "fp32"]
        and table[1].split()[3] == "1.00"
    )
    results = json.loads(out.read_text())["results"]
    assert [r["setting"] for r in results] == ["fp32", "fp32+cl", "bf16", "bf16+cl", "bf16+cl+compile"]
    for r in results:
        assert r["samples_per_s"] > 0 and r["step_ms"] > 0 and r["wait_ms"] >= 0 and r["peak_gib"] is None
        assert r["samples_per_s"] == pytest.approx(4000 / (r["step_ms"] + r["wait_ms"]), rel=0.5)
