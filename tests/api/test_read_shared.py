"""/stats, /studies, /concepts/{id} and /ask answer through the read functions of lskg.kg.read, the functions
`lskg stats`, `lskg studies` and `lskg ask` call: the same numbers, the same rows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lskg.kg import open_store, read


def test_stats_and_studies_match_the_read_functions(client: TestClient, api_store: str) -> None:
    with open_store(api_store) as store:
        record = read.stats(store)
        page = read.studies(store, {"data": read.resolve_many(["GNSS"], "data")})
    stats = client.get("/stats").json()
    assert (stats["studies"], stats["facts"], stats["metrics"]) == (record.studies, record.facts, record.metrics)
    assert stats["used_concepts"] == dict(record.used_concepts)
    listed = client.get("/studies", params={"data": "GNSS"}).json()
    assert listed["total"] == page.total and [i["iri"] for i in listed["items"]] == [s.iri for s in page.items]


def test_concept_by_label_and_id(client: TestClient) -> None:
    by_id = client.get("/concepts/model/GRU").json()
    by_label = client.get("/concepts/gated recurrent unit").json()
    assert by_id == by_label and by_id["studies"] >= 1 and by_id["example_studies"]
    assert client.get("/concepts/not-a-concept-at-all").status_code == 404


def test_ask_answers_like_the_cli_function(client: TestClient, api_store: str) -> None:
    question = "which landslide studies used rainfall data"
    with open_store(api_store) as store:
        answer = read.ask(store, question)
    body = client.get("/ask", params={"q": question}).json()
    assert body["template"] == answer.kind == "studies"
    assert [c["label"] for c in body["recognised"]] == ["rainfall data"]
    assert body["rows"] == [dict(r) for r in answer.rows] and body["rows"]


def test_ask_relaxes_and_reports_unknown_words(client: TestClient) -> None:
    body = client.get("/ask", params={"q": "which studies use InSAR for earthquake-induced landslides near "
                                           "Zorblat"}).json()
    assert body["relaxed"] and body["rows"] and "Nothing matches" in body["message"]
    assert "Zorblat" in body["unknown"] and "Zorblat" in body["message"]
    metric = client.get("/ask", params={"q": "which studies report an MAE"}).json()
    assert metric["template"] == "metric" and metric["metric"] == "MAE"
