"""The W3C SPARQL 1.1 test suites for the HTTP protocols, replayed against the app with updates enabled.

* Protocol (../shared/w3c-sparql11-tests/protocol/manifest.ttl), under TestClient: each test's ``ut:graphData`` is
  loaded into the named graph its label names, then every request is sent with its exact method, path, headers
  and body bytes; the status class, the result format and the ASK answer are checked.
* Graph Store HTTP Protocol (../shared/w3c-sparql11-tests/graph-store-protocol/manifest.ttl and the manifests it
  includes), against a real uvicorn server on 127.0.0.1 over http.client (the request target goes on the wire
  exactly as the manifest spells it, percent-encoding included): ``/gsp`` becomes ``/store``, ``$LOCATION$`` is
  replaced by the Location of an earlier answer, and each answer's status, Location, Content-Type and body (graph
  isomorphism with the expected graph) are checked.

Both skip cleanly when the manifests are absent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lskg.api import create_app
from tests.api.conftest import TOKEN, LiveServer, api_settings

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "w3c-sparql11-tests" / "protocol"
MANIFEST = SUITE / "manifest.ttl"
MIN_PASSED = 34
GSP_MANIFEST = SUITE.parent / "graph-store-protocol" / "manifest.ttl"
GSP_MIN_PASSED = 14
GSP_FEATURES = {"DirectGraphIdentification", "IndirectGraphIdentification", "POSTGraphCreation"}
"""The mf:requires features /store supports (every one the suite names)."""
STATUS_CODES = {"OK": 200, "Created": 201, "NoContent": 204, "BadRequest": 400, "NotFound": 404,
                "MethodNotAllowed": 405, "NotAcceptable": 406, "UnsupportedMediaType": 415}

FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "text/html", "application/xhtml+xml"},
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]
    format: str | None
    boolean: bool | None


@dataclass
class ProtocolTest:
    name: str
    title: str
    graphs: dict[str, Path] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)


def load_manifest() -> list[ProtocolTest]:
    from rdflib import Graph, Namespace, URIRef
    from rdflib.collection import Collection
    from rdflib.namespace import RDFS

    mf = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
    ht = Namespace("http://www.w3.org/2011/http#")
    cnt = Namespace("http://www.w3.org/2011/content#")
    ut = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
    g = Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = next(g.subjects(mf.entries, None))
    tests = []
    for entry in Collection(g, g.value(manifest, mf.entries)):
        test = ProtocolTest(name=str(entry).rsplit("#", 1)[-1], title=str(g.value(entry, mf.name)))
        for data in g.objects(entry, ut.graphData):
            test.graphs[str(g.value(data, RDFS.label))] = Path(str(g.value(data, ut.graph)).removeprefix("file://"))
        action = g.value(entry, mf.action)
        for req in Collection(g, g.value(action, ht.requests)):
            headers = {}
            if g.value(req, ht.headers) is not None:
                for h in Collection(g, g.value(req, ht.headers)):
                    headers[str(g.value(h, ht.fieldName))] = str(g.value(h, ht.fieldValue))
            body_node = g.value(req, ht.body)
            body = None
            if body_node is not None:
                encoding = str(g.value(body_node, cnt.characterEncoding) or "UTF-8")
                body = str(g.value(body_node, cnt.chars)).encode(encoding.lower())
            resp = g.value(req, ht.resp)
            statuses = {str(s).rsplit("#", 1)[-1] for s in g.objects(resp, mf.expectedStatus)}
            fmt = g.value(resp, mf.expectedFormat)
            boolean = g.value(resp, mf.expectedBoolean)
            test.requests.append(Request(
                method=str(g.value(req, ht.methodName)), path=str(g.value(req, ht.absolutePath)),
                headers=headers, body=body, statuses=statuses, format=str(fmt) if fmt is not None else None,
                boolean=bool(boolean.toPython()) if boolean is not None else None))
        tests.append(test)
    assert all(isinstance(t.name, str) for t in tests) and URIRef
    return tests


def run_test(client: TestClient, test: ProtocolTest) -> str | None:
    """None when the test passes, else why it failed."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    blocks = "".join(f"GRAPH <{label}> {{ {path.read_text()} }}\n" for label, path in test.graphs.items())
    reset = client.post("/sparql", content=f"DROP SILENT ALL ; INSERT DATA {{ {blocks} }}" if blocks else "DROP SILENT ALL",
                        headers={"Content-Type": "application/sparql-update", **auth})
    if reset.status_code != 204:
        return f"could not load the test data: {reset.status_code} {reset.text}"
    for n, req in enumerate(test.requests, 1):
        path = req.path.replace("/sparql/", "/sparql", 1)
        response = client.request(req.method, path, content=req.body, headers={**req.headers, **auth})
        status_class = f"StatusCode{response.status_code // 100}xx"
        if status_class not in req.statuses:
            return f"request {n}: {req.method} {path} -> {response.status_code} ({response.text[:200]!r}), " \
                   f"expected {sorted(req.statuses)}"
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if req.format and media not in FORMATS[req.format]:
            return f"request {n}: content type {media!r} is not {req.format}"
        if req.boolean is not None:
            if media == "application/sparql-results+json":
                answer = json.loads(response.content)["boolean"]
            else:
                answer = b"<boolean>true</boolean>" in response.content
            if answer is not req.boolean:
                return f"request {n}: ASK answered {answer}, expected {req.boolean}"
    return None


@pytest.fixture(scope="module")
def w3c_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from lskg.kg.store import StoreDir

    root = tmp_path_factory.mktemp("w3c") / "store"
    with StoreDir(root).rebuild():
        pass
    with TestClient(create_app(api_settings(str(root), allow_update=True, update_token=TOKEN))) as client:
        yield client


@pytest.mark.skipif(not MANIFEST.exists(), reason="the W3C test manifests (../shared/w3c-sparql11-tests) are absent")
def test_w3c_protocol_suite(w3c_client: TestClient, artifacts: Path) -> None:
    tests = load_manifest()
    assert len(tests) == 34
    failures = {t.name: why for t in tests if (why := run_test(w3c_client, t)) is not None}
    passed = len(tests) - len(failures)
    report = {"passed": passed, "total": len(tests), "failures": failures}
    (artifacts / "w3c-protocol.json").write_text(json.dumps(report, indent=2))
    print(f"W3C SPARQL 1.1 protocol tests: {passed} of {len(tests)} passed")
    assert passed >= MIN_PASSED, failures


# ---- the Graph Store HTTP Protocol ------------------------------------------------------------------------------

@dataclass
class GspRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    encoding: str
    statuses: set[str]
    location: str | None
    """The template variable (``$LOCATION$``) the answer's Location header fills, if any."""
    expected_headers: dict[str, str]
    expected_body: str | None


@dataclass
class GspTest:
    name: str
    title: str
    requires: set[str]
    requests: list[GspRequest] = field(default_factory=list)


def load_gsp_manifests() -> list[GspTest]:
    from rdflib import RDF, Graph, Namespace
    from rdflib.collection import Collection

    mf = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
    ht = Namespace("http://www.w3.org/2011/http#")
    cnt = Namespace("http://www.w3.org/2011/content#")

    def headers_of(g: Graph, node: object) -> dict[str, str]:
        if g.value(node, ht.headers) is None:
            return {}
        return {str(g.value(h, ht.fieldName)).lower(): str(g.value(h, ht.fieldValue))
                for h in Collection(g, g.value(node, ht.headers))}

    top = Graph().parse(GSP_MANIFEST, format="turtle", publicID=GSP_MANIFEST.as_uri())
    includes = [Path(str(i).removeprefix("file://")) for m in top.objects(None, mf.include) for i in Collection(top, m)]
    tests = []
    for path in includes:
        g = Graph().parse(path, format="turtle", publicID=path.as_uri())
        manifest = next(g.subjects(mf.entries, None))
        listed = list(Collection(g, g.value(manifest, mf.entries)))
        # manifest-direct.ttl defines head_non_existing_direct without listing it: it is run too
        unlisted = sorted(set(g.subjects(RDF.type, mf.GraphStoreProtocolTest)) - set(listed))
        for entry in listed + unlisted:
            test = GspTest(name=str(entry).rsplit("#", 1)[-1], title=str(g.value(entry, mf.name)),
                           requires={str(r).rsplit("#", 1)[-1] for r in g.objects(entry, mf.requires)})
            for req in Collection(g, g.value(g.value(entry, mf.action), ht.requests)):
                body_node, resp = g.value(req, ht.body), g.value(req, ht.resp)
                resp_body = g.value(resp, ht.body)
                location = g.value(resp, mf.expectedLocation)
                test.requests.append(GspRequest(
                    method=str(g.value(req, ht.methodName)), path=str(g.value(req, ht.absolutePath)),
                    headers=headers_of(g, req),
                    body=str(g.value(body_node, cnt.chars)) if body_node is not None else None,
                    encoding=str(g.value(body_node, cnt.characterEncoding) or "UTF-8") if body_node is not None
                    else "UTF-8",
                    statuses={str(s).rsplit("#", 1)[-1] for s in g.objects(resp, mf.expectedStatus)},
                    location=str(location) if location is not None else None,
                    expected_headers=headers_of(g, resp),
                    expected_body=str(g.value(resp_body, cnt.chars)) if resp_body is not None else None))
            tests.append(test)
    return tests


def _status_ok(status: int, expected: set[str]) -> bool:
    return any(status == STATUS_CODES.get(name) or name == f"StatusCode{status // 100}xx" for name in expected)


def run_gsp_test(port: int, test: GspTest) -> str | None:
    """None when the test passes, else why it failed."""
    import http.client

    from rdflib import Graph
    from rdflib.compare import isomorphic

    auth = {"Authorization": f"Bearer {TOKEN}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/sparql", body=b"DROP SILENT ALL",
                     headers={"Content-Type": "application/sparql-update", **auth})
        reset = conn.getresponse()
        reset.read()
        if reset.status != 204:
            return f"could not empty the store: {reset.status}"
        variables: dict[str, str] = {}
        for n, req in enumerate(test.requests, 1):
            path, body = req.path, req.body
            for name, value in variables.items():
                path = path.replace(name, value)
                body = body.replace(name, value) if body is not None else None
            path = "/store" + path.removeprefix("/gsp")
            conn.request(req.method, path, body=body.encode(req.encoding.lower()) if body is not None else None,
                         headers={**req.headers, **auth})
            response = conn.getresponse()
            content = response.read()
            where = f"request {n}: {req.method} {path} -> {response.status}"
            if not _status_ok(response.status, req.statuses):
                return f"{where} ({content[:200]!r}), expected {sorted(req.statuses)}"
            if req.location:
                if not response.getheader("location"):
                    return f"{where} without a Location header"
                variables[req.location] = response.getheader("location")
            for name, value in req.expected_headers.items():
                got = response.getheader(name) or ""
                if got.replace(" ", "").lower() != value.replace(" ", "").lower():
                    return f"{where}: {name} is {got!r}, expected {value!r}"
            if req.expected_body is not None and req.method != "HEAD":
                fmt = "turtle" if "turtle" in req.expected_headers.get("content-type", "text/turtle") else "nt"
                expected = Graph().parse(data=req.expected_body, format=fmt)
                got_graph = Graph().parse(data=content.decode("utf-8"), format=fmt)
                if not isomorphic(expected, got_graph):
                    return f"{where}: the graph is not the expected one:\n{content.decode()[:500]}"
    finally:
        conn.close()
    return None


@pytest.fixture(scope="module")
def gsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from lskg.kg.store import StoreDir

    root = tmp_path_factory.mktemp("w3c-gsp") / "store"
    with StoreDir(root).rebuild():
        pass
    with LiveServer(api_settings(str(root), allow_update=True, update_token=TOKEN)) as server:
        yield server


@pytest.mark.skipif(not GSP_MANIFEST.exists(),
                    reason="the W3C test manifests (../shared/w3c-sparql11-tests) are absent")
def test_w3c_graph_store_suite(gsp_server: LiveServer, artifacts: Path) -> None:
    tests = load_gsp_manifests()
    assert len(tests) == 14
    applicable = [t for t in tests if t.requires <= GSP_FEATURES]
    failures = {t.name: why for t in applicable if (why := run_gsp_test(gsp_server.port, t)) is not None}
    passed = len(applicable) - len(failures)
    report = {"passed": passed, "total": len(tests), "applicable": len(applicable), "failures": failures}
    (artifacts / "w3c-graph-store.json").write_text(json.dumps(report, indent=2))
    print(f"W3C SPARQL 1.1 Graph Store Protocol tests: {passed} of {len(tests)} passed "
          f"({len(applicable)} apply)")
    assert passed >= GSP_MIN_PASSED, failures
