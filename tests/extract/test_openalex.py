"""OpenAlex fetching against recorded responses (httpx.MockTransport; never the network)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lskg.errors import InputError
from lskg.extract.readers.openalex import abstract_from_inverted_index, fetch_openalex

PAGES = Path(__file__).resolve().parents[1] / "data" / "extract" / "openalex"


def recorded(calls: list[httpx.Request], failures: int = 0, status: int = 503):
    state = {"failures": failures}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if state["failures"]:
            state["failures"] -= 1
            return httpx.Response(status, text="busy")
        page = "page1.json" if request.url.params["cursor"] == "*" else "page2.json"
        return httpx.Response(200, json=json.loads((PAGES / page).read_text()))

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_abstract_reconstruction() -> None:
    assert abstract_from_inverted_index({"graph": [1, 5], "A": [0], "neural": [2]}) == "A graph neural graph"
    assert abstract_from_inverted_index(None) == ""


def test_fetch_pages_with_cursor_and_writes_jsonl(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    out = tmp_path / "studies.jsonl"
    n = fetch_openalex("deep learning landslide", out=out, from_year=2018, mailto="me@example.org",
                       client=recorded(calls), cache_dir=None)
    assert n == 3 and len(calls) == 2
    first = calls[0].url.params
    assert first["search"] == "deep learning landslide" and first["mailto"] == "me@example.org"
    assert "from_publication_date:2018-01-01" in first["filter"] and first["cursor"] == "*"
    assert calls[1].url.params["cursor"].startswith("IlsxMDAuMC")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["id"] == "W3000000001" and records[0]["venue"] == "Remote Sensing"
    assert records[0]["abstract"] == "A Swin Transformer detects landslides in Sentinel-2 images."
    assert records[0]["authors"] == ["Mei Lin", "Omar Haddad"] and records[1]["abstract"] == ""
    assert records[2]["abstract"] == "A graph neural network links graph slope units."


def test_fetch_respects_max(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    assert fetch_openalex("x", out=tmp_path / "o.jsonl", max_results=1, client=recorded(calls)) == 1
    assert len(calls) == 1


def test_retries_with_backoff_then_succeeds(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    sleeps: list[float] = []
    n = fetch_openalex("x", out=tmp_path / "o.jsonl", client=recorded(calls, failures=2), sleep=sleeps.append,
                       backoff=0.5)
    assert n == 3 and sleeps == [0.5, 1.0]


def test_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did not answer after 3 attempts"):
        fetch_openalex("x", out=tmp_path / "o.jsonl", client=recorded([], failures=10), retries=2,
                       sleep=lambda s: None)


def test_client_error_is_not_retried(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    with pytest.raises(InputError, match="HTTP 400"):
        fetch_openalex("x", out=tmp_path / "o.jsonl", client=recorded(calls, failures=1, status=400))
    assert len(calls) == 1


def test_cache_answers_the_second_run(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    cache = tmp_path / "cache"
    fetch_openalex("x", out=tmp_path / "a.jsonl", client=recorded(calls), cache_dir=cache)
    fetch_openalex("x", out=tmp_path / "b.jsonl", client=recorded(calls), cache_dir=cache)
    assert len(calls) == 2  # only the first run went to the server
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_saved_response_is_readable_as_a_corpus() -> None:
    from lskg.extract.readers import read_documents

    docs = list(read_documents([PAGES / "page1.json"]))
    assert [d.study.id for d in docs] == ["W3000000001", "W3000000002"]
    assert docs[0].study.doi == "https://doi.org/10.3390/rs15010001"
