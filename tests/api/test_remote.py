"""The API over a remote SPARQL server (``oxigraph serve``): the same worker jobs run on the remote ``Store``, so
queries, updates (base IRI, predeclared prefixes), the Graph Store Protocol and the service description behave as
over an embedded store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lskg.api import create_app
from tests.api.conftest import TOKEN, api_settings
from tests.kg.test_store import oxigraph_server  # noqa: F401 - the fixture that starts `oxigraph serve`

GRAPH = "/store?graph=http%3A%2F%2Fexample.org%2Fremote"


@pytest.fixture
def remote_client(oxigraph_server: str) -> Iterator[TestClient]:  # noqa: F811 - the imported fixture
    settings = api_settings(oxigraph_server, allow_update=True, update_token=TOKEN)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def test_graph_store_and_sparql_over_a_remote_store(remote_client: TestClient) -> None:
    c = remote_client
    assert c.get(GRAPH).status_code == 404
    assert c.put(GRAPH, content=b"<s> <http://example.org/p> 1 .", headers={"Content-Type": "text/turtle"}
                 ).status_code == 201
    got = c.get(GRAPH, headers={"Accept": "application/n-triples"})
    assert got.status_code == 200 and "<http://example.org/s>" in got.text  # relative IRI: the graph is the base
    assert c.post(GRAPH, content=b"<http://example.org/s> <http://example.org/p> \"2\" .",
                  headers={"Content-Type": "application/n-triples"}).status_code == 204
    # an update with a relative IRI and a predeclared prefix (lskg:), resolved against the endpoint's URL
    update = "INSERT DATA { GRAPH <http://example.org/remote> { <rel> a lskg:Study } }"
    assert c.post("/sparql", data={"update": update}).status_code == 204
    count = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert count.json()["results"]["bindings"][0]["n"]["value"] == "3"
    typed = c.get("/sparql", params={"query": "SELECT ?s WHERE { ?s a lskg:Study }"}).json()
    assert typed["results"]["bindings"][0]["s"]["value"] == "http://testserver/rel"
    description = c.get("/sparql", headers={"Accept": "text/turtle"}).text
    assert "sd:UnionDefaultGraph" in description and "<http://example.org/remote>" in description
    assert c.delete(GRAPH).status_code == 204
    assert c.get(GRAPH).status_code == 404
    # SERVICE is refused before anything reaches the remote server
    service = c.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert service.status_code == 400 and "SERVICE" in service.text


def test_a_query_leaves_no_result_for_another_thread_to_drop(remote_client: TestClient) -> None:
    """pyoxigraph's query results may only be dropped on the thread that made them (else they leak, with an
    'unsendable' error). The guard parser's internal exceptions keep every frame that was on the stack while it
    parsed alive until a garbage collection, which may run on any thread; so the query job (run on a worker thread
    here, over a remote store) must hold no result in such a frame."""
    import gc
    import sys

    seen: list = []
    hook = sys.unraisablehook
    sys.unraisablehook = seen.append
    gc.disable()
    try:
        for query in ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ASK { ?s ?p ?o }"):
            assert remote_client.get("/sparql", params={"query": query}).status_code == 200
        gc.collect()
    finally:
        gc.enable()
        sys.unraisablehook = hook
    assert not [u for u in seen if "unsendable" in str(u.exc_value)]
