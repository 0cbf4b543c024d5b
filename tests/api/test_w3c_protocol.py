"""The W3C SPARQL 1.1 Protocol test suite (../shared/w3c-sparql11-tests/protocol/manifest.ttl), replayed against
the app with updates enabled. Each test's ``ut:graphData`` is loaded into the named graph its label names, then
every request is sent with its exact method, path, headers and body bytes; the status class, the result format
and the ASK answer are checked. Skips cleanly when the manifests are absent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lskg.api import create_app
from tests.api.conftest import TOKEN, api_settings

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "w3c-sparql11-tests" / "protocol"
MANIFEST = SUITE / "manifest.ttl"
MIN_PASSED = 34

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
