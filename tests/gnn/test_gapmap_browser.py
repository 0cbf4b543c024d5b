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


def _near(a: str, b: str) -> bool:
    parse = lambda text: [int(v) for v in text[text.index("(") + 1:-1].split(",")]  # noqa: E731
    return all(abs(x - y) <= 1 for x, y in zip(parse(a), parse(b), strict=True))


@pytest.fixture(scope="module")
def gap_map(tmp_path_factory) -> tuple[Path, dict]:
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


def _cells(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "els => els.map(el => ({rank: +el.dataset.rank, g: +el.dataset.g, text: el.innerText.trim(),"
        " strongest: el.classList.contains('strongest'), bg: getComputedStyle(el).backgroundColor,"
        " image: getComputedStyle(el).backgroundImage}))")


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
    # every gap cell has the scale's colour of its own score, so weaker gaps are visibly paler
    cells = _cells(page, "td.gap")
    assert len(cells) == len(gaps)
    for cell in cells:  # data-g is rounded to 4 decimals: one unit per channel of slack
        assert _near(cell["bg"], _rgb(plots.colour(cell["g"] / top))), cell
    assert len({cell["bg"] for cell in cells}) >= 3, "the gap scores of this graph spread over the scale"


def test_strongest_gaps_have_distinct_ranks_in_score_order(page) -> None:
    cells = sorted(_cells(page, "td.gap"), key=lambda c: c["rank"])
    assert [c["rank"] for c in cells] == list(range(1, len(cells) + 1))  # ties broken: every gap its own rank
    assert all(a["g"] >= b["g"] for a, b in zip(cells, cells[1:], strict=False))
    marked = [c for c in cells if c["strongest"]]
    assert [c["rank"] for c in marked] == [1, 2, 3, 4, 5]
    assert all(f"#{c['rank']}" in c["text"] for c in marked)


def test_unknown_cells_differ_from_gaps(page, gap_map) -> None:
    unknown = _cells(page, "td.unknown")
    assert unknown and len(unknown) == sum(st == "unknown" for row in gap_map[1]["status"] for st in row)
    scale = {_rgb(plots.colour(x / 20)) for x in range(21)}
    for cell in unknown:
        assert cell["text"] == "?" and cell["rank"] == 0 and not cell["strongest"]
        assert "repeating-linear-gradient" in cell["image"]  # hatched
        assert cell["bg"] not in scale  # and not a colour of the scale
    assert all(c["image"] == "none" for c in _cells(page, "td.gap"))


def _hover_detail(page, selector: str) -> str:
    page.locator("#detail").evaluate("el => { el.textContent = ''; }")
    page.locator(selector).first.hover()
    page.wait_for_function("document.getElementById('detail').textContent.length > 0")
    return page.inner_text("#detail")


def test_hover_shows_the_evidence(page, gap_map) -> None:
    matrix = gap_map[1]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    r, c = next((r, c) for r, row in enumerate(matrix["rank"]) for c, x in enumerate(row) if x == 1)
    detail = _hover_detail(page, "td.strongest[data-rank='1']")
    assert f"{matrix['rows'][r]['label']} x {matrix['cols'][c]['label']}" in detail
    assert "status: gap (gap #1)" in detail and f"studies observed: {matrix['counts'][r][c]}" in detail
    assert f"gap score: {matrix['scores'][r][c]:.3f}" in detail
    why = matrix["evidence"][r][c]
    assert why and all(line in detail for line in why)  # the cell's own evidence, every line of it
    page.screenshot(path=str(ARTIFACTS / "gapmap-hover.png"), full_page=True)
    r, c = next((r, c) for r, row in enumerate(matrix["status"]) for c, st in enumerate(row) if st == "unknown")
    detail = _hover_detail(page, f"tbody tr:nth-child({r + 1}) td:nth-of-type({c + 1})")
    assert "status: unknown" in detail and "too few studies" in detail
    assert all(line in detail for line in matrix["evidence"][r][c])
