"""Recommender benchmark on the 10,000-study synthetic graph: graph export, training time, recommend latency.

    .venv/bin/python benchmarks/bench_gnn.py [--studies 10000] [--eval]

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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
