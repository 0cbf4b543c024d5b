"""The web page in a real headless Chromium (Debian's chromium driven by Playwright): load it, run the example
query and see rows, open a study's evidence, ask a question, request a recommendation, see a gap map. A screenshot
of each step is kept under artifacts/api/. Skips only when /usr/bin/chromium is missing (.ci/run installs it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")]


@pytest.fixture(scope="module")
def page(live_server: LiveServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_page(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        context.goto(live_server.url + "/")
        context.requests_seen = requests  # type: ignore[attr-defined]
        yield context
        browser.close()


def test_page_loads_without_leaving_the_server(page, live_server: LiveServer, artifacts: Path) -> None:
    page.wait_for_function("document.getElementById('stats').textContent.includes('studies')")
    page.screenshot(path=str(artifacts / "01-page.png"), full_page=True)
    assert all(url.startswith(live_server.url) for url in page.requests_seen), page.requests_seen  # no CDN


def test_example_query_shows_rows_and_evidence(page, artifacts: Path) -> None:
    page.click("button.example >> nth=3")  # "Latest studies"
    page.wait_for_selector("#results tbody tr")
    assert page.locator("#results tbody tr").count() == 4
    assert "4 rows" in page.inner_text("#query-status")
    page.click("button.example >> nth=0")  # which models use InSAR for creeping landslides
    page.wait_for_function("document.getElementById('query-status').textContent.includes('row')")
    page.wait_for_function("document.getElementById('check').textContent.startsWith('✓')")
    page.screenshot(path=str(artifacts / "02-query.png"), full_page=True)
    page.click("button.example >> nth=3")
    page.wait_for_selector("#results tbody tr a.study-link")
    page.click("#results tbody tr a.study-link >> nth=0")
    page.wait_for_selector("#study-facts tbody tr")
    assert page.locator("#study-facts tbody tr mark").count() >= 1  # the evidence span is highlighted
    page.screenshot(path=str(artifacts / "03-study-evidence.png"), full_page=True)


def test_syntax_check_flags_a_broken_query(page) -> None:
    page.fill("#query", "SELECT ?s WHERE { ?s ")
    page.wait_for_function("document.getElementById('check').textContent.startsWith('✗')")
    page.click("#run")
    page.wait_for_function("document.getElementById('query-status').textContent.startsWith('400')")


def test_ask_a_question(page, artifacts: Path) -> None:
    page.fill("#question", "which studies use LSTM")
    page.click("#ask")
    page.wait_for_selector("#ask-results tbody tr")
    assert page.locator("#ask-results tbody tr").count() == 1  # the tiny corpus's one LSTM study
    assert "LSTM network" in page.inner_text("#ask-results")
    page.click("#ask-sparql-box summary")
    sparql = page.inner_text("#ask-sparql")
    assert "SELECT" in sparql and "model/LSTM" in sparql
    page.screenshot(path=str(artifacts / "04-ask.png"), full_page=True)


def test_empty_recommendation_form_is_refused_with_a_message(page) -> None:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    for name in ("data", "landslide_type", "task"):
        page.fill(f"input[name={name}]", "  ")
    page.click("#recommend")
    page.wait_for_function("document.getElementById('recommend-status').textContent.includes('at least one')")
    assert not any("/recommend" in url for url in seen)  # nothing was asked of the server


def test_recommendation_form(page, artifacts: Path) -> None:
    page.fill("input[name=data]", "InSAR")
    page.click("#recommend")
    page.wait_for_function("document.getElementById('recommend-status').textContent.length > 0 && "
                           "document.getElementById('recommend-status').textContent !== 'Ranking…' && "
                           "!document.getElementById('recommend-status').textContent.startsWith('Training')",
                           timeout=300_000)
    page.screenshot(path=str(artifacts / "05-recommend.png"), full_page=True)
    assert not page.inner_text("#recommend-status").startswith("503")
    assert page.locator("li.recommendation").count() >= 1
    # what the ranking rests on, as the API says it: the summary, and the studies per part of the context
    assert page.inner_text(".evidence-summary").strip()
    assert page.inner_text(".evidence-parts li").startswith("InSAR: ")


def test_gap_map(page, artifacts: Path) -> None:
    page.click("#gaps")
    page.wait_for_function("document.getElementById('gaps-status').textContent.length > 0 && "
                           "document.getElementById('gaps-status').textContent !== 'Scoring…' && "
                           "!document.getElementById('gaps-status').textContent.startsWith('Training')",
                           timeout=300_000)
    status = page.inner_text("#gaps-status")
    # the tiny corpus has fewer studies per concept than a gap needs: the page says so instead of an empty map
    # (the map's colour scale and hover evidence are tested on a larger graph in tests/gnn/test_gapmap_browser.py)
    assert status.startswith("No gap to show (model ") and "too few studies to judge" in status, status
    assert page.locator("table.gapmap td.cell[title]").count() == 0
    page.screenshot(path=str(artifacts / "06-gapmap.png"), full_page=True)


def test_graph_strings_are_escaped(tmp_path: Path, page) -> None:
    """A study title holding markup is shown as text, not run as HTML."""
    from lskg.build import build
    from lskg.settings import Settings
    from tests.api.conftest import api_settings

    corpus = tmp_path / "evil.jsonl"
    corpus.write_text('{"id": "x", "title": "<img src=x onerror=\\"window.pwned=1\\"><b>LSTM</b> study", '
                      '"year": 2024, "abstract": "An LSTM on InSAR."}\n')
    build([corpus], Settings(store=str(tmp_path / "store")), check=False)
    with LiveServer(api_settings(str(tmp_path / "store"))) as server:
        page.goto(server.url + "/")
        page.click("button.example >> nth=3")
        page.wait_for_selector("#results tbody tr")
        assert "<img src=x" in page.inner_text("#results")
        assert page.evaluate("window.pwned") is None
        page.click("#results a.study-link")
        page.wait_for_selector("#study-facts tbody tr")
        assert "<b>LSTM</b>" in page.inner_text("#study-title")
        assert page.evaluate("window.pwned") is None


def test_ontology_link_opens_a_page_and_the_favicon_is_served(page, live_server: LiveServer) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    icon = page.request.get(live_server.url + "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
    page.click("nav a[href='/ontology']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("lskg ontology")  # HTML, not Turtle text
    assert not failed, failed
