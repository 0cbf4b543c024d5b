"""Every probe of issue 8 against the endpoint, as a regression test: outbound requests (SERVICE, LOAD) through
the query, update and syntax-check paths, with a loopback canary that must receive no connection; crashes and
stalls of the server process; memory and time limits of the workers; the Host header; tokens; the docs UI."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from lskg.build import ingest
from lskg.kg.store import StoreDir
from lskg.settings import Settings
from tests.api.conftest import LiveServer, api_settings, free_port
from tests.security.conftest import AUTH, Canary, build_store

DIRECT = {"Content-Type": "application/sparql-query"}
UPDATE = {"Content-Type": "application/sparql-update"}


def _worker_pids() -> list[int]:
    """The query workers started by this test process (children running lskg.api.worker)."""
    me, pids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and b"lskg.api.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


# ---- the canary itself works: without the guard, pyoxigraph does call it -------------------------------------

def test_the_canary_hears_an_unguarded_service_call(canary: Canary) -> None:
    before = canary.connections
    with pytest.raises(OSError):
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}"))
    assert canary.seen() == before + 1
    canary.connections = before


# ---- critical: outbound requests -------------------------------------------------------------------------------

def test_service_through_an_empty_prefix_is_refused(ro_server: LiveServer, canary: Canary) -> None:
    queries = [f"PREFIX : <{canary.url}> SELECT ?x WHERE {{ SERVICE:k {{ ?x ?y ?z }} }}",
               f"PREFIX : <{canary.url}> SELECT ?x WHERE {{ ?x ?y ?z .SERVICE:l {{ ?x ?y ?z }} }}",
               f"PREFIX : <{canary.url}> SELECT ?x WHERE {{ {{ ?x ?y ?z }} UNION {{ SERVICE SILENT :m {{ ?x ?y ?z }} }} }}",
               f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }} }}"]
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        for query in queries:
            for response in (http.get("/sparql", params={"query": query}),
                             http.post("/sparql", content=query, headers=DIRECT),
                             http.post("/sparql", data={"query": query})):
                assert response.status_code == 400, (query, response.text)
                assert "SERVICE" in response.text
    assert canary.seen() == 0


def test_load_through_the_syntax_check_is_refused(ro_server: LiveServer, canary: Canary) -> None:
    closed = free_port()
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        for target in (canary.url, f"http://127.0.0.1:{closed}/"):
            for text in (f"PREFIX : <{target}> CLEAR ALL ; LOAD:x", f"LOAD <{target}x.ttl>",
                         f"PREFIX : <{target}> INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE:k {{ ?s ?p ?o }} }}"):
                response = http.get("/sparql/check", params={"q": text})
                assert response.status_code == 200, response.text  # never a 500 "Connection refused"
                body = response.json()
                assert body["ok"] is False and ("LOAD" in body["message"] or "SERVICE" in body["message"])
                assert "refused" not in body["message"].lower() or "Connection" not in body["message"]
    assert canary.seen() == 0


def test_service_and_load_in_updates_are_refused(rw_server: LiveServer, canary: Canary) -> None:
    updates = [f"PREFIX : <{canary.url}> CLEAR GRAPH <http://example.org/none> ; LOAD:x",
               f"LOAD SILENT <{canary.url}x.ttl> INTO GRAPH <http://example.org/g>",
               f"PREFIX : <{canary.url}> INSERT {{ GRAPH <http://example.org/g> {{ ?s ?p ?o }} }} "
               f"WHERE {{ SERVICE:k {{ ?s ?p ?o }} }}"]
    with httpx.Client(base_url=rw_server.url, timeout=30, headers=AUTH) as http:
        for update in updates:
            for response in (http.post("/sparql", content=update, headers=UPDATE),
                             http.post("/sparql", data={"update": update})):
                assert response.status_code == 400, (update, response.text)
    assert canary.seen() == 0


def test_workers_have_no_network(ro_server: LiveServer) -> None:
    """Defence in depth: the workers run in an empty network namespace (we run as root in CI)."""
    health = httpx.get(f"{ro_server.url}/health").json()
    assert health["workers"]["network"] and "namespace" in health["workers"]["network"]
    assert health["workers"]["memory_mib"] == 2048
    description = httpx.get(f"{ro_server.url}/sparql").text
    assert "network namespace" in description and "SERVICE and LOAD refused" in description
    ox.parse(description.encode(), format=ox.RdfFormat.TURTLE)


def test_deep_nesting_is_a_400_and_the_server_lives(ro_server: LiveServer) -> None:
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        check = http.get("/sparql/check", params={"q": "SELECT * WHERE " + "{" * 2500})
        assert check.status_code == 200 and check.json()["ok"] is False
        assert "64 levels" in check.json()["message"]
        for depth in (3000, 65):
            query = "SELECT * WHERE " + "{" * depth + " ?s ?p ?o " + "}" * depth
            for response in (http.get("/sparql", params={"query": query}) if depth < 1000 else None,
                             http.post("/sparql", content=query, headers=DIRECT)):
                assert response is None or (response.status_code == 400 and "levels deep" in response.text)
        escaped = "SELECT * WHERE " + "\\u007B" * 3000
        assert http.post("/sparql", content=escaped, headers=DIRECT).status_code == 400
        ok = "SELECT * WHERE " + "{" * 60 + " ?s ?p ?o " + "}" * 60
        assert http.post("/sparql", content=ok, headers=DIRECT).status_code == 200
        assert http.get("/stats").status_code == 200


# ---- high: stalls -------------------------------------------------------------------------------------------

def test_slow_syntax_checks_do_not_stall_other_requests(ro_server: LiveServer) -> None:
    """/sparql/check runs in the workers: while both are busy with a long text, /stats still answers at once."""
    long = "SELECT * WHERE { ?s ?p ?o " + " . ?s ?p ?o" * 20000 + " }"
    with httpx.Client(base_url=ro_server.url, timeout=60) as http, \
            concurrent.futures.ThreadPoolExecutor(4) as pool:
        http.get("/stats")  # memoised
        busy = [pool.submit(http.get, "/sparql/check", params={"q": long[:15000]}) for _ in range(2)]
        busy += [pool.submit(http.post, "/sparql", content=long, headers=DIRECT) for _ in range(2)]
        time.sleep(0.3)
        started = time.monotonic()
        assert http.get("/stats").status_code == 200
        assert time.monotonic() - started < 1.0
        for future in busy:
            assert future.result().status_code in (200, 400, 503)


def test_the_pre_check_is_linear(ro_server: LiveServer) -> None:
    """64 KiB and 128 KiB of '.' (5.5 s and 23 s of frozen server before): answered within a second or so."""
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        for _ in range(2):  # both workers ready (an earlier test may have had them replaced)
            assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        for size in (64 * 1024, 128 * 1024):
            started = time.monotonic()
            response = http.post("/sparql", content="." * size, headers=DIRECT)
            assert response.status_code == 400
            assert time.monotonic() - started < 2.0, size


# ---- medium: memory, crashes, time limit of updates -------------------------------------------------------------

def test_a_query_over_the_memory_limit_is_a_clear_503(ro_store: str) -> None:
    doublings = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(26))
    query = f'SELECT (STRLEN(?s26) AS ?n) WHERE {{ BIND("abcdefgh" AS ?s0) {doublings} }}'
    with LiveServer(api_settings(ro_store, worker_memory_mib=512, query_timeout=30.0)) as server:
        started = time.monotonic()
        response = httpx.get(f"{server.url}/sparql", params={"query": query}, timeout=60)
        assert response.status_code == 503, response.text
        assert "more than this endpoint's limit of 512 MiB" in response.text
        assert response.headers["retry-after"]
        assert time.monotonic() - started < 30
        assert httpx.get(f"{server.url}/sparql", params={"query": "ASK {}"}).status_code == 200


def test_a_crashed_worker_costs_one_request(ro_server: LiveServer) -> None:
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    with httpx.Client(base_url=ro_server.url, timeout=30) as http, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(http.get, "/sparql", params={"query": runaway})
        time.sleep(0.5)
        for pid in _worker_pids():
            os.kill(pid, signal.SIGSEGV)
        response = pending.result()
        assert response.status_code in (400, 503)
        assert "crashed" in response.text or "stopped" in response.text
        assert http.get("/sparql", params={"query": "ASK { ?s a lskg:Study }"}).status_code == 200


def test_updates_have_the_time_limit_and_the_prefixes(rw_server: LiveServer) -> None:
    slow = ("INSERT { GRAPH <http://example.org/slow> { ?a <http://example.org/p> ?l } } WHERE "
            "{ GRAPH ?w { ?a ?b ?c } GRAPH ?x { ?d ?e ?f } GRAPH ?y { ?g ?h ?i } GRAPH ?z { ?j ?k ?l } }")
    with httpx.Client(base_url=rw_server.url, timeout=30, headers=AUTH) as http:
        started = time.monotonic()
        response = http.post("/sparql", content=slow, headers=UPDATE)
        assert response.status_code == 503 and "limit of 3 s" in response.text
        assert time.monotonic() - started < 3 + 2
        typed = ('INSERT DATA { GRAPH <http://example.org/typed> { <http://example.org/x> '
                 'lskg:title "1"^^xsd:string } }')
        assert http.post("/sparql", content=typed, headers=UPDATE).status_code == 204
        ask = http.get("/sparql", params={"query": "ASK { GRAPH <http://example.org/slow> { ?s ?p ?o } }"})
        assert ask.json()["boolean"] is False  # the stopped update wrote nothing
        assert http.get("/sparql", params={"query": "ASK { <http://example.org/x> ?p ?o }"}).json()["boolean"]


def test_an_update_enabled_server_holds_the_writer_lock(rw_server: LiveServer, rw_store: str) -> None:
    from lskg.kg.store import StoreLockedError

    with pytest.raises(StoreLockedError) as raised, StoreDir(rw_store).lock(wait=0, holder="test"):
        pass
    assert "lskg serve --allow-update" in raised.value.message


def test_queries_after_updates_never_crash_a_worker(rw_server: LiveServer) -> None:
    """The flaky case of the issue (CLEAR GRAPH, then a query): one read-write worker serves both, in order."""
    with httpx.Client(base_url=rw_server.url, timeout=30, headers=AUTH) as http:
        for n in range(30):
            graph = f"<http://example.org/loop{n % 3}>"
            insert = f"INSERT DATA {{ GRAPH {graph} {{ <http://example.org/s> <http://example.org/p> {n} }} }}"
            assert http.post("/sparql", data={"update": insert}).status_code == 204
            ask = http.get("/sparql", params={"query": f"ASK {{ GRAPH {graph} {{ ?s ?p {n} }} }}"})
            assert ask.status_code == 200 and ask.json()["boolean"] is True
            assert http.post("/sparql", content=f"CLEAR GRAPH {graph}", headers=UPDATE).status_code == 204
            ask = http.get("/sparql", params={"query": f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}"})
            assert ask.status_code == 200 and ask.json()["boolean"] is False


# ---- a stale server --------------------------------------------------------------------------------------------

def test_a_read_only_server_follows_a_copy_on_write_add(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store")
    count = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a lskg:Study }"
    with LiveServer(api_settings(store)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        before = http.get("/studies").json()["total"]
        assert int(http.get("/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"]) \
            == before
        directory = StoreDir(store)
        old = directory.generation()
        extra = tmp_path / "new.jsonl"  # `lskg add`: the studies and what the build derives from them
        extra.write_text(json.dumps({"id": "new-study", "title": "A new study of InSAR time series", "year": 2026,
                                     "abstract": "An LSTM forecast landslide displacement from InSAR time series."})
                         + "\n")
        ingest([extra], Settings(store=store), wait=10)
        assert directory.generation() != old
        rest = http.get("/studies").json()["total"]
        sparql = int(http.get("/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"])
        assert rest == sparql == before + 1
        assert http.get("/health").json()["store"]["generation"] == directory.generation()


def test_idle_workers_let_go_of_an_old_generation(tmp_path: Path) -> None:
    """A read-only server's idle workers close the generation `current` no longer names, so a writer can
    collect it."""
    store = build_store(tmp_path / "store")
    with LiveServer(api_settings(store)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for _ in range(4):
            assert http.get("/sparql", params={"query": "ASK { ?s a lskg:Study }"}).status_code == 200
        directory = StoreDir(store)
        old = directory.generation()
        with directory.lock(wait=10, holder="test add"), directory.update() as writable:
            writable.update("INSERT DATA { GRAPH <https://example.org/g> { <https://example.org/s> "
                            "<https://example.org/p> 1 } }")
        time.sleep(3)  # > the workers' idle check (2 s)
        with directory.lock(wait=10, holder="test collect"):
            directory.collect()
        assert not (Path(store) / old).exists()
        assert http.get("/sparql", params={"query": "ASK { <https://example.org/s> ?p 1 }"}).json()["boolean"]


# ---- the Host header, tokens, the docs UI, /table ---------------------------------------------------------------

def test_the_host_header_cannot_inject(ro_server: LiveServer) -> None:
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        for host in ("evil> . <http://x/a> <http://x/b> <http://x/c", 'x"><script>alert(1)</script>', "a b",
                     "example.org/path", "example.org:80:80"):
            response = http.get("/sparql", headers={"Host": host})
            assert response.status_code == 400, host
            assert http.get("/", headers={"Host": host}).status_code == 400
        good = http.get("/sparql", headers={"Host": "kg.example.org:8443"})
        assert good.status_code == 200 and "<http://kg.example.org:8443/sparql>" in good.text
        assert http.get("/sparql", headers={"Host": "[::1]:8000"}).status_code == 200


def test_the_base_url_setting_wins_over_host(ro_store: str) -> None:
    from fastapi.testclient import TestClient

    from lskg.api import create_app

    with TestClient(create_app(api_settings(ro_store, base_url="https://kg.example.org/"))) as client:
        assert "<https://kg.example.org/sparql>" in client.get("/sparql", headers={"Host": "other.example"}).text


def test_tokens_never_come_from_argv(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lskg.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--store", str(tmp_path), "--allow-update", "--token", "s3cret"])
    assert result.exit_code != 0
    assert "--token was removed" in result.output and "LSKG_UPDATE_TOKEN" in result.output
    empty = tmp_path / "token"
    empty.write_text("\n")
    result = runner.invoke(app, ["serve", "--store", str(tmp_path), "--allow-update", "--token-file", str(empty)])
    assert result.exit_code != 0 and "is empty" in result.output


def test_the_docs_ui_is_served_locally(ro_server: LiveServer) -> None:
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:
        page = http.get("/docs").text
        assert "cdn" not in page.lower() and "https://" not in page.replace("https://fastapi", "")
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert asset in page and http.get(asset).status_code == 200


@pytest.mark.parametrize("rows", ["family", "architecture", "model"])
def test_table_rows_that_are_advertised_work(ro_server: LiveServer, rows: str) -> None:
    response = httpx.get(f"{ro_server.url}/table", params={"rows": rows, "fmt": "csv"}, timeout=60)
    assert response.status_code == 200, response.text


# ---- training once, and a prompt SIGTERM ------------------------------------------------------------------------

def test_training_happens_once_and_sigterm_is_prompt(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store")
    port = free_port()
    env = {**os.environ, "LSKG_STORE": store}
    server = subprocess.Popen([sys.executable, "-m", "lskg", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            started = time.monotonic()
            responses = list(pool.map(lambda _: httpx.get(f"{url}/recommend", params={"data": "InSAR"},
                                                          timeout=30), range(3)))
            assert time.monotonic() - started < 10
        assert [r.status_code for r in responses] == [503, 503, 503]
        assert all(r.headers["retry-after"] for r in responses)
        assert httpx.get(f"{url}/health").json()["training"]["running"] is True
        trainers = [pid for pid in Path("/proc").iterdir() if pid.name.isdigit()
                    and b"lskg.api.training" in _read(pid / "cmdline")]
        assert len(trainers) == 1
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        assert time.monotonic() - started < 3
        time.sleep(0.2)
        assert not any((pid / "cmdline").exists() and b"lskg.api.training" in _read(pid / "cmdline")
                       for pid in trainers)
    finally:
        if server.poll() is None:
            server.kill()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
