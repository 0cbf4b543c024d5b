"""Guard rails: the query time limit (worker killed, others still served), the row and byte caps (errors, never
truncation), overload (503 + Retry-After), and SERVICE/LOAD refused with no request leaving the server."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from tests.api.conftest import LiveServer, api_settings

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
STREAMING_RUNAWAY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
STUDIES = "SELECT ?s WHERE { ?s a lskg:Study }"


@pytest.fixture(scope="module")
def limited(api_store: str) -> Iterator[LiveServer]:
    settings = api_settings(api_store, query_timeout=1.0, query_workers=2, query_queue=2, max_rows=2,
                            max_result_bytes=1_000_000)
    with LiveServer(settings) as server:
        yield server


def test_runaway_query_times_out_while_others_are_served(limited: LiveServer) -> None:
    with httpx.Client(base_url=limited.url, timeout=30) as http, concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = time.monotonic()
        runaway = pool.submit(http.get, "/sparql", params={"query": RUNAWAY})
        time.sleep(0.1)
        quick = [http.get("/sparql", params={"query": "ASK { ?s a lskg:Study }"}) for _ in range(5)]
        assert all(r.status_code == 200 and r.json()["boolean"] for r in quick)
        served_at = time.monotonic() - started
        response = runaway.result()
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "limit of 1 s" in response.text and response.headers["retry-after"]
    assert elapsed < 1.0 + 1.5
    assert served_at < 1.0  # the other client did not wait for the runaway
    # the killed worker is replaced: the endpoint keeps answering, with both workers
    for _ in range(4):
        assert httpx.get(f"{limited.url}/sparql", params={"query": "ASK {}"}).status_code == 200


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_row_cap_is_an_error_not_truncation(limited: LiveServer, accept: str) -> None:
    response = httpx.get(f"{limited.url}/sparql", params={"query": STUDIES}, headers={"Accept": accept})
    assert response.status_code == 413
    assert "4 rows" in response.text and "cap of 2" in response.text
    within = httpx.get(f"{limited.url}/sparql", params={"query": STUDIES + " LIMIT 2"}, headers={"Accept": accept})
    assert within.status_code == 200


def test_graph_results_are_capped_too(limited: LiveServer) -> None:
    response = httpx.get(f"{limited.url}/sparql", params={"query": "CONSTRUCT WHERE { ?s a lskg:Study }"})
    assert response.status_code == 413 and "cap of 2" in response.text


def test_streaming_runaway_never_answers_200(limited: LiveServer) -> None:
    response = httpx.get(f"{limited.url}/sparql", params={"query": STREAMING_RUNAWAY}, timeout=30)
    assert response.status_code in (413, 503)
    assert response.headers["content-type"].startswith("text/plain")


def test_overload_answers_503_with_retry_after(limited: LiveServer) -> None:
    """2 workers busy and 2 requests waiting: the next one is refused at once."""
    with httpx.Client(base_url=limited.url, timeout=30, limits=httpx.Limits(max_connections=10)) as http, \
            concurrent.futures.ThreadPoolExecutor(4) as pool:
        busy = [pool.submit(http.get, "/sparql", params={"query": RUNAWAY}) for _ in range(4)]
        time.sleep(0.3)
        started = time.monotonic()
        refused = http.get("/sparql", params={"query": "ASK {}"})
        assert time.monotonic() - started < 0.5
        assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
        statuses = sorted(f.result().status_code for f in busy)
    assert statuses == [503, 503, 503, 503]  # the runaways time out; none hangs
    assert httpx.get(f"{limited.url}/sparql", params={"query": "ASK {}"}).status_code == 200


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def test_service_and_load_never_reach_the_network(live_server: LiveServer) -> None:
    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/sparql"
        # the listener works: pyoxigraph on its own does call it
        with pytest.raises(OSError):
            list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
        time.sleep(0.2)
        assert listener.connections == 1
        listener.connections = 0
        queries = [
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SeRvIcE<{url}>{{?s ?p ?o}} }} }} }} # comment",
            f"PREFIX x: <{url}> SELECT * WHERE {{ ?s ?p \"SERVICE\" . SERVICE x: {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        ]
        with httpx.Client(base_url=live_server.url) as http:
            for query in queries:
                for response in (http.get("/sparql", params={"query": query}),
                                 http.post("/sparql", content=query,
                                           headers={"Content-Type": "application/sparql-query"})):
                    assert response.status_code == 400, query
                    assert "SERVICE" in response.text
            check = http.get("/sparql/check", params={"q": queries[0]}).json()
            assert check["ok"] is False
            load = http.post("/sparql", data={"update": f"LOAD <{url}>"})
            assert load.status_code in (400, 403)
        time.sleep(0.3)
        assert listener.connections == 0
    finally:
        listener.close()


def test_job_queued_behind_a_runaway_is_answered(limited: LiveServer) -> None:
    """Both workers start runaways and a quick query is queued behind one of them (pipelining): when the runaway
    is killed at the deadline, the quick query goes to another worker and is answered, not lost or timed out."""
    with httpx.Client(base_url=limited.url, timeout=30, limits=httpx.Limits(max_connections=10)) as http, \
            concurrent.futures.ThreadPoolExecutor(3) as pool:
        busy = [pool.submit(http.get, "/sparql", params={"query": RUNAWAY}) for _ in range(2)]
        quick = pool.submit(http.get, "/sparql", params={"query": "ASK { ?s a lskg:Study }"})
        answer = quick.result()
        statuses = sorted(f.result().status_code for f in busy)
    assert answer.status_code == 200 and answer.json()["boolean"] is True
    assert statuses == [503, 503]


def test_a_worker_that_died_unnoticed_is_not_given_a_job(api_store: str) -> None:
    """A worker killed while idle is dead before the server has read its socket's end: a job sent to it then
    would be answered 'crashed' though it never ran. The pool tries a crashed job once more on another worker."""
    import asyncio

    from lskg.api.pool import ProcessPool
    from lskg.api.worker import Kind, Limits, QueryJob, Reply
    from lskg.kg.store import StoreDir

    store_dir = StoreDir(api_store)

    async def scenario() -> Reply:
        pool = ProcessPool(lambda: (str(store_dir.root), store_dir.generation()), size=2, timeout=30,
                           max_queue=8, limits=Limits())
        await pool.start()
        try:
            victim = next(w for w in pool._workers if not w.inflight)
            victim.process.kill()
            victim.process.wait()  # dead and reaped, and the event loop has not run since
            return await pool.run(QueryJob("ASK { ?s ?p ?o }", results_format=("JSON", "application/json")))
        finally:
            await pool.close()

    reply = asyncio.run(scenario())
    assert reply.kind is Kind.ANSWER and b"true" in reply.body


def test_a_job_that_crashes_two_workers_is_answered_as_a_crash(api_store: str) -> None:
    """The retry after a crash is one: a job whose second worker crashes too gets the crash (400), and the pool
    has started fresh workers in place of both."""
    import asyncio
    import signal

    from lskg.api.errors import WorkerCrashedError
    from lskg.api.pool import ProcessPool
    from lskg.api.worker import Limits, QueryJob
    from lskg.kg.store import StoreDir

    store_dir = StoreDir(api_store)
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

    async def scenario() -> tuple[BaseException | None, int, int]:
        pool = ProcessPool(lambda: (str(store_dir.root), store_dir.generation()), size=2, timeout=30,
                           max_queue=8, limits=Limits())
        await pool.start()
        try:
            task = asyncio.ensure_future(pool.run(QueryJob(runaway, results_format=("JSON", "application/json"))))
            crashed: set[int] = set()
            while len(crashed) < 2 and not task.done():
                await asyncio.sleep(0.2)
                for worker in list(pool._workers):
                    if worker.inflight and worker.process.pid not in crashed:
                        crashed.add(worker.process.pid)
                        worker.process.send_signal(signal.SIGSEGV)
            try:
                await asyncio.wait_for(task, 20)
                error = None
            except BaseException as exc:  # noqa: BLE001 - the error is what is asserted
                error = exc
            return error, len(crashed), pool.replaced
        finally:
            await pool.close()

    error, crashed, replaced = asyncio.run(scenario())
    assert crashed == 2 and replaced == 2
    assert isinstance(error, WorkerCrashedError), error
