"""Recommender benchmark on the 10,000-study synthetic graph: graph export, training time, recommend latency.

    .venv/bin/python benchmarks/bench_gnn.py [--studies 10000] [--eval]
    .venv/bin/python benchmarks/bench_gnn.py --store /tmp/gnn-store   # latency on a built graph

``--store`` measures, on a graph built by ``lskg build``: ``train_for_store`` (what the build calls), then the
p50 / p90 latency of ``service.recommend`` over a set of realistic contexts with the saved model (the first call
after training included separately), for the default recommender and for each one named with ``--recommenders``.

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
    args = parser.parse_args()
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
            service.clear_cache()
            train(snap, settings, recommender=name)
            service.recommend(store, settings, **query)  # loads the artefact once
            latency, result = clock(lambda s=settings: service.recommend(store, s, **query), repeat=20)
            print(f"recommend latency ({name}, cached model, with evidence) {latency * 1000:.1f} ms; "
                  f"first family {result['families'][0]['label']}")
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
            service.clear_cache()
            t_train, model = clock(lambda s=settings, n=name: train_for_store(store, s, lambda *a: None,
                                                                               recommender=n))
            service.clear_cache()
            started = time.perf_counter()
            service.recommend(store, settings, **QUERIES[0])  # first request: loads the saved artefact
            first = time.perf_counter() - started
            times = []
            for _ in range(5):
                for query in QUERIES:
                    started = time.perf_counter()
                    service.recommend(store, settings, **query)
                    times.append(time.perf_counter() - started)
            times.sort()
            p50, p90 = statistics.median(times), times[int(0.9 * (len(times) - 1))]
            print(f"{name:12s} -> {model.artifact.recommender:14s} train_for_store {t_train:6.1f} s; first recommend "
                  f"{first * 1000:6.0f} ms; recommend p50 {p50 * 1000:5.1f} ms, p90 {p90 * 1000:5.1f} ms "
                  f"({len(times)} calls, {len(service.snapshot(store))} studies)")
            print(f"  {model.sentence}")
            assert artifacts.artifact_path(settings).exists()


if __name__ == "__main__":
    main()
