"""Named-query latency at scale: every ``kg/queries/*.rq`` on a store of N synthetic studies, with its budget.

    python benchmarks/bench_queries.py                     # 10,000 studies (built once into --store, reused)
    python benchmarks/bench_queries.py --n 1000 --runs 9
    python benchmarks/bench_queries.py --closure           # also: each hierarchy query over a materialized closure

The store is what ``lskg build`` writes (the ontology, one named graph per study and the build-time aggregates with
the study-level hierarchy closure and listing order, on disk, opened read-only as the API's workers open it),
filled from ``lskg.gnn.synthetic`` (correlated facts, no extraction: seconds to build). A store built by an older
lskg is rebuilt when its aggregates are not the version this lskg derives (``lskg.kg.aggregates.VERSION``).
Each query runs with representative parameters (InSAR, slow-moving landslides, RNN, a study that exists, ...);
p50 over ``--runs`` runs after one warm-up, in CPU seconds of the querying process (steady on a shared machine:
a query runs in the calling thread) with the wall-clock p50 beside it. Budgets (issue 13): 50 ms for interactive queries, 200 ms for
the facet-pair counts behind gap maps; whole-graph exports (``store_*``, ``api_graph_get``), the recommender's
snapshot reads (``gnn_*``) and the scans that define the build-time aggregates (``aggregate_*``, run by the build
and by every add, not by readers) have none.

Baselines in the same run: ``--closure`` materializes the concept hierarchy (``<concept> urn:bench:broaderOrSelf
<ancestor>``, self included) in a graph of its own and runs every query that still walks ``skos:broader*``
rewritten to use it, checking both give the same rows; ``--baseline DIR`` runs the .rq files of another folder (e.g. the
queries before a rewrite) on the same store and checks they answer the same.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
INTERACTIVE_MS = 50.0
FACET_PAIR_MS = 200.0
FACET_PAIR_QUERIES = {"facet_pair_counts", "family_facet_counts"}
BULK = ("store_", "gnn_", "api_graph_get", "aggregate_")
CLOSURE = "urn:bench:broaderOrSelf"
PAGE = 50  # the page size of /studies


def budget(name: str) -> float | None:
    if name.startswith(BULK):
        return None
    return FACET_PAIR_MS if name in FACET_PAIR_QUERIES else INTERACTIVE_MS


def build_store(root: Path, n: int) -> None:
    from lskg.gnn.synthetic import synthetic_corpus
    from lskg.kg import mapping
    from lskg.kg.aggregates import aggregate_quads
    from lskg.kg.store import StoreDir
    from lskg.ontology import ontology_quads

    started = time.perf_counter()
    studies = synthetic_corpus(n, seed=0)
    with StoreDir(root).rebuild() as store:
        store.load(ontology_quads())
        store.load(q for item in studies for q in mapping.study_quads(item))
        started_aggregates = time.process_time()
        store.load(aggregate_quads(store))
        aggregates_s = time.process_time() - started_aggregates
    print(f"aggregates: {aggregates_s:.1f} CPU s", file=sys.stderr)
    print(f"built {n} synthetic studies into {root} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def current(root: Path) -> bool:
    """Whether the store's aggregates are the ones this lskg derives (a store built by an older lskg lacks the
    study-level closure, or has the oldest-first order: the queries would answer otherwise)."""
    from lskg.kg.aggregates import VERSION, written_versions
    from lskg.kg.store import StoreDir

    with StoreDir(root).open_reader() as store:
        return written_versions(store) == [str(VERSION)]


def parameters(store) -> dict:
    """One representative value per parameter name used by the named queries."""
    from lskg.ontology import concept_index
    from lskg.ontology.terms import LSKG, ONTOLOGY_GRAPH, SCHEME

    index = concept_index()

    def concept(label: str, facet: str) -> str:
        return index.resolve(label, facet=facet).iri

    busy = store.select("SELECT ?s (COUNT(?c) AS ?n) WHERE { ?s a lskg:Study ; lskg:usesModel ?c } "
                        "GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 1")[0]["s"]
    model = store.select(f"SELECT ?c WHERE {{ {busy} lskg:usesModel ?c }} ORDER BY ?c LIMIT 1")[0]["c"]
    return {
        "data": concept("InSAR", "data"), "landslide_type": concept("slow-moving landslide", "landslide_type"),
        "task": concept("displacement prediction", "task"), "model": concept("RNN", "model"),
        "family": concept("RNN", "model"), "about": concept("InSAR", "data"), "study": busy, "concept": model,
        "property": LSKG.usesData.value, "property_a": LSKG.usesData.value,
        "property_b": LSKG.targetsLandslideType.value, "target": LSKG.usesModel.value,
        "scheme": SCHEME["ModelFamily"].value, "year": 2021, "facet_pair": "model-data",
        "method_step": concept("feature selection", "task"), "graph": ONTOLOGY_GRAPH.value, "limit": PAGE,
    }


def bound_params(query, values: dict) -> dict:
    """Required parameters, and the ones an interactive caller typically sets: a context (data), and the page size
    of a listing (/studies, /ask and the web page list a page at a time)."""
    return {k: values[k] for k, p in query.params.items() if not p.optional or k in ("data", "limit")}


def answer(result) -> list:
    """A query's rows, or ``[True]``/``[False]`` for an ASK query."""
    return [bool(result)] if isinstance(result, ox.QueryBoolean) else list(result)


def timed(store, text: str, runs: int) -> tuple[list[float], list]:
    """Seconds per run (CPU seconds of this process: a query runs in the calling thread, and on a machine shared
    with other work CPU time is the steadier measure; wall-clock p50 is reported beside it)."""
    rows = answer(store.query(text))  # warm-up, and the answer
    times, walls = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        answer(store.query(text))
        times.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
        if sum(walls) > 20:
            break
    timed.wall = walls  # type: ignore[attr-defined]
    return times, rows


def canonical(rows: list) -> list[str]:
    if rows and not hasattr(rows[0], "__getitem__"):
        return sorted(str(r) for r in rows)
    return sorted(json.dumps([str(v) for v in row]) for row in rows)


def closure_text(text: str) -> str:
    """The query with every ``skos:broader*`` step read from the materialized closure instead."""
    return text.replace("skos:broader*", f"<{CLOSURE}>")


def materialize_closure(store) -> float:
    from lskg.kg.queries import prepare

    started = time.perf_counter()
    rows = store.native.query(prepare("SELECT DISTINCT ?c ?a WHERE { ?c skos:broader* ?a . "
                                      "?c skos:inScheme ?s }"), use_default_graph_as_union=True)
    graph, predicate = ox.NamedNode("urn:bench:closure"), ox.NamedNode(CLOSURE)
    store.native.extend([ox.Quad(r["c"], predicate, r["a"], graph) for r in rows])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--store", type=Path, default=None, help="store folder (built if missing)")
    parser.add_argument("--closure", action="store_true", help="compare with a materialized hierarchy closure")
    parser.add_argument("--baseline", type=Path, help="a folder of .rq files to compare with (same names)")
    parser.add_argument("--memory", action="store_true",
                        help="query an in-memory copy of the store (what an API worker could serve from)")
    parser.add_argument("--only", nargs="*", help="query names")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    from lskg.kg.queries import _parse, list_queries, named_query, prepare
    from lskg.kg.store import EmbeddedStore, StoreDir
    from lskg.ontology.terms import sparql_prefixes

    root = args.store or Path(f"/tmp/lskg-bench-queries-{args.n}")
    if not StoreDir(root).exists() or not current(root):
        build_store(root, args.n)
    folder = StoreDir(root).current.resolve()
    store = EmbeddedStore(folder, read_only=True)
    if args.memory:
        started = time.perf_counter()
        memory = EmbeddedStore(None)
        memory.native.load(store.native.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
        print(f"copied the store into memory in {time.perf_counter() - started:.1f} s")
        store = memory
    values = parameters(store)
    closure_s, other_store = None, store
    if args.closure:  # a copy of the store with the closure added (the measured store stays as built)
        copy = root.parent / f"{root.name}-closure"
        if copy.exists():
            __import__("shutil").rmtree(copy)
        store.native.backup(str(copy))
        with EmbeddedStore(copy) as writable:
            closure_s = materialize_closure(writable)
        other_store = EmbeddedStore(copy, read_only=True)
        print(f"materialized the hierarchy closure in {closure_s * 1000:.0f} ms")

    results, failures = [], 0
    print(f"{'query':28} {'p50 ms':>9} {'wall ms':>9} {'budget':>7} {'rows':>7}  baseline p50 ms (baseline/this)")
    for name in args.only or list_queries():
        query = named_query(name)
        params = bound_params(query, values)
        text = prepare(name, params)
        times, rows = timed(store, text, args.runs)
        wall = statistics.median(timed.wall) * 1000  # type: ignore[attr-defined]
        p50 = statistics.median(times) * 1000
        limit = budget(name)
        ok = limit is None or p50 <= limit
        failures += not ok
        row = {"query": name, "p50_ms": round(p50, 2), "wall_p50_ms": round(wall, 2), "budget_ms": limit,
               "rows": len(rows), "ok": ok, "params": sorted(params)}
        compare = ""
        other, page = None, False
        if args.baseline and (args.baseline / f"{name}.rq").exists():
            old = _parse(name, (args.baseline / f"{name}.rq").read_text(encoding="utf-8"))
            from lskg.kg.queries import bind

            other = bind(old, {k: v for k, v in params.items() if k in old.params})
            page = "limit" in params and "limit" not in old.params
        elif args.closure and "skos:broader*" in query.text:
            other = sparql_prefixes() + closure_text(text[len(sparql_prefixes()):])
        if other is not None:
            other_times, other_rows = timed(other_store, other, args.runs)
            if page:  # the baseline lists every row: compare its first page
                other_rows = other_rows[:params["limit"]]
            other_p50 = statistics.median(other_times) * 1000
            same = canonical(other_rows) == canonical(rows)
            row.update(baseline_p50_ms=round(other_p50, 2), same_answer=same)
            compare = f"{other_p50:9.1f} ({other_p50 / p50:.1f}x){'' if same else '  DIFFERENT ANSWER'}"
        results.append(row)
        print(f"{name:28} {p50:9.1f} {wall:9.1f} {limit or '-':>7} {len(rows):7d}  {compare}"
              f"{'' if ok else '  OVER BUDGET'}", flush=True)
    print(f"{failures} interactive queries over budget")
    if args.json:
        args.json.write_text(json.dumps({"n": args.n, "closure_s": closure_s, "results": results}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
