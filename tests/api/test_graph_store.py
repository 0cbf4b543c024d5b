"""The Graph Store HTTP Protocol at /store: reads, writes through the single writer (the query workers then see
the change), auth and read-only mode, and the error statuses. The W3C suite is replayed in test_w3c_protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lskg.api import create_app
from tests.api.conftest import TOKEN, api_settings

GRAPH = "/store?graph=http%3A%2F%2Fexample.org%2Fgsp-test"
TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def update_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Its own empty store (the shared one of conftest is used by the SPARQL Update tests)."""
    from lskg.kg.store import StoreDir

    root = tmp_path_factory.mktemp("gsp") / "store"
    with StoreDir(root).rebuild():
        pass
    settings = api_settings(str(root), allow_update=True, update_token=TOKEN)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


def test_put_get_post_delete_cycle(update_client: TestClient) -> None:
    c = update_client
    assert c.get(GRAPH).status_code == 404
    assert c.put(GRAPH, content=b"<http://example.org/s> <http://example.org/p> 1 .", headers=TURTLE).status_code == 201
    got = c.get(GRAPH)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/turtle")
    assert "<http://example.org/s>" in got.text and "1" in got.text
    # the query workers reopened the store: /sparql sees the write at once
    ask = c.get("/sparql", params={"query": "ASK { GRAPH <http://example.org/gsp-test> { ?s ?p 1 } }"})
    assert ask.json()["boolean"] is True
    assert c.post(GRAPH, content=b'<http://example.org/s> <http://example.org/q> "two" .',
                  headers={"Content-Type": "application/n-triples"}).status_code == 204
    nt = c.get(GRAPH, headers={"Accept": "application/n-triples"})
    assert nt.headers["content-type"].startswith("application/n-triples") and len(nt.text.strip().splitlines()) == 2
    assert c.put(GRAPH, content=b"<http://example.org/s> <http://example.org/p> 3 .", headers=TURTLE).status_code == 204
    assert c.get(GRAPH, headers={"Accept": "application/n-triples"}).text.count("\n") == 1
    head = c.head(GRAPH)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert c.delete(GRAPH).status_code == 204
    assert c.delete(GRAPH).status_code == 404
    assert c.get(GRAPH).status_code == 404


def test_default_graph_and_graph_creation(update_client: TestClient) -> None:
    c = update_client
    assert c.put("/store?default", content=b"<http://example.org/d> <http://example.org/p> 1 .",
                 headers=TURTLE).status_code in (201, 204)
    assert "<http://example.org/d>" in c.get("/store?default").text
    created = c.post("/store", content=b"<http://example.org/n> <http://example.org/p> 2 .", headers=TURTLE)
    assert created.status_code == 201
    location = created.headers["location"]
    assert "<http://example.org/n>" in c.get("/store", params={"graph": location}).text
    assert "<http://example.org/n>" in c.get(location.removeprefix("http://testserver")).text  # direct naming
    assert c.delete("/store?default").status_code == 204
    assert c.get("/store?default").text.strip() == ""


def test_json_ld_payloads_are_one_graph(update_client: TestClient) -> None:
    """JSON-LD (a format that can carry datasets) is read as one graph; a document naming its own graph is 400."""
    c = update_client
    doc = b'{"@id": "http://example.org/j", "http://example.org/p": "three"}'
    assert c.put(GRAPH, content=doc, headers={"Content-Type": "application/ld+json"}).status_code == 201
    assert '"three"' in c.get(GRAPH, headers={"Accept": "application/n-triples"}).text
    named = b'{"@id": "http://example.org/other", "@graph": [{"@id": "http://example.org/j", ' \
            b'"http://example.org/p": "four"}]}'
    assert c.post(GRAPH, content=named, headers={"Content-Type": "application/ld+json"}).status_code == 400
    assert c.delete(GRAPH).status_code == 204


def test_errors(update_client: TestClient) -> None:
    c = update_client
    assert c.put(GRAPH, content=b"<a> <b> .", headers=TURTLE).status_code == 400  # malformed payload
    assert c.get(GRAPH).status_code == 404  # ... and nothing was written
    assert c.put(GRAPH, content=b"x", headers={"Content-Type": "image/png"}).status_code == 415
    assert c.put(GRAPH, content=b"x", headers={"Content-Type": "application/n-quads"}).status_code == 415
    assert c.get("/store?graph=relative/iri").status_code == 400
    assert c.get("/store?graph=http://example.org/a&default").status_code == 400
    assert c.get("/store").status_code == 400
    assert c.get("/store?default", headers={"Accept": "image/png"}).status_code == 406
    assert c.put(GRAPH, content=b"", headers={**TURTLE, "Authorization": "Bearer wrong"}).status_code == 403
    no_token = c.put(GRAPH, content=b"", headers={**TURTLE, "Authorization": ""})
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"


def test_read_only_server_serves_reads_and_refuses_writes(client: TestClient) -> None:
    assert client.get("/store?default").status_code == 200
    assert client.get("/store?graph=http://example.org/none").status_code == 404
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for method in ("PUT", "POST"):
        response = client.request(method, "/store?default", content=b"", headers={**TURTLE, **auth})
        assert response.status_code == 403 and "read-only" in response.text
    assert client.delete("/store?default", headers=auth).status_code == 403


def test_service_description_names_update_only_when_enabled(client: TestClient, update_client: TestClient) -> None:
    assert "SPARQL11Update" not in client.get("/sparql").text
    assert "sd:SPARQL11Update" in update_client.get("/sparql").text
