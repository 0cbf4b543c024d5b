"""Recommender benchmark on the 10,000-study synthetic graph: graph export, training time, recommend latency.

    .venv/bin/python benchmarks/bench_gnn.py [--studies 10000] [--eval]
    .venv/bin/python benchmarks/bench_gnn.py --store /tmp/gnn-store   # latency on a built graph
    .venv/bin/python benchmarks/bench_gnn.py --api /tmp/gnn-store     # first /recommend of a fresh server

``--store`` measures, on a graph built by ``lskg build``: ``train_for_store`` (what the build calls), then the
p50 / p90 latency of ``service.recommend`` over a set of realistic contexts with the saved model (the first call
after training included separately), for the default recommender and for each one named with ``--recommenders``.

``--api`` starts the app (TestClient, real query workers) on a store built by ``lskg build`` and times the first
``/recommend`` and the p50 of the next ones, twice in the same run: as served (the snapshot ``lskg build`` saved is
loaded beside start-up) and with that snapshot hidden (the graph read through SPARQL inside the first request,
as before it was saved). The baseline is a SPARQL lookup through ``/sparql`` (the named query
``models_for_context``) in the same server: its first request and its p50.

Prints seconds and ratios against the context co-occurrence baseline. ``--eval`` also runs the full evaluation
(temporal + random split, 5 seeds, every recommender) and writes it to benchmarks/results/eval_gnn.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from lskg.gnn import service
from lskg.gnn.registry import create
from lskg.gnn.snapshot import Snapshot, to_heterodata
from lskg.gnn.synthetic import synthetic_corpus
from lskg.gnn.train import train
from lskg.kg import open_store
from lskg.kg.mapping import study_quads
from lskg.ontology import ontology_quads
from lskg.settings import Settings


def clock(fn, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--store", help="a store built by `lskg build`: measure recommend latency on it")
    parser.add_argument("--recommenders", default="", help="with --store: also time these (comma-separated)")
    parser.add_argument("--api", help="a store built by `lskg build`: first /recommend and p50 through the app")
    args = parser.parse_args()
    if args.api:
        api_latency(args.api)
        return
    if args.store:
        built_graph_latency(args.store, [n for n in args.recommenders.split(",") if n])
        return

    store = open_store(None)
    store.load(ontology_quads())
    t_gen, corpus = clock(lambda: synthetic_corpus(args.studies, seed=0))
    t_load, _ = clock(lambda: store.load(q for item in corpus for q in study_quads(item)))
    t_export, snap = clock(lambda: Snapshot.from_store(store), repeat=3)
    import numpy as np

    everything = np.flatnonzero(snap.usable())
    t_hetero, graph = clock(lambda: to_heterodata(snap, everything), repeat=3)
    print(f"graph: {len(snap)} studies, {len(store)} quads; generate {t_gen:.2f} s, load {t_load:.2f} s")
    print(f"export (SPARQL -> snapshot) {t_export:.2f} s; HeteroData {t_hetero:.3f} s; "
          f"{sum(graph[e].edge_index.shape[1] for e in graph.edge_types)} edges")

    fits = {}
    for name, options in (("cooccurrence", {}), ("knn", {}), ("mf", {}), ("gnn", {"members": 1}),
                          ("hybrid", {}), ("hybrid-counts-only", {"use_gnn": False}),
                          ("gnn-ensemble-5", {"members": 5})):
        rec = create(name.split("-")[0], **options)
        fits[name], _ = clock(lambda rec=rec: rec.fit(snap, everything, seed=0))
        print(f"fit {name:16s} {fits[name]:7.2f} s   ({fits[name] / max(fits['cooccurrence'], 1e-9):,.0f}x "
              f"co-occurrence)")

    with tempfile.TemporaryDirectory() as tmp:
        query = {"data": ["InSAR time series"], "landslide_type": ["slow-moving"], "task": ["displacement prediction"]}
        for name in ("cooccurrence", "gnn"):
            settings = Settings(store=str(Path(tmp) / name), artifacts=str(Path(tmp) / name / "models"))
            cache = service.GraphCache()
            train(snap, settings, recommender=name)
            service.recommend(store, settings, cache=cache, **query)  # loads the artefact once
            latency, result = clock(lambda s=settings, c=cache: service.recommend(store, s, cache=c, **query),
                                    repeat=20)
            assert result is not None
            print(f"recommend latency ({name}, cached model, with evidence) {latency * 1000:.1f} ms; "
                  f"first family {result.families[0].label}")
    if args.eval:
        from lskg.gnn import evaluate as ev

        t_eval, report = clock(lambda: ev.public(ev.evaluate(snap)))
        out = Path(__file__).parent / "results" / "eval_gnn.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=float))
        print(f"evaluation {t_eval:.1f} s -> {out}")


QUERIES = [
    {"data": ["InSAR time series"], "landslide_type": ["slow-moving"], "task": ["displacement prediction"]},
    {"data": ["optical satellite imagery"], "task": ["semantic segmentation"]},
    {"data": ["conditioning factor"], "task": ["susceptibility mapping"]},
    {"data": ["GNSS"], "landslide_type": ["rockfall"]},
    {"data": ["UAV imagery"], "landslide_type": ["debris flow"], "task": ["landslide detection"]},
    {"data": ["rainfall data"], "task": ["early warning"]},
    {"data": ["Landslide4Sense"]},
    {"task": ["change detection"]},
]


def built_graph_latency(store_path: str, names: list[str]) -> None:
    from lskg.gnn import artifacts
    from lskg.gnn.train import train_for_store

    store = open_store(store_path, read_only=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["auto", *names]:
            settings = Settings(store=store_path, artifacts=str(Path(tmp) / name))
            t_train, model = clock(lambda s=settings, n=name: train_for_store(store, s, lambda *a: None,
                                                                               recommender=n))
            cache = service.GraphCache()
            started = time.perf_counter()
            service.recommend(store, settings, cache=cache, **QUERIES[0])  # first request: loads what was saved
            first = time.perf_counter() - started
            times = []
            for _ in range(5):
                for query in QUERIES:
                    started = time.perf_counter()
                    service.recommend(store, settings, cache=cache, **query)
                    times.append(time.perf_counter() - started)
            times.sort()
            p50, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
            print(f"{name:12s} -> {model.artifact.recommender:14s} train_for_store {t_train:6.1f} s; first recommend "
                  f"{first * 1000:6.0f} ms; recommend p50 {p50 * 1000:5.1f} ms, p90 {p90 * 1000:5.1f} ms "
                  f"({len(times)} calls, {len(model.snapshot)} studies)")
            print(f"  {model.sentence}")
            assert artifacts.artifact_path(settings).exists()


def api_latency(store_path: str) -> None:
    """First /recommend and p50 of a fresh server on a built store, with its saved snapshot and without, against a
    SPARQL lookup through /sparql in the same server."""
    import shutil

    from fastapi.testclient import TestClient

    from lskg.api import create_app
    from lskg.gnn import snapshot as snapshots
    from lskg.kg import queries
    from lskg.ontology.terms import DATA, LANDSLIDE, TASK

    settings = Settings(store=store_path, query_workers=2)
    saved = snapshots.saved_path(settings)
    if not (saved.exists() and (settings.artifact_dir / "recommender").exists()):
        raise SystemExit(f"no saved recommender and snapshot under {settings.artifact_dir}: run `lskg build` "
                         f"(or `lskg train`) on {store_path} first")
    lookup = queries.prepare("models_for_context", {"data": [DATA.InSARTimeSeries], "landslide_type": [
        LANDSLIDE.SlowMovingLandslide], "task": [TASK.DisplacementPrediction]})
    params = QUERIES

    def timed(client: TestClient, call) -> float:
        started = time.perf_counter()
        response = call(client)
        assert response.status_code == 200, response.text[:300]
        return time.perf_counter() - started

    def run(label: str, app_settings: Settings) -> dict[str, float]:
        started = time.perf_counter()
        with TestClient(create_app(app_settings)) as client:
            startup = time.perf_counter() - started
            first = timed(client, lambda c: c.get("/recommend", params=params[0]))
            sparql_first = timed(client, lambda c: c.post("/sparql", content=lookup, headers={
                "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}))
            rec = sorted(timed(client, lambda c, q=q: c.get("/recommend", params=q)) for q in params * 3)
            spq = sorted(timed(client, lambda c: c.post("/sparql", content=lookup, headers={
                "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}))
                for _ in range(len(rec)))
        row = {"startup": startup, "first": first, "p50": statistics.median(rec), "sparql_first": sparql_first,
               "sparql_p50": statistics.median(spq)}
        print(f"{label:34s} start-up {startup:5.2f} s; first /recommend {first * 1000:6.0f} ms; /recommend p50 "
              f"{row['p50'] * 1000:5.1f} ms | /sparql lookup: first {sparql_first * 1000:5.0f} ms, p50 "
              f"{row['sparql_p50'] * 1000:5.1f} ms | first /recommend = {first / row['sparql_p50']:.1f}x the "
              f"lookup's p50, p50 = {row['p50'] / row['sparql_p50']:.1f}x")
        return row

    served = run("as built (saved snapshot)", settings)
    with tempfile.TemporaryDirectory() as tmp:  # the same artefact without the saved snapshot
        shutil.copytree(settings.artifact_dir / "recommender", Path(tmp) / "recommender")
        hidden = run("snapshot hidden (read via SPARQL)", settings.model_copy(update={"artifacts": tmp}))
    print(f"first /recommend: {hidden['first'] / served['first']:.1f}x faster with the saved snapshot "
          f"({hidden['first'] * 1000:.0f} -> {served['first'] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
