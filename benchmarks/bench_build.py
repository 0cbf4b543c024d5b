"""Build benchmark: `lskg build` time and triples/s against pyoxigraph's own bulk load of the same quads.

    python benchmarks/bench_build.py            # embedded corpus + 10,000 synthetic studies
    python benchmarks/bench_build.py --n 2000   # a smaller synthetic corpus

Each measurement runs in a fresh subprocess so peak memory (max RSS) is its own. Also compares hierarchy-aware
queries by property path (what lskg does) with the same query over materialized ancestors.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TEMPLATES = [
    "We propose a {model} for {task} of {ltype} using {data}. The model was compared with {base}.",
    "This study applies {model} to {data} in order to support {task} for {ltype}; results exceed {base}.",
    "{data} were processed with a {model}. Our {task} experiments on {ltype} show gains over {base}.",
]


def synthetic_corpus(path: Path, n: int, seed: int = 0) -> None:
    """n study records whose texts name ontology concepts in varied sentences."""
    from lskg.ontology import concept_index

    index = concept_index()
    labels = {f: [c.pref_label for c in index.facet(f)] for f in ("model", "data", "landslide_type", "task")}
    rng = random.Random(seed)
    with path.open("w") as out:
        for i in range(n):
            text = rng.choice(TEMPLATES).format(
                model=rng.choice(labels["model"]), data=rng.choice(labels["data"]),
                ltype=rng.choice(labels["landslide_type"]), task=rng.choice(labels["task"]),
                base=rng.choice(labels["model"]))
            out.write(json.dumps({"id": f"s{i}", "title": f"Synthetic study {i}", "year": 2015 + i % 11,
                                  "abstract": text}) + "\n")


def _child(kind: str, corpus: str, workdir: str) -> dict:
    """Runs in a subprocess: one measurement, printed as JSON."""
    from lskg.build import build
    from lskg.kg import open_store
    from lskg.settings import Settings

    if kind == "lskg":
        settings = Settings(store=str(Path(workdir) / "store"))
        started = time.perf_counter()
        report = build([corpus] if corpus else None, settings)
        seconds = time.perf_counter() - started
        with open_store(settings.store) as store:
            quads = len(store)
            (Path(workdir) / "dump.nq").write_bytes(store.dump(__import__("pyoxigraph").RdfFormat.N_QUADS))
        return {"seconds": seconds, "quads": quads, "stages": report.seconds}
    if kind == "bulk":
        import pyoxigraph as ox

        started = time.perf_counter()
        store = ox.Store(str(Path(workdir) / "bulk"))
        store.bulk_load(path=str(Path(workdir) / "dump.nq"), format=ox.RdfFormat.N_QUADS)
        store.flush()
        return {"seconds": time.perf_counter() - started, "quads": len(store)}
    if kind == "paths":
        import pyoxigraph as ox

        from lskg.kg.queries import prepare

        store = ox.Store(str(Path(workdir) / "bulk"))
        query = prepare("SELECT ?f (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s lskg:usesModel/skos:broader* ?f . "
                        "?f a lskg:ModelFamily } GROUP BY ?f")
        materialized = prepare("SELECT ?f (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s <urn:bench:usesModelOrBroader> ?f . "
                               "?f a lskg:ModelFamily } GROUP BY ?f")
        started = time.perf_counter()
        closure = store.query(prepare("SELECT ?s ?a WHERE { ?s lskg:usesModel/skos:broader* ?a }"),
                              use_default_graph_as_union=True)
        predicate, graph = ox.NamedNode("urn:bench:usesModelOrBroader"), ox.NamedNode("urn:bench:closure")
        store.extend([ox.Quad(row["s"], predicate, row["a"], graph) for row in closure])
        materialize_s = time.perf_counter() - started

        def answer(q: str) -> set:
            return {(r["f"].value, r["n"].value) for r in store.query(q, use_default_graph_as_union=True)}

        assert answer(query) == answer(materialized), "the materialized closure must give the same counts"

        def timed(q: str) -> float:
            best = float("inf")
            for _ in range(5):
                t = time.perf_counter()
                list(store.query(q, use_default_graph_as_union=True))
                best = min(best, time.perf_counter() - t)
            return best

        return {"path_query_s": timed(query), "materialized_query_s": timed(materialized),
                "materialize_s": materialize_s}
    raise ValueError(kind)


def measure(kind: str, corpus: str, workdir: str) -> dict:
    code = (f"import json,resource,sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from bench_build import _child; "
            f"r=_child({kind!r},{corpus!r},{workdir!r}); r['peak_rss_mb']=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024; "
            "print(json.dumps(r))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(label: str, corpus: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        ours = measure("lskg", corpus, workdir)
        bulk = measure("bulk", corpus, workdir)
        paths = measure("paths", corpus, workdir)
    rate = ours["quads"] / ours["seconds"]
    print(f"\n== {label}")
    print(f"lskg build:        {ours['seconds']:.2f} s, {ours['quads']} quads, {rate:,.0f} quads/s, "
          f"peak RSS {ours['peak_rss_mb']:.0f} MB; stages {ours['stages']}")
    print(f"pyoxigraph bulk:   {bulk['seconds']:.2f} s, {bulk['quads'] / bulk['seconds']:,.0f} quads/s, "
          f"peak RSS {bulk['peak_rss_mb']:.0f} MB")
    print(f"ratio (lskg build / bulk load): {ours['seconds'] / bulk['seconds']:.1f}x")
    print(f"hierarchy query: property path {paths['path_query_s'] * 1000:.1f} ms, materialized "
          f"{paths['materialized_query_s'] * 1000:.1f} ms (materializing took {paths['materialize_s']:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="synthetic studies (default 10000)")
    args = parser.parse_args()
    run("embedded corpus", "")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "synthetic.jsonl"
        synthetic_corpus(corpus, args.n)
        run(f"synthetic corpus, {args.n} studies", str(corpus))


if __name__ == "__main__":
    sys.exit(main())
