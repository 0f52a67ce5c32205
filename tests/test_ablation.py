"""benchmarks/ablation.py --tiny: every Table 4 variant runs through the sweep, the table, JSON and PNG come
out, and a second run reuses every result."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.config import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def test_tiny_ablation_writes_the_table_json_and_png(shards, tmp_path):
    out = tmp_path / "ablation"
    cmd = [sys.executable, "benchmarks/ablation.py", "--tiny", "--shards", str(shards), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((out / "ablation.json").read_text())
    assert [(r["variant"], r["seed"]) for r in result["runs"]] == [(v, s) for v in VARIANTS for s in (0, 1)]
    (table,) = result["tables"]
    assert [r["row"] for r in table["rows"]] == list(VARIANTS)
    for variant, s in ((r["row"], r["cells"]) for r in table["rows"]):
        aucs = [
            r["reports"]["test"]["frame"]["overall"]["auc"] for r in result["runs"] if r["variant"] == variant
        ]
        assert s["frame AUC"]["n"] == 2 and s["frame AUC"]["mean"] == pytest.approx(sum(aucs) / 2)
        assert s["frame AUC"]["sd"] == pytest.approx(abs(aucs[0] - aucs[1]) / 2**0.5)  # sample sd of two
        assert f"| {variant} | " in proc.stdout
    assert "| full | 5 | 0.9147 | 0.9521 | " in proc.stdout and " ± " in proc.stdout
    assert (out / "ablation.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "full" / "s1" / "best.pt").is_file()
    assert list((out / "rgb" / "s0" / "test").glob("metrics-best-test-*.json"))
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert again.returncode == 0 and all(
        r["reused"] for r in json.loads((out / "ablation.json").read_text())["runs"]
    )
