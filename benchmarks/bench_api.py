"""HTTP API benchmark: what the guard rails (worker processes, deadlines, caps) cost over pyoxigraph.

    python benchmarks/bench_api.py                    # 10,000 synthetic studies, 3 s per throughput cell
    python benchmarks/bench_api.py --n 2000 --seconds 1 --runs 100

Measured in one run, on 127.0.0.1 only:
* latency p50/p99 of three canned queries (a point lookup, the hierarchy-aware models_for_context, a family x
  data-source aggregation) and of /recommend through the API, against the same call on pyoxigraph / the gnn
  service directly (the overhead ratio), and through a bare ASGI app on the same uvicorn that parses the URL, runs
  the query and sends its answer, nothing else (``bare``: the floor of serving a query over HTTP on this machine);
* throughput and p50/p99 at 1, 8 and 32 concurrent keep-alive clients, against a minimal FastAPI app whose `def`
  handler runs the query and serialises it on pyoxigraph (same store folder), each server in its own process;
  each cell alternates the two servers --rounds times (the --seconds split between them), so background load on
  a shared machine hits both alike.

    python benchmarks/bench_api.py --n 2000 --seconds 3 --throughput lookup --no-recommend   # quick iteration

The client is a small asyncio HTTP/1.1 client on the same machine (so absolute numbers are conservative; the
ratios are what the goals are about). Results are printed and written to artifacts/api/bench_api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = (1, 8, 32)
CELL_CAP_S = 8.0
"""A latency cell stops after this many seconds even before --runs requests (slow queries)."""


# ---- the store --------------------------------------------------------------------------------------------

def build_store(root: Path, n: int) -> dict[str, str]:
    """A store of the ontology + n synthetic studies; returns the canned queries (SPARQL text)."""
    from lskg.gnn.synthetic import synthetic_corpus
    from lskg.kg import mapping
    from lskg.kg.queries import prepare
    from lskg.kg.store import StoreDir
    from lskg.ontology import concept_index, ontology_quads
    from lskg.ontology.terms import FACET_PROPERTIES

    studies = synthetic_corpus(n, seed=0)
    with StoreDir(root).rebuild() as store:
        store.load(ontology_quads())
        store.load(q for item in studies for q in mapping.study_quads(item))
    insar = concept_index().resolve("InSAR", facet="data").iri
    one = mapping.study_iri(studies[n // 2]).value
    return {
        "lookup": f"SELECT ?p ?o WHERE {{ <{one}> ?p ?o }}",
        "models_for_context": prepare("models_for_context", {"data": [insar]}),
        "family_x_data": prepare("family_facet_counts", {"property": FACET_PROPERTIES["data"].value}),
    }


# ---- servers (each in its own process) ------------------------------------------------------------------------

def minimal_app(store_dir: str):  # noqa: ANN201
    """The baseline: FastAPI + pyoxigraph, query and serialise in one threadpool call, nothing else."""
    import pyoxigraph as ox
    from fastapi import FastAPI, Query
    from fastapi.responses import Response

    store = ox.Store.read_only(store_dir)
    app = FastAPI()

    @app.get("/sparql")
    def sparql(query: str = Query()) -> Response:
        result = store.query(query, use_default_graph_as_union=True)
        return Response(result.serialize(format=ox.QueryResultsFormat.JSON),
                        media_type="application/sparql-results+json")

    return app


def bare_app(store_dir: str):  # noqa: ANN201
    """The floor: a bare ASGI app that reads the URL's query, runs it on pyoxigraph and sends the JSON answer, with
    nothing else (no framework, no checks): what serving a query over HTTP costs before any endpoint's own path."""
    from urllib.parse import parse_qs

    import pyoxigraph as ox

    store = ox.Store.read_only(store_dir)

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return
        query = parse_qs(scope["query_string"].decode("latin-1"))["query"][0]
        body = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", b"%d" % len(body)), (b"content-type", b"application/sparql-results+json")]})
        await send({"type": "http.response.body", "body": body})

    return app


def serve(kind: str, store: str, port: int) -> None:
    import uvicorn

    if kind == "lskg":
        from lskg.api import create_app
        from lskg.settings import Settings

        app = create_app(Settings(store=store, query_workers=2, query_timeout=30))
    else:
        from lskg.kg.store import StoreDir

        app = (minimal_app if kind == "minimal" else bare_app)(str(StoreDir(store).current.resolve()))
    # keep-alive well past uvicorn's 5 s default: at 32 clients of a slow query, the first connection warmed sits
    # idle while the others warm up, and a server-side close would end the cell with a broken connection
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_keep_alive=120)


def start_server(kind: str, store: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--store", store, "--port", str(port)])
    deadline = time.monotonic() + 60
    import http.client

    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/sparql?query=" + urllib.parse.quote("ASK {}"))
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {kind} server did not start")


# ---- client -------------------------------------------------------------------------------------------------

async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str) -> int:
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n\r\n"
                 .encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    if status != 200:
        raise RuntimeError(f"HTTP {status} for {target[:80]}")
    return status


async def _load(port: int, target: str, clients: int, seconds: float | None,
                runs: int | None) -> tuple[list[float], float]:
    """Latencies of requests started within ``seconds`` (or the first ``runs``), and the wall time they took.
    Every connection is opened and warmed before the clock starts."""
    latencies: list[float] = []
    connections = [await asyncio.open_connection("127.0.0.1", port, limit=1 << 24) for _ in range(clients)]
    await asyncio.gather(*(_request(r, w, target) for r, w in connections))
    started_all = time.perf_counter()
    stop = started_all + seconds if seconds else None

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        done = 0
        while (stop is None or time.perf_counter() < stop or done == 0) and (runs is None or done < runs):
            started = time.perf_counter()
            await _request(reader, writer, target)
            latencies.append(time.perf_counter() - started)
            done += 1
        writer.close()

    await asyncio.gather(*(client(r, w) for r, w in connections))
    return latencies, time.perf_counter() - started_all


def summary(latencies: list[float] | tuple[list[float], float], seconds: float | None = None) -> dict[str, float]:
    if isinstance(latencies, tuple):
        latencies, seconds = latencies[0], (latencies[1] if seconds else None)
    ordered = sorted(latencies)
    out = {"p50_ms": round(statistics.median(ordered) * 1000, 3),
           "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
           "n": len(ordered)}
    if seconds:
        out["rps"] = round(len(ordered) / seconds, 1)
    return out


def direct_latency(store_dir: str, query: str, runs: int) -> dict[str, float]:
    import pyoxigraph as ox

    store = ox.Store.read_only(store_dir)
    times: list[float] = []
    stop = time.perf_counter() + CELL_CAP_S
    for i in range(runs + 5):
        if time.perf_counter() > stop and len(times) >= 5:
            break
        started = time.perf_counter()
        store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        if i >= 5:
            times.append(time.perf_counter() - started)
    return summary(times)


# ---- main ---------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="synthetic studies")
    parser.add_argument("--runs", type=int, default=200, help="sequential requests per latency cell")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput cell")
    parser.add_argument("--latency-only", action="store_true", help="skip the throughput cells and /recommend")
    parser.add_argument("--throughput", nargs="+", default=["lookup", "models_for_context"],
                        choices=["lookup", "models_for_context", "family_x_data"],
                        help="queries of the throughput cells")
    parser.add_argument("--rounds", type=int, default=3,
                        help="each throughput cell alternates the two servers this many times (seconds split)")
    parser.add_argument("--no-recommend", action="store_true", help="skip /recommend")
    parser.add_argument("--serve", choices=["lskg", "minimal", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.store, args.port)
        return

    from lskg.kg.store import StoreDir

    results: dict[str, object] = {"n_studies": args.n, "cores": os.cpu_count(),
                                  "load_average_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "store")
        started = time.perf_counter()
        queries = build_store(Path(store), args.n)
        live = str(StoreDir(store).current.resolve())
        results["build_s"] = round(time.perf_counter() - started, 2)
        print(f"store: {args.n} studies in {results['build_s']} s")

        latency: dict[str, dict[str, object]] = {}
        for name, text in queries.items():
            latency[name] = {"direct": direct_latency(live, text, args.runs)}
        servers = {"lskg": 18_300 + os.getpid() % 500, "minimal": 18_900 + os.getpid() % 500}
        floor = {"bare": 19_500 + os.getpid() % 500}  # latency cells only
        processes = {kind: start_server(kind, store, port) for kind, port in {**servers, **floor}.items()}
        try:
            for name, text in queries.items():
                target = "/sparql?query=" + urllib.parse.quote(text)
                for kind, port in {**servers, **floor}.items():
                    latency[name][kind] = summary(asyncio.run(_load(port, target, 1, CELL_CAP_S, args.runs)))
                direct = latency[name]["direct"]["p50_ms"]
                api = latency[name]["lskg"]["p50_ms"]
                latency[name]["api_minus_direct_ms"] = round(api - direct, 3)
                latency[name]["bare_minus_direct_ms"] = round(latency[name]["bare"]["p50_ms"] - direct, 3)
                latency[name]["api_over_direct"] = round(api / direct, 2) if direct else None
            results["latency_c1"] = latency

            for name, cell in latency.items():
                print(f"{name} c=1 p50: direct {cell['direct']['p50_ms']} ms, lskg {cell['lskg']['p50_ms']} ms, "
                      f"minimal {cell['minimal']['p50_ms']} ms, bare ASGI {cell['bare']['p50_ms']} ms")
            throughput: dict[str, dict[str, object]] = {}
            for name in () if args.latency_only else args.throughput:
                target = "/sparql?query=" + urllib.parse.quote(queries[name])
                for clients in CONCURRENCY:
                    cell: dict[str, object] = {}
                    runs: dict[str, tuple[list[float], float]] = {kind: ([], 0.0) for kind in servers}
                    for _ in range(args.rounds):  # alternate the servers: background noise hits both alike
                        for kind, port in servers.items():
                            lat, wall = asyncio.run(_load(port, target, clients, args.seconds / args.rounds, None))
                            runs[kind] = (runs[kind][0] + lat, runs[kind][1] + wall)
                    for kind in servers:
                        cell[kind] = summary(runs[kind], args.seconds)
                    cell["rps_ratio"] = round(cell["lskg"]["rps"] / cell["minimal"]["rps"], 2)  # type: ignore[index]
                    cell["p99_ratio"] = round(cell["lskg"]["p99_ms"] / cell["minimal"]["p99_ms"], 2)  # type: ignore[index]
                    throughput[f"{name}@c{clients}"] = cell
                    print(f"{name} c={clients}: {cell}")
            results["throughput"] = throughput
            results["load_average_after"] = os.getloadavg()[0]
            print(f"load average (1 min): {results['load_average_before']:.2f} before, "
                  f"{results['load_average_after']:.2f} after (a shared machine: ratios, not absolutes)")

            if not (args.latency_only or args.no_recommend):
                results["recommend"] = recommend_latency(store, servers["lskg"], max(20, args.runs // 10))
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=10)
    out = ROOT / "artifacts" / "api" / "bench_api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")


def recommend_latency(store: str, port: int, runs: int) -> dict[str, object]:
    """/recommend through the API against service.recommend in this process (the model is trained/loaded first)."""
    try:
        from lskg.gnn import service
    except ImportError as exc:
        return {"skipped": f"no recommender: {exc}"}
    from lskg.kg import open_store
    from lskg.settings import Settings

    settings = Settings(store=store)
    params = {"data": ["InSAR time series"], "landslide_type": ["creeping"], "task": ["displacement prediction"]}
    cache = service.GraphCache()  # as the API keeps one: the snapshot and the model are loaded once
    with open_store(store) as handle:
        service.recommend(handle, settings, cache=cache, **params)  # trains and saves the artefact if needed
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            service.recommend(handle, settings, cache=cache, **params)
            times.append(time.perf_counter() - started)
    target = "/recommend?" + urllib.parse.urlencode(params, doseq=True)
    asyncio.run(_load(port, target, 1, None, 3))  # the server loads the model (or trains it)
    api = summary(asyncio.run(_load(port, target, 1, None, runs)))
    direct = summary(times)
    return {"direct": direct, "lskg": api, "api_minus_direct_ms": round(api["p50_ms"] - direct["p50_ms"], 3)}


if __name__ == "__main__":
    main()
