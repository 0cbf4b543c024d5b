"""The SPARQL 1.1 Protocol as the endpoint implements it: operations, dataset, negotiation, errors, CORS."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import TOKEN

SELECT = "SELECT ?study ?title WHERE { ?study a lskg:Study ; dcterms:title ?title } ORDER BY ?title"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DIRECT = {"Content-Type": "application/sparql-query"}


def n_studies(client: TestClient) -> int:
    return len(client.get("/sparql", params={"query": SELECT}).json()["results"]["bindings"])


def test_get_form_post_and_direct_post_agree(client: TestClient) -> None:
    get = client.get("/sparql", params={"query": SELECT})
    form = client.post("/sparql", data={"query": SELECT})
    direct = client.post("/sparql", content=SELECT, headers=DIRECT)
    charset = client.post("/sparql", content=SELECT,
                          headers={"Content-Type": "application/sparql-query; charset=UTF-8; version=1.2"})
    for response in (get, form, direct, charset):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/sparql-results+json"
    assert get.json() == form.json() == direct.json() == charset.json()
    assert len(get.json()["results"]["bindings"]) == 4


@pytest.mark.parametrize(("accept", "media", "check"), [
    (None, "application/sparql-results+json", lambda b: len(json.loads(b)["results"]["bindings"]) == 4),
    ("application/sparql-results+json", "application/sparql-results+json", None),
    ("application/sparql-results+xml", "application/sparql-results+xml", lambda b: b.count(b"<result>") == 4),
    ("text/csv", "text/csv", lambda b: len(list(csv.reader(io.StringIO(b.decode())))) == 5),
    ("text/tab-separated-values", "text/tab-separated-values", lambda b: b.count(b"\n") == 5),
    ("application/sparql-results+json,*/*;q=0.9", "application/sparql-results+json", None),  # YASGUI
    ("application/sparql-results+xml, application/rdf+xml", "application/sparql-results+xml", None),  # rdflib
    ("text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values", None),
    ("*/*", "application/sparql-results+json", None),
    ("text/*", "text/csv", None),
])
def test_select_content_negotiation(client: TestClient, accept: str | None, media: str, check) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": SELECT}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert "Accept" in response.headers.get("vary", "")
    if check:
        assert check(response.content)


@pytest.mark.parametrize(("accept", "media"), [
    (None, "text/turtle"),  # Turtle, not N-Quads, without Accept (the W3C test oxigraph serve fails)
    ("text/turtle", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),  # SPARQLWrapper's default for CONSTRUCT
    ("application/ld+json", "application/ld+json"),
    ("application/sparql-results+xml, application/rdf+xml", "application/rdf+xml"),  # rdflib's one header
    ("text/turtle,*/*;q=0.9", "text/turtle"),
])
def test_construct_and_describe_negotiation(client: TestClient, accept: str | None, media: str) -> None:
    headers = {"Accept": accept} if accept else {}
    for query in ("CONSTRUCT WHERE { ?s a lskg:Study }", "DESCRIBE ?s WHERE { ?s a lskg:Study } LIMIT 1"):
        response = client.post("/sparql", content=query, headers={**DIRECT, **headers})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == media
        assert response.content


def test_ask_formats(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": "ASK { ?s a lskg:Study }"}).json() == {"head": {}, "boolean": True}
    xml = client.get("/sparql", params={"query": "ASK { ?s a lskg:Nothing }"},
                     headers={"Accept": "application/sparql-results+xml"})
    assert b"<boolean>false</boolean>" in xml.content


def test_format_parameter_alias(client: TestClient) -> None:
    """SPARQLWrapper adds format=/output=; links like ?format=csv work in a browser."""
    assert client.get("/sparql", params={"query": SELECT, "format": "csv"}).headers["content-type"].startswith("text/csv")
    response = client.get("/sparql", params={"query": SELECT, "format": "json", "output": "json", "results": "json"})
    assert response.status_code == 200


def test_dataset_parameters_override_from(client: TestClient) -> None:
    graphs = [r["g"]["value"] for r in client.get("/sparql", params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a lskg:Study } }"}).json()["results"]["bindings"]]
    assert len(graphs) == 4
    count = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a lskg:Study }"
    one = client.get("/sparql", params={"query": count, "default-graph-uri": graphs[0]}).json()
    two = client.post("/sparql", content=count, headers=DIRECT,
                      params=[("default-graph-uri", graphs[0]), ("default-graph-uri", graphs[1])]).json()
    union = client.get("/sparql", params={"query": count}).json()
    value = lambda r: int(r["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert (value(one), value(two), value(union)) == (1, 2, 4)
    from_query = f"SELECT (COUNT(DISTINCT ?s) AS ?n) FROM <{graphs[0]}> WHERE {{ ?s a lskg:Study }}"
    assert value(client.get("/sparql", params={"query": from_query}).json()) == 1
    overridden = client.post("/sparql", data={"query": from_query, "default-graph-uri": [graphs[1], graphs[2]]}).json()
    assert value(overridden) == 2
    named = client.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                          "named-graph-uri": graphs[3]}).json()
    assert [r["g"]["value"] for r in named["results"]["bindings"]] == [graphs[3]]


@pytest.mark.parametrize(("method", "kwargs", "status"), [
    ("get", {"params": {"query": "SELECT * WHERE {"}}, 400),
    ("get", {"params": [("query", "ASK {}"), ("query", "SELECT * {}")]}, 400),
    ("post", {"content": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("post", {"content": "query=ASK%20%7B%7D"}, 415),
    ("post", {"content": "ASK {}".encode("utf-16"), "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ("post", {"content": b"ASK {\xff}", "headers": DIRECT}, 400),
    ("post", {"content": "query=ASK%20%7B%7D", "headers": FORM, "params": {"query": "ASK {}"}}, 400),
    ("put", {"params": {"query": "ASK {}"}}, 405),
    ("delete", {}, 405),
    ("get", {"params": {"update": "CLEAR ALL"}}, 405),
    ("get", {"params": {"query": "SELECT ?s WHERE { ?s ?p ?o }"}, "headers": {"Accept": "image/png"}}, 406),
    ("get", {"params": {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, "headers": {"Accept": "text/csv"}}, 406),
    ("get", {"params": {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "not an iri"}}, 400),
    ("post", {"content": "INSERT DATA { <http://a> <http://b> <http://c> }", "headers": DIRECT}, 400),
])
def test_protocol_errors(client: TestClient, method: str, kwargs: dict, status: int) -> None:
    response = getattr(client, method)("/sparql", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in response.text


def test_malformed_query_gets_the_parser_message(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert "malformed SPARQL query" in response.text and "1:" in response.text  # line:column from the parser


def test_updates_are_refused_on_a_read_only_endpoint(client: TestClient) -> None:
    for kwargs in ({"data": {"update": "CLEAR ALL"}},
                   {"content": "CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}}):
        response = client.post("/sparql", **kwargs)
        assert response.status_code == 403
    assert n_studies(client) == 4


def test_long_queries_are_refused(client: TestClient) -> None:
    long = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 300_000
    assert client.post("/sparql", content=long, headers=DIRECT).status_code == 413
    assert client.get("/sparql", params={"query": "ASK {} #" + "x" * 20_000}).status_code == 414


def test_service_description_head_and_html_redirect(client: TestClient) -> None:
    description = client.get("/sparql")
    assert description.status_code == 200 and "sd:Service" in description.text
    assert client.get("/sparql", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    head = client.head("/sparql", params={"query": "ASK {}"})
    assert head.status_code == 200 and head.content == b""


def test_cors(client: TestClient) -> None:
    preflight = client.options("/sparql", headers={
        "Origin": "http://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "http://yasgui.example")
    response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://yasgui.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_syntax_check_helper(client: TestClient) -> None:
    assert client.get("/sparql/check", params={"q": SELECT}).json() == {"ok": True, "form": "SELECT", "message": None}
    bad = client.get("/sparql/check", params={"q": "SELECT ?s WHERE { ?s"}).json()
    assert bad["ok"] is False and "error at" in bad["message"]
    refused = client.get("/sparql/check", params={"q": "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }"}).json()
    assert refused["ok"] is False and "SERVICE" in refused["message"]


def test_updates_with_token(update_client: TestClient) -> None:
    insert = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 1 } }"
    assert update_client.post("/sparql", data={"update": insert}).status_code == 204
    ask = update_client.get("/sparql", params={"query": "ASK { <http://example.org/s> ?p 1 }"})
    assert ask.json()["boolean"] is True  # the workers see the update at once
    headers = {"Content-Type": "application/sparql-update; charset=UTF-8", "Accept": "application/sparql-results+xml"}
    assert update_client.post("/sparql", content="CLEAR GRAPH <http://example.org/g>", headers=headers).status_code == 204
    assert update_client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is False
    no_token = update_client.post("/sparql", data={"update": insert}, headers={"Authorization": ""})
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    wrong = update_client.post("/sparql", data={"update": insert}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    load = update_client.post("/sparql", data={"update": "LOAD <http://127.0.0.1:9/x.ttl>"})
    assert load.status_code == 400 and "LOAD" in load.text
    twice = update_client.post("/sparql", content="update=CLEAR+ALL&update=CLEAR+ALL", headers=FORM)
    assert twice.status_code == 400
    conflict = update_client.post("/sparql", params={"using-graph-uri": "http://example.org/g"},
                                  content="WITH <http://e/a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                  headers={"Content-Type": "application/sparql-update"})
    assert conflict.status_code == 400
    assert TOKEN
