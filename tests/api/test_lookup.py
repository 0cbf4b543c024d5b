"""Point lookups answered in the server process (``lskg.api.lookup``): what the recogniser takes and refuses, that
its answers are the workers' byte for byte, that anything else (or a large answer) still goes to a worker, and
that the server's handle follows generation swaps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.responses import Response
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from lskg.api import create_app, lookup
from lskg.api.lookup import LOOKUP_CHARS, Lookups, is_lookup
from lskg.api.protocol import GRAPH_FORMATS, RESULT_FORMATS
from lskg.api.routes import sparql
from lskg.api.worker import Kind, QueryJob
from lskg.kg.rdf import NamedNode, Quad
from lskg.kg.sparql_text import GuardSyntaxError, guard
from lskg.kg.store import StoreDir
from lskg.ontology.terms import LSKG
from tests.api.conftest import api_settings

S = "https://example.org/s"
ACCEPTED = [
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }}",
    f"select * {{<{S}>?p?o.}}",
    f"SELECT ?p?o WHERE{{<{S}> ?p ?o}}",
    f"SELECT ?o {{ <{S}> <https://example.org/p> ?o }}",
    f"SELECT $p ?o WHERE {{ <{S}> ?p $o }}",
    f"\n\tSELECT ?o ?p\r\nWHERE {{ <{S}>\n?p\t?o . }}\n",
]
REFUSED = [
    f"SELECT ?p ?o WHERE {{ SERVICE <http://127.0.0.1:1/> {{ <{S}> ?p ?o }} }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o FILTER(?o > 1) }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }} LIMIT 1",
    f"SELECT DISTINCT ?p ?o WHERE {{ <{S}> ?p ?o }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o . ?o ?q ?r }}",
    f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{S}> ?p ?o }} }}",
    f"SELECT ?o WHERE {{ <{S}> <https://example.org/p>/<https://example.org/q> ?o }}",
    f"SELECT ?o WHERE {{ <{S}> ^<https://example.org/p> ?o }}",
    f"SELECT ?o WHERE {{ <{S}> <https://example.org/p>* ?o }}",
    f"SELECT ?p WHERE {{ <{S}> ?p ?p }}",
    f"SELECT ?x WHERE {{ <{S}> ?p ?o }}",
    f"SELECT ?o ?o WHERE {{ <{S}> ?p ?o }}",
    "SELECT ?p ?o WHERE { lskg:Study ?p ?o }",
    "SELECT ?p ?o WHERE { <relative> ?p ?o }",
    "SELECT ?p ?o WHERE { <> ?p ?o }",
    "SELECT ?p ?o WHERE { ?s ?p ?o }",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p <https://example.org/o> }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p \"o\" }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }} # comment",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }}\f",
    "SELECT ?p ?o WHERE { <https://example.org/\\u0073> ?p ?o }",
    f"PREFIX ex: <https://example.org/> SELECT ?p ?o WHERE {{ <{S}> ?p ?o }}",
    f"SELECT ?p ?o FROM <https://example.org/g> WHERE {{ <{S}> ?p ?o }}",
    f"ASK {{ <{S}> ?p ?o }}",
    f"CONSTRUCT {{ <{S}> ?p ?o }} WHERE {{ <{S}> ?p ?o }}",
    f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }} ; CLEAR ALL",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_point_lookups_are_recognised(text: str) -> None:
    assert is_lookup(text)


@pytest.mark.parametrize("text", REFUSED)
def test_everything_else_is_refused(text: str) -> None:
    assert not is_lookup(text)


def test_long_texts_are_not_tried() -> None:
    padded = f"SELECT ?p ?o WHERE {{ <{S}> ?p ?o }}".replace("WHERE", " " * LOOKUP_CHARS + "WHERE")
    assert not is_lookup(padded)
    started = time.process_time()
    assert not is_lookup("SELECT ?a" + " " * (LOOKUP_CHARS - 20) + "x")
    assert time.process_time() - started < 0.05


LOOKUP_TOKENS = ["SELECT", "?p", "?o", "WHERE", "{", f"<{S}>", "?p", "?o", "}"]
NOISE = ["SERVICE", "SERVICE <http://127.0.0.1:9/>", "FILTER(?o)", "OPTIONAL", "LIMIT 1", "lskg:Study", "\"x\"",
         "#c\n", "/", "^", "a", "DISTINCT", ";", "CLEAR ALL", "(", ")", "{", "}", "\\u0053", "?s", "$o", ".", "*",
         "<rel>", "<https://e.org/p>"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(LOOKUP_TOKENS)), st.sampled_from(NOISE)), max_size=2),
       st.lists(st.sampled_from([" ", "\n", "\t", "\r\n", ""]), min_size=12, max_size=12), st.booleans())
def test_what_the_recogniser_takes_the_guard_reads_as_a_plain_select(
        noise: list[tuple[int, str]], gaps: list[str], lower: bool) -> None:
    """A lookup with random whitespace and letter case is taken; with up to two tokens of noise inserted, what is
    still taken is read by the guard as a SELECT it does not refuse (no SERVICE, nothing it cannot parse)."""
    tokens = [t.lower() if lower and t.isalpha() else t for t in LOOKUP_TOKENS]
    for position, token in sorted(noise, reverse=True):
        tokens.insert(position, token)
    text = "".join(token + (gap or (" " if token[-1].isalnum() else "")) for token, gap in zip(tokens, gaps,
                                                                                               strict=False))
    if not noise:
        assert is_lookup(text), text
    if not is_lookup(text):
        return
    try:
        parsed = guard(text, update=False)
    except GuardSyntaxError as exc:
        pytest.fail(f"the recogniser took a text the guard cannot read: {text!r} ({exc})")
    assert parsed.form == "SELECT" and not parsed.refused


# ---- through the app ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lookups_client(api_store: str) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings(api_store))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def study(lookups_client: TestClient) -> str:
    response = lookups_client.get("/sparql", params={"query": f"SELECT ?s WHERE {{ ?s a {LSKG.Study} }} LIMIT 1"})
    return str(response.json()["results"]["bindings"][0]["s"]["value"])


def _answered(client: TestClient) -> int:
    pool_lookups = client.app.state.lskg.pool.lookups  # type: ignore[attr-defined]
    assert pool_lookups is not None
    return int(pool_lookups.answered)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_a_lookup_is_answered_here_with_the_workers_bytes(lookups_client: TestClient, study: str,
                                                          accept: str) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    before = _answered(lookups_client)
    here = lookups_client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert _answered(lookups_client) == before + 1
    pool = lookups_client.app.state.lskg.pool  # type: ignore[attr-defined]
    pool.lookups, kept = None, pool.lookups
    try:
        there = lookups_client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    finally:
        pool.lookups = kept
    assert here.status_code == there.status_code == 200
    assert here.headers["content-type"] == there.headers["content-type"]
    assert here.content == there.content and len(here.content) > 200


def test_a_lookup_nobody_can_receive_is_a_406_as_from_a_worker(lookups_client: TestClient, study: str) -> None:
    response = lookups_client.get("/sparql", params={"query": f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"},
                                  headers={"Accept": "text/turtle"})
    assert response.status_code == 406 and "application/sparql-results+json" in response.text


def test_other_queries_go_to_the_workers(lookups_client: TestClient, study: str) -> None:
    before = _answered(lookups_client)
    for query in (f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }} LIMIT 3", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                  f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o FILTER(isIRI(?o)) }}"):
        assert lookups_client.get("/sparql", params={"query": query}).status_code == 200
    refused = lookups_client.get("/sparql", params={
        "query": f"SELECT ?p ?o WHERE {{ SERVICE <http://127.0.0.1:9/> {{ <{study}> ?p ?o }} }}"})
    assert refused.status_code == 400 and "SERVICE" in refused.text
    dataset = lookups_client.get("/sparql", params={"query": f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}",
                                                    "default-graph-uri": "https://example.org/none"})
    assert dataset.status_code == 200 and dataset.json()["results"]["bindings"] == []
    assert _answered(lookups_client) == before


def test_a_large_answer_goes_to_a_worker(lookups_client: TestClient, study: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    small = lookups_client.get("/sparql", params={"query": query})
    monkeypatch.setattr(lookup, "LOOKUP_BYTES", 64)
    before = _answered(lookups_client)
    large = lookups_client.get("/sparql", params={"query": query})
    assert _answered(lookups_client) == before
    assert large.status_code == 200 and large.content == small.content


JSON_REQUEST = [(b"host", b"testserver:8000"), (b"accept", b"application/sparql-results+json")]


def _through_app(client: TestClient, query: str, *, headers: list[tuple[bytes, bytes]] = JSON_REQUEST,
                 method: str = "GET", params: dict[str, str] | None = None) -> tuple[list[str], list[Message]]:
    """Call the app as the server does, with its middleware stack (error handling, Host check, CORS, routing)
    replaced by one that only records what reaches it: (paths reached, messages sent)."""
    reached: list[str] = []
    sent: list[Message] = []

    async def stack(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/sparql", "root_path": "", "scheme": "http",
             "query_string": urlencode({"query": query, **(params or {})}).encode(), "headers": headers}
    app = client.app
    kept, app.middleware_stack = app.middleware_stack, stack  # type: ignore[attr-defined]
    try:
        assert client.portal is not None
        client.portal.call(app, scope, receive, send)
    finally:
        app.middleware_stack = kept  # type: ignore[attr-defined]
    return reached, sent


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv", "text/turtle"])
def test_a_plain_get_lookup_is_answered_before_the_framework_as_the_route_answers_it(
        lookups_client: TestClient, study: str, accept: str) -> None:
    """The same status, headers (in order: CORS's ``Vary: Origin`` included) and body as the route's answer."""
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    reached, sent = _through_app(lookups_client, query, headers=[(b"host", b"testserver"),
                                                                 (b"accept", accept.encode())])
    routed = lookups_client.get("/sparql", params={"query": query, "unknown": "1"},  # not the shortcut's
                                headers={"Accept": accept})
    assert reached == [] and sent[0]["status"] == routed.status_code == (406 if accept == "text/turtle" else 200)
    headers = [(name.decode(), value.decode()) for name, value in sent[0]["headers"]]
    assert headers == list(routed.headers.items())
    assert sent[1]["body"] == routed.content and len(routed.content) > 50


def test_a_lookup_without_a_host_header_is_answered(lookups_client: TestClient, study: str) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    assert _through_app(lookups_client, query, headers=[])[0] == []  # HTTP/1.0: no Host to check, as in the app


def test_anything_else_goes_through_the_framework(lookups_client: TestClient, study: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    for other in (_through_app(lookups_client, query, headers=[*JSON_REQUEST, (b"origin", b"https://example.org")]),
                  _through_app(lookups_client, query, params={"default-graph-uri": study}),
                  _through_app(lookups_client, query, method="POST"),
                  _through_app(lookups_client, query, method="HEAD"),
                  _through_app(lookups_client, f"{query} LIMIT 1"),
                  _through_app(lookups_client, query.replace(" WHERE", " " * 20_000 + "WHERE"))):
        assert other == (["/sparql"], [])
    settings = lookups_client.app.state.lskg.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "max_query_bytes", len(query) - 1)  # the route answers it: 413
    assert _through_app(lookups_client, query) == (["/sparql"], [])


@pytest.mark.parametrize("host", [b"evil.example/../x", b"a b", b"[::1", b"x:123456", b"-x"])
def test_a_host_the_app_refuses_is_left_to_it(lookups_client: TestClient, study: str, host: bytes) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"
    assert _through_app(lookups_client, query, headers=[(b"host", host)]) == (["/sparql"], [])


@pytest.mark.parametrize("media_type", sorted({f.media_type for f in (*RESULT_FORMATS.values(),
                                                                      *GRAPH_FORMATS.values())}))
def test_an_answer_has_the_headers_starlette_would_write(media_type: str) -> None:
    assert sparql.Answer(b"{}", media_type).raw_headers == \
        Response(b"{}", media_type=media_type, headers={"Vary": "Accept"}).raw_headers


def test_a_lookup_with_a_bad_host_is_still_refused(lookups_client: TestClient, study: str) -> None:
    response = lookups_client.get("/sparql", params={"query": f"SELECT ?p ?o WHERE {{ <{study}> ?p ?o }}"},
                                  headers={"Host": "evil.example/../x"})
    assert response.status_code == 400 and "Host" in response.text


def test_an_update_enabled_server_answers_every_query_in_its_worker(update_client: TestClient) -> None:
    assert update_client.app.state.lskg.pool.lookups is None  # type: ignore[attr-defined]


# ---- the server's handle follows the store ----------------------------------------------------------------------

def _generation(root: StoreDir, value: str) -> None:
    with root.rebuild() as store:
        store.load([Quad(NamedNode(S), NamedNode("https://example.org/p"), NamedNode(value),
                         NamedNode("https://example.org/g"))])


def test_the_handle_follows_a_rebuild_and_lets_go_of_the_old_generation(tmp_path: Path) -> None:
    root = StoreDir(tmp_path / "store")
    _generation(root, "https://example.org/first")
    job = QueryJob(text=f"SELECT ?o WHERE {{ <{S}> ?p ?o }}", results_format=("CSV", "text/csv"))
    lookups = Lookups()
    try:
        first = lookups.answer((str(root.root), root.generation()), job)
        assert first is not None and first.kind is Kind.ANSWER and b"first" in first.body
        old = root.generation()
        _generation(root, "https://example.org/second")
        second = lookups.answer((str(root.root), root.generation()), job)
        assert second is not None and b"second" in second.body
        assert lookups.opened.store is not None and lookups.opened.store.path is not None
        assert lookups.opened.store.path.name != old
        _generation(root, "https://example.org/third")
        lookups.release_if_stale()  # idle: `current` moved, so the handle lets go
        assert lookups.opened.store is None
    finally:
        lookups.close()


def test_a_text_the_engine_cannot_parse_goes_to_a_worker(tmp_path: Path) -> None:
    """Should the engine refuse a text the recogniser took, a worker answers it (with the parser's message)."""
    root = StoreDir(tmp_path / "store")
    _generation(root, "https://example.org/first")
    lookups = Lookups()
    try:
        key = (str(root.root), root.generation())
        broken = QueryJob(text=f"SELECT ?o WHERE {{ <{S}> ?p ?o", results_format=("CSV", "text/csv"))
        assert lookups.answer(key, broken, recognised=True) is None
        assert lookups.answered == 0
    finally:
        lookups.close()
