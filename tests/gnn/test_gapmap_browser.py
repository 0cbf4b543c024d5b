"""The HTML gap map in a real headless Chromium (Debian's chromium driven by Playwright): the colour scale is
drawn and matches the cells, the strongest gaps are marked, unknown cells look different from gaps, and hovering
a cell shows its evidence. A screenshot is kept under artifacts/gnn/. Skips when /usr/bin/chromium is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lskg.gnn import plots, service
from lskg.gnn.snapshot import Snapshot
from lskg.gnn.train import train

from .conftest import make_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "gnn"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")]


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


@pytest.fixture(scope="module")
def gap_map(tmp_path_factory) -> tuple[Path, dict]:
    service.clear_cache()
    store = make_store(160, seed=5)
    settings_dir = tmp_path_factory.mktemp("gapmap")
    from lskg.settings import Settings

    settings = Settings(store=str(settings_dir / "store"), artifacts=str(settings_dir / "models"))
    train(Snapshot.from_store(store), settings, recommender="cooccurrence")
    from lskg.gnn import gaps

    saved, gaps.MIN_STUDIES = gaps.MIN_STUDIES, 12  # so that this small graph has concepts too rare to judge
    try:
        matrix = service.gap_map(store, settings, rows="model", cols="data", fmt="json")
    finally:
        gaps.MIN_STUDIES = saved
    path = settings_dir / "gapmap.html"
    path.write_bytes(plots.render(matrix, "html"))
    return path, matrix


@pytest.fixture(scope="module")
def page(gap_map):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_page(viewport={"width": 1600, "height": 1000})
        tab.set_default_timeout(15_000)
        tab.goto(gap_map[0].as_uri())
        yield tab
        browser.close()


def test_colour_scale_is_drawn_and_matches_the_cells(page, gap_map) -> None:
    matrix = gap_map[1]
    bar = page.locator("#scale .bar")
    image = bar.evaluate("el => getComputedStyle(el).backgroundImage")
    assert image.startswith("linear-gradient")
    assert _rgb(plots.colour(0.0)) in image and _rgb(plots.colour(1.0)) in image
    ticks = page.locator("#scale .tick").all_inner_texts()
    assert len(ticks) == 5 and float(ticks[0]) == 0.0
    gaps = [(r, c) for r, row in enumerate(matrix["status"]) for c, st in enumerate(row) if st == "gap"]
    assert gaps, "the synthetic graph has gaps"
    top = max(matrix["scores"][r][c] for r, c in gaps)
    assert abs(float(ticks[-1]) - top) < 0.01
    strongest = page.locator("td.strongest[data-rank='1']")
    assert strongest.count() == 1
    colour = strongest.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == _rgb(plots.colour(1.0))  # the strongest gap is the darkest colour of the scale


def test_unknown_cells_differ_from_gaps(page, gap_map) -> None:
    unknown = page.locator("td.unknown")
    assert unknown.count() > 0
    assert unknown.first.inner_text().strip() == "?"
    look = unknown.first.evaluate("el => getComputedStyle(el).backgroundImage")
    assert "repeating-linear-gradient" in look  # hatched, not a colour of the scale
    assert page.locator("td.gap").first.evaluate("el => getComputedStyle(el).backgroundImage") == "none"


def test_hover_shows_the_evidence(page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cell = page.locator("td.strongest[data-rank='1']")
    cell.hover()
    page.wait_for_function("document.getElementById('detail').textContent.length > 0")
    detail = page.inner_text("#detail")
    assert "status: gap (gap #1)" in detail and "studies observed" in detail
    assert "links them" in detail or "appear together" in detail or "broader" in detail  # the why
    page.screenshot(path=str(ARTIFACTS / "gapmap-hover.png"), full_page=True)
    unknown = page.locator("td.unknown")
    if unknown.count():
        unknown.first.hover()
        page.wait_for_function("document.getElementById('detail').textContent.includes('unknown')")
        assert "too few studies" in page.inner_text("#detail")
