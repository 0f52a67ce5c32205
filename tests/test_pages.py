"""The HTML pages as a person sees them: opened in a real headless Chromium (Debian's `chromium`), no console
error, every image loaded, the score shown equal to the JSON; a screenshot of each is saved."""

import json

import pytest
from click.testing import CliRunner

from cli import predict as predict_cli
from cli import prep
from tests.browser import Browser, find_chromium

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found: `apt-get install -y chromium` (.ci/run installs it) to run the page tests",
)


@pytest.fixture(scope="module")
def browser():
    with Browser(CHROMIUM) as b:
        yield b


def look(browser, page_path, shot):
    """Open a page: no console error, at least one image and every one loaded; screenshot saved."""
    page = browser.open_page(page_path)
    widths = page.image_widths()
    assert widths and min(widths) > 0, f"{page_path}: images not loaded {widths}"
    assert page.errors() == [], page_path
    assert page.screenshot(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return page


def test_predict_report_in_chromium(tiny_run, tmp_path, browser, one_torch_thread):
    root, _, ckpt = tiny_run
    videos = [
        root / "original_sequences/youtube/raw/videos/000.mp4",
        root / "manipulated_sequences/Deepfakes/raw/videos/000_001.mp4",
    ]
    report, out = tmp_path / "report", tmp_path / "out"
    result = CliRunner().invoke(
        predict_cli,
        [
            "--checkpoint",
            str(ckpt),
            "--out",
            str(out),
            "--report",
            str(report),
            "--device",
            "cpu",
            *map(str, videos),
        ],
    )
    assert result.exit_code == 0, result.output
    scores = {r["path"]: r["score"] for r in json.loads((out / "predictions.json").read_text())["inputs"]}
    index = look(browser, report / "index.html", tmp_path / "index.png")
    links = index.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert len(links) == 2
    for name, video in zip(sorted(links), videos, strict=True):
        page = look(browser, report / name, tmp_path / f"{name}.png")
        shown = page.evaluate(
            "[document.getElementById('score').textContent, document.getElementById('score').dataset.score]"
        )
        assert shown == [f"{scores[str(video)]:.4f}", repr(scores[str(video)])]
        # crop, overlay, s_hat and 3 levels x 2 RFAM maps, twice (highest, lowest), and the 4 frames
        assert len(page.image_widths()) == 2 * (3 + 6) + 4


def test_dataset_report_in_chromium(tiny_run, tmp_path, browser):
    _, work, _ = tiny_run
    result = CliRunner().invoke(
        prep, ["report", "--work", str(work), "--out", str(tmp_path / "qa"), "--per-page", "5"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "report: 12 videos on 3 sheet pages, 0 failed units, 0 fakes without a mask, "
        "0 fakes with far fewer crops than their real, 0 skipped"
    )
    index = look(browser, tmp_path / "qa" / "index.html", tmp_path / "qa-index.png")
    cells = index.evaluate("Array.from(document.querySelectorAll('table')[0].rows).map(r => r.innerText)")
    assert cells[1].split("\t") == ["ffpp", "Deepfakes", "raw", "2", "2", "2", "6", "24"]
    sheet = look(browser, tmp_path / "qa" / "sheets-0001.html", tmp_path / "qa-sheet.png")
    assert sheet.evaluate("document.querySelectorAll('section').length") == 5
