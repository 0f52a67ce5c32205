"""lrl-prep report on a small WORK: counts, failures with reasons, unreadable crops named, pages bounded in
size."""

import re

from pipeline.engine.runstate import FAILED, RunState, UnitResult
from pipeline.params import ReportOptions
from pipeline.stages.report import run, shown_frames
from pipeline.store.layout import WorkLayout, frame_name
from pipeline.store.records import NO_MASK
from tests.kit import run_shards
from tests.work_fixture import make_work


def test_report_counts_failures_skips_and_missing_crops(tmp_path):
    work, out = tmp_path / "work", tmp_path / "qa"
    records = make_work(work, size=80)
    assert run_shards(work, progress=False).failed == 0
    layout = WorkLayout(work)
    with RunState(layout.state_db) as state:
        state.record(
            "detect", UnitResult("ffpp/youtube/999", "fp", FAILED, "ffpp/999.mp4: no face in any frame")
        )
        state.record(
            "masks", UnitResult("dfdc/fake/orig/abcdefghij", "fp", NO_MASK, "no real known for this fake")
        )
    rec = records["ffpp/Deepfakes/c23/000_001"]
    (layout.face_dir(rec.dataset, rec.method, rec.quality, rec.video) / frame_name(4)).unlink()
    line = run(work, out, ReportOptions(per_page=5))
    assert line.startswith(
        "report: 12 videos on 3 sheet pages, 1 failed units, 1 fakes without a mask, "
        "0 fakes with far fewer crops than their real, 0 skipped"
    )
    index = (out / "index.html").read_text()
    no_mask = index.split("<h2>Fakes without a mask")[1].split("<h2>")[0]  # its own section, not a failure
    assert (
        "dfdc/fake/orig/abcdefghij" in no_mask
        and "abcdefghij" not in index.split("<h2>Failures")[1].split("<h2>")[0]
    )
    assert "ffpp/999.mp4: no face in any frame" in index
    rows = re.findall(r"<tr><td>ffpp</td><td>(\w+)</td><td>c23</td>((?:<td>\d+</td>)+)</tr>", index)
    counts = {m: re.findall(r"\d+", cells) for m, cells in rows}  # test, train, val, videos, frames
    assert counts == {
        "Deepfakes": ["1", "4", "0", "5", "15"],
        "Face2Face": ["0", "0", "1", "1", "3"],
        "youtube": ["1", "4", "1", "6", "18"],
    }
    sheets = "".join(p.read_text() for p in sorted(out.glob("sheets-*.html")))
    assert f"{frame_name(4)}: crop missing" in sheets
    assert sheets.count("<section") == 12
    assert max(p.stat().st_size for p in out.glob("*.html")) < 3_000_000


def test_shown_frames_keep_flagged_ones_and_spread():
    class Crops:
        frames = list(range(40))
        interpolated = [i in (5, 6, 30) for i in range(40)]

    shown = shown_frames(Crops(), limit=8)
    assert len(shown) == 8 and {5, 6, 30} <= set(shown) and shown[0] == 0 and shown[-1] == 39
