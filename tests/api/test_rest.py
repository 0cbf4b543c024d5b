"""REST endpoints: studies, concepts, stats, /ask, the ontology, the recommender endpoints' honesty, the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lskg.api import create_app
from tests.api.conftest import api_settings, until_trained


def test_studies_list_filters_and_paging(client: TestClient) -> None:
    everything = client.get("/studies").json()
    assert everything["total"] == 4 and len(everything["items"]) == 4
    page = client.get("/studies", params={"limit": 2, "offset": 3}).json()
    assert page["total"] == 4 and len(page["items"]) == 1
    years = [s["year"] for s in everything["items"]]
    assert years == sorted(years, reverse=True)
    by_model = client.get("/studies", params={"model": "LSTM"}).json()
    assert by_model["total"] >= 1 and by_model["filters"]["model"][0]["iri"].endswith("/LSTM")
    by_family = client.get("/studies", params={"family": "RNN"}).json()
    assert by_family["total"] >= by_model["total"]  # LSTM is an RNN: the family filter matches narrower concepts
    by_year = client.get("/studies", params={"year": everything["items"][0]["year"]}).json()
    assert 1 <= by_year["total"] < 4


def test_unknown_concept_is_a_helpful_400(client: TestClient) -> None:
    response = client.get("/studies", params={"model": "LSMT"})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["error"]["code"] == "LSKG-E102"
    assert "LSMT" in body["error"]["message"] and body["error"]["hint"]


def test_study_with_facts_and_evidence(client: TestClient) -> None:
    study = client.get("/studies", params={"model": "LSTM"}).json()["items"][0]
    detail = client.get(f"/studies/{study['id']}").json()
    assert detail["title"] == study["title"] and detail["authors"]
    assert detail["facts"]
    fact = next(f for f in detail["facts"] if f["concept"]["iri"].endswith("/LSTM"))
    assert fact["facet"] == "model" and fact["evidence"]["sentence"]
    assert fact["evidence"]["span"].lower() in fact["evidence"]["sentence"].lower()
    missing = client.get("/studies/0000000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "LSKG-E107"


def test_concepts_and_stats(client: TestClient) -> None:
    concepts = client.get("/concepts", params={"facet": "model"}).json()
    assert concepts["total"] > 10 and all(c["facet"] == "model" for c in concepts["items"])
    lstm = client.get("/concepts/model/LSTM").json()
    assert lstm["label"] and lstm["studies"] >= 1 and lstm["example_studies"]
    assert any(b["id"] == "model/RNN" for b in lstm["broader_concepts"])
    rnn = client.get("/concepts/model/RNN").json()
    assert rnn["studies"] >= lstm["studies"] and any(n["id"] == "model/LSTM" for n in rnn["narrower_concepts"])
    assert client.get("/concepts/model/NoSuchThing").status_code == 404
    stats = client.get("/stats").json()
    assert stats["studies"] == 4 and stats["facts"] > 0 and stats["triples"] > 0


def test_ask_returns_the_sparql_it_ran(client: TestClient) -> None:
    answer = client.get("/ask", params={"q": "which studies use LSTM"}).json()
    assert answer["template"] == "studies" and answer["rows"]
    assert "SELECT" in answer["sparql"] and "model/LSTM" in answer["sparql"]
    rerun = client.post("/sparql", content=answer["sparql"], headers={"Content-Type": "application/sparql-query"})
    assert len(rerun.json()["results"]["bindings"]) == len(answer["rows"])  # the query is runnable as shown
    models = client.get("/ask", params={"q": "which models use InSAR for creeping landslides"}).json()
    assert models["template"] == "models" and models["sparql"]
    count = client.get("/ask", params={"q": "how many studies use LSTM"}).json()
    assert count["template"] == "count" and int(count["rows"][0]["studies"]) >= 1


def test_ask_unknown_terms_get_help(client: TestClient) -> None:
    answer = client.get("/ask", params={"q": "which papers use the FooBarNet on Quux data"}).json()
    assert answer["sparql"] is None and answer["rows"] == []
    assert "concept" in answer["message"] and "/concepts" in answer["message"]


def test_ontology_formats(client: TestClient) -> None:
    turtle = client.get("/ontology")
    assert turtle.headers["content-type"].startswith("text/turtle") and "skos:" in turtle.text
    jsonld = client.get("/ontology", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json") and jsonld.json()
    page = client.get("/ontology", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "model/LSTM" in page.text


def test_recommender_endpoints(client: TestClient) -> None:
    response = until_trained(client, "/recommend", {"data": "InSAR", "task": "displacement prediction"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["families"] and all("score" in f and "support" in f for f in body["families"])
    # what the recommendation rests on: per part, the studies at the asked, narrower and broader concepts
    parts = body["evidence"]["parts"]
    assert [(p["facet"], p["label"]) for p in parts] == [("data", "InSAR"), ("task", "displacement prediction")]
    for part in parts:
        assert part["studies"] == part["exact"] + part["narrower"] + part["broader"]
        assert all(s["title"] and s["relation"] in ("exact", "narrower", "broader") for s in part["supporting"])
    assert parts[0]["studies"] >= 1 and parts[0]["supporting"]
    assert body["evidence"]["summary"] and body["evidence"]["basis"] in ("combined", "parts")
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"evidence", "families", "context"} <= set(schema["Recommendation"]["properties"])
    assert client.get("/recommend", params={"data": "NoSuchData"}).status_code == 400
    gaps = client.get("/gaps", params={"facets": ["model", "data"], "top": 5})
    assert gaps.status_code == 200 and len(gaps.json()["gaps"]) <= 5
    for fmt, media in (("svg", "image/svg+xml"), ("png", "image/png"), ("json", "application/json")):
        assert client.get("/gaps/map", params={"fmt": fmt}).headers["content-type"].startswith(media)
    assert client.get("/table", params={"fmt": "md"}).status_code == 200


def test_page_is_self_contained_and_escaped(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "http://" not in page.text.replace("http://testserver", "") or "cdn" not in page.text.lower()
    assert "<script src=\"http://testserver/static/app.js\">" in page.text
    assert "InSAR" in page.text  # the flagship example query is on the page
    assert client.get("/static/app.js").status_code == 200
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script  # graph strings go in with textContent only


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/sparql", "/sparql/check", "/studies", "/studies/{id}", "/concepts", "/concepts/{id}", "/stats",
                 "/recommend", "/gaps", "/gaps/map", "/table", "/ask", "/ontology"):
        assert path in schema["paths"], path


def test_first_recommend_after_a_build_reads_no_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lskg build` trains the recommender and saves the graph's snapshot; a server on that generation answers its
    first /recommend from them, without reading the graph through SPARQL or training."""
    from lskg.build import build
    from lskg.gnn.snapshot import Snapshot
    from lskg.gnn.train import train_for_store
    from lskg.kg import open_store

    settings = api_settings(str(tmp_path / "store"))
    build([Path(__file__).resolve().parents[1] / "data" / "tiny_corpus.jsonl"], settings, check=False)
    with open_store(settings.store) as store:
        train_for_store(store, settings, recommender="cooccurrence")  # what `lskg build` runs after writing

    def no_reading(store: object) -> None:
        raise AssertionError("the first request read the graph")

    monkeypatch.setattr(Snapshot, "from_store", no_reading)
    with TestClient(create_app(settings)) as client:
        response = client.get("/recommend", params={"data": "InSAR", "task": "displacement prediction"})
        assert response.status_code == 200, response.text
        assert response.json()["evidence"]["parts"][0]["label"] == "InSAR"
