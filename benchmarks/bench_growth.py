"""Growth curve: build, extraction, validation, peak memory, named-query and recommend latency at 1k, 10k (30k)
studies of real-length text, each against a baseline measured in the same run.

    python benchmarks/bench_growth.py                       # 1,000 and 10,000 studies
    python benchmarks/bench_growth.py --sizes 1000 10000 30000 --json benchmarks/results/growth.json
    python benchmarks/bench_growth.py --sizes 1000 10000 --skip reference queries recommend   # the build only

The corpus is the embedded one (``lskg/data/corpus``: published abstracts and review summaries, ~140 words a
study) repeated to N studies (each copy with its own id and title, no DOI, so none is merged away). Per size, in
fresh subprocesses (so peak RSS is each phase's own):

* ``build``: ``lskg.build.build`` as ``lskg build`` runs it (extract in ``--workers`` processes while this process
  maps each study into an in-memory staging store as it arrives, so the "extract" stage includes most of the
  mapping; validate there with the SPARQL SHACL engine; write to disk with one bulk load), with its
  stage timings, wall clock and CPU seconds (the process and its extraction workers). Baseline: pyoxigraph's
  ``bulk_load`` of the same quads (an N-Quads dump of the built store) into a fresh on-disk store. At the
  smallest size, pySHACL (the reference engine) validates the same graph too, and extraction alone runs in one
  process and in ``--workers`` processes, for the speed-up.
* ``queries``: CPU p50 of every named query (``bench_queries``) on the built store, opened read-only on disk as the
  API's workers open it; summary: the slowest interactive query and those over budget.
* ``recommend``: ``service.recommend`` p50 over the realistic contexts of ``bench_gnn`` with the co-occurrence
  recommender (fit from the built graph), and its fit time.

The machine is shared: wall-clock seconds move with its load (printed), the CPU seconds and the same-run ratios
much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def corpus(path: Path, n: int) -> int:
    """The embedded corpus repeated to ``n`` records; returns the number of words."""
    from lskg.data import CORPUS

    records = [json.loads(line) for f in sorted(CORPUS.glob("*.jsonl")) for line in f.read_text().splitlines()
               if line.strip()]
    words = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            record = dict(records[i % len(records)])
            copy = i // len(records)
            if copy:
                record.update(id=f"{record.get('id', i)}-r{copy}", doi=None,
                              title=f"{record.get('title', '')} (replicate {copy})")
                record.pop("same_as", None)
            words += len(f"{record.get('title', '')} {record.get('abstract') or ''}".split())
            out.write(json.dumps(record) + "\n")
    return words


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the extraction workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child_build(corpus_path: str, workdir: str, workers: int, reference: bool) -> dict:
    import pyoxigraph as ox

    from lskg.build import build
    from lskg.kg.store import StoreDir
    from lskg.kg.validate import validate
    from lskg.settings import Settings

    settings = Settings(store=str(Path(workdir) / "store"), extract_workers=workers)
    started, cpu = time.perf_counter(), _cpu_s()
    report = build([corpus_path], settings)
    out: dict = {"build_s": time.perf_counter() - started, "build_cpu_s": _cpu_s() - cpu, "stages_s": report.seconds,
                 "stages_cpu_s": report.cpu_seconds,
                 "studies": report.studies, "workers": workers, "conforms": report.validation.conforms,
                 "rss_build_mb": _rss_mb(), "rss_workers_mb": _rss_mb(resource.RUSAGE_CHILDREN)}
    with StoreDir(settings.store).open_reader() as store:
        out["quads"] = len(store)
        (Path(workdir) / "dump.nq").write_bytes(store.dump(ox.RdfFormat.N_QUADS))
        out["slowest_checks_s"] = slowest_checks(store)
        if reference:
            started = time.perf_counter()
            report_sparql = validate(store)
            out["validate_sparql_disk_s"] = time.perf_counter() - started
            started = time.perf_counter()
            report_pyshacl = validate(store, engine="pyshacl")
            out["validate_pyshacl_s"] = time.perf_counter() - started
            out["engines_agree"] = [v.key for v in report_pyshacl.violations] == \
                [v.key for v in report_sparql.violations]
    return out


def child_extract(corpus_path: str, workers: int) -> dict:
    """Extraction alone (read, extract, deduplicate), in ``workers`` processes."""
    from lskg.build import BuildReport, extract

    started, cpu = time.perf_counter(), _cpu_s()
    extract([Path(corpus_path)], "auto", BuildReport(store="", sources=[corpus_path]), None, workers=workers)
    return {"extract_s": time.perf_counter() - started, "extract_cpu_s": _cpu_s() - cpu}


def slowest_checks(store, top: int = 5) -> dict[str, float]:
    """The compiled SHACL checks that took longest (CPU seconds), to show what grows with the graph."""
    from lskg.kg.shacl import compile_shapes
    from lskg.ontology.terms import sparql_prefixes

    times = {}
    for check in compile_shapes():
        started = time.process_time()
        list(store.query(sparql_prefixes() + check.sparql))
        rule = check.rules[0]
        times[f"{check.kind} {rule.shape.rsplit('/', 1)[-1]} {(rule.path or '').rsplit('/', 1)[-1]}"] = \
            time.process_time() - started
    return dict(sorted(times.items(), key=lambda kv: -kv[1])[:top])


def child_bulk(workdir: str) -> dict:
    """The baseline: pyoxigraph's own bulk load of the same quads into a fresh on-disk store."""
    import pyoxigraph as ox

    started, cpu = time.perf_counter(), _cpu_s()
    store = ox.Store(str(Path(workdir) / "bulk"))
    store.bulk_load(path=str(Path(workdir) / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return {"bulk_load_s": time.perf_counter() - started, "bulk_load_cpu_s": _cpu_s() - cpu, "quads": len(store)}


def child_queries(workdir: str) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_queries import bound_params, budget, parameters, timed

    from lskg.kg.queries import list_queries, named_query, prepare
    from lskg.kg.store import StoreDir

    store = StoreDir(Path(workdir) / "store").open_reader()
    values = parameters(store)
    results = {}
    for name in list_queries():
        if budget(name) is None:
            continue
        times, _ = timed(store, prepare(name, bound_params(named_query(name), values)), 5)
        results[name] = round(statistics.median(times) * 1000, 1)
    over = {n: ms for n, ms in results.items() if ms > budget(n)}
    slowest = max(results, key=results.get)
    return {"query_p50_ms": results, "over_budget": over, "slowest": slowest,
            "median_interactive_ms": statistics.median(results.values())}


def child_recommend(workdir: str) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_gnn import QUERIES

    from lskg.gnn import service
    from lskg.gnn.snapshot import Snapshot
    from lskg.gnn.train import train
    from lskg.kg.store import StoreDir
    from lskg.settings import Settings

    store = StoreDir(Path(workdir) / "store").open_reader()
    started = time.perf_counter()
    snap = Snapshot.from_store(store)
    snapshot_s = time.perf_counter() - started
    settings = Settings(store=str(Path(workdir) / "store"), artifacts=str(Path(workdir) / "models"))
    started = time.perf_counter()
    train(snap, settings, recommender="cooccurrence")
    fit_s = time.perf_counter() - started
    cache = service.GraphCache()  # as the API keeps one: the snapshot and the model are read once
    service.recommend(store, settings, cache=cache, **QUERIES[0])
    times = []
    for query in QUERIES * 3:
        started = time.perf_counter()
        service.recommend(store, settings, cache=cache, **query)
        times.append(time.perf_counter() - started)
    return {"snapshot_s": snapshot_s, "fit_cooccurrence_s": fit_s,
            "recommend_p50_ms": statistics.median(times) * 1000, "recommend_max_ms": max(times) * 1000}


def measure(kind: str, *args) -> dict:
    code = (f"import json,resource,sys; sys.path.insert(0, {str(HERE)!r}); import bench_growth as b; "
            f"r=b.child_{kind}(*{args!r}); r['peak_rss_mb']=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024; "
            "print(json.dumps(r))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_or_error(kind: str, *args) -> dict:
    """``measure``, for the phases after the build: a failure is recorded and printed, and the run goes on."""
    try:
        return measure(kind, *args)
    except RuntimeError as exc:
        print(f"{kind}: {exc}", file=sys.stderr)
        return {"error": str(exc).splitlines()[-1]}


SKIPPED = {"error": "skipped"}
GRAPH_STAGES = ("map", "validate", "write")
"""The stages that turn extracted studies into the stored graph, compared with bulk load on their own."""


def run(n: int, workers: int, reference: bool, skip: frozenset[str] = frozenset()) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"lskg-growth-{n}-") as workdir:
        path = Path(workdir) / "corpus.jsonl"
        words = corpus(path, n)
        load = os.getloadavg()[0]
        build = measure("build", str(path), workdir, workers, reference)
        bulk = measure("bulk", workdir)
        queries = SKIPPED if "queries" in skip else measure_or_error("queries", workdir)
        recommend = SKIPPED if "recommend" in skip else measure_or_error("recommend", workdir)
        extract = {w: measure("extract", str(path), w) for w in sorted({1, workers})} if reference else {}
        load = max(load, os.getloadavg()[0])
    stages, cpu = build["stages_s"], build["stages_cpu_s"]
    after_extract = build["build_s"] - stages["extract"]
    after_extract_cpu = build["build_cpu_s"] - cpu["extract"]
    graph_cpu = sum(cpu[stage] for stage in GRAPH_STAGES)
    result = {"n": n, "words": words, "load_average": load, "build": build, "bulk": bulk, "queries": queries,
              "recommend": recommend, "extract": extract, "extract_words_per_s": words / stages["extract"],
              "build_over_bulk": build["build_s"] / bulk["bulk_load_s"],
              "build_cpu_over_bulk_cpu": build["build_cpu_s"] / bulk["bulk_load_cpu_s"],
              "after_extract_over_bulk": after_extract / bulk["bulk_load_s"],
              "after_extract_cpu_over_bulk_cpu": after_extract_cpu / bulk["bulk_load_cpu_s"],
              "graph_stages_cpu_s": graph_cpu, "graph_stages_cpu_over_bulk_cpu": graph_cpu / bulk["bulk_load_cpu_s"]}
    print(f"\n== {n} studies, {words} words, {build['quads']} quads; load average up to {load:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"build ({workers} extraction workers): {build['build_s']:.1f} s = {result['build_over_bulk']:.1f}x bulk "
          f"load ({bulk['bulk_load_s']:.1f} s); CPU {build['build_cpu_s']:.1f} s = "
          f"{result['build_cpu_over_bulk_cpu']:.1f}x bulk load's {bulk['bulk_load_cpu_s']:.1f} s; after extraction "
          f"{after_extract:.1f} s = {result['after_extract_over_bulk']:.1f}x bulk load, CPU {after_extract_cpu:.1f} s = "
          f"{result['after_extract_cpu_over_bulk_cpu']:.1f}x")
    print("  stages, wall (CPU) s: " + ", ".join(f"{k} {v:.1f} ({cpu[k]:.1f})" for k, v in stages.items()) +
          f"; extraction with the mapping beside it {result['extract_words_per_s']:,.0f} words/s, "
          f"{words / cpu['extract']:,.0f} words per CPU s")
    print(f"  {' + '.join(GRAPH_STAGES)} (map: what is left after extraction): CPU {graph_cpu:.1f} s = "
          f"{result['graph_stages_cpu_over_bulk_cpu']:.2f}x bulk load's CPU")
    print("  slowest checks (CPU s): " + ", ".join(f"{k} {v:.2f}" for k, v in build["slowest_checks_s"].items()))
    if extract:
        one, many = extract[1], extract[workers]
        print(f"extraction alone: 1 process {one['extract_s']:.1f} s ({words / one['extract_s']:,.0f} words/s, "
              f"{words / one['extract_cpu_s']:,.0f} words per CPU second); {workers} processes "
              f"{many['extract_s']:.1f} s = {one['extract_s'] / many['extract_s']:.2f}x faster "
              f"(CPU {many['extract_cpu_s']:.1f} s)")
    if "validate_pyshacl_s" in build:
        print(f"pySHACL on the same graph: {build['validate_pyshacl_s']:.1f} s = "
              f"{build['validate_pyshacl_s'] / build['validate_sparql_disk_s']:.0f}x the SPARQL engine on the same "
              f"store ({build['validate_sparql_disk_s']:.1f} s); same violations: {build['engines_agree']}")
    print(f"peak RSS: build process {build['peak_rss_mb']:.0f} MB (largest extraction worker "
          f"{build['rss_workers_mb']:.0f} MB); bulk load {bulk['peak_rss_mb']:.0f} MB; query process "
          f"{queries.get('peak_rss_mb', 0):.0f} MB; recommend process {recommend.get('peak_rss_mb', 0):.0f} MB")
    if "error" not in queries:
        print(f"named queries (CPU p50): median {queries['median_interactive_ms']:.1f} ms, slowest "
              f"{queries['slowest']} {queries['query_p50_ms'][queries['slowest']]:.0f} ms; over budget: "
              f"{queries['over_budget']}")
    if "error" not in recommend:
        print(f"recommend (co-occurrence): p50 {recommend['recommend_p50_ms']:.1f} ms, max "
              f"{recommend['recommend_max_ms']:.1f} ms; snapshot {recommend['snapshot_s']:.1f} s, fit "
              f"{recommend['fit_cooccurrence_s']:.2f} s")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--workers", type=int, default=2, help="extraction processes (default 2)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip", nargs="+", default=[], choices=["reference", "queries", "recommend"],
                        help="phases not to run: the pySHACL and one-process extraction references at the "
                             "smallest size, the named queries, the recommender")
    args = parser.parse_args(argv)
    skip = frozenset(args.skip)
    results = []
    for i, n in enumerate(args.sizes):
        results.append(run(n, args.workers, reference=i == 0 and "reference" not in skip, skip=skip))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
