"""Growth curve: build, extraction, validation, peak memory, named-query and recommend latency at 1k, 10k (30k)
studies of real-length text, each against a baseline measured in the same run.

    python benchmarks/bench_growth.py                       # 1,000 and 10,000 studies
    python benchmarks/bench_growth.py --sizes 1000 10000 30000 --json benchmarks/results/growth.json

The corpus is the embedded one (``lskg/data/corpus``: published abstracts and review summaries, ~140 words a
study) repeated to N studies (each copy with its own id and title, no DOI, so none is merged away). Per size, in
fresh subprocesses (so peak RSS is each phase's own):

* ``build``: what ``lskg build`` does, stage by stage: extract (one process), map + load into the on-disk store,
  validate there with the SPARQL engine; then the flow proposed for ``lskg/build.py``: load into an in-memory
  store, validate in memory, persist with pyoxigraph's ``bulk_load``. Baseline: ``bulk_load`` of the same N-Quads.
  At the smallest size, pySHACL (the reference engine) validates the same graph too.
* ``queries``: CPU p50 of every named query (``bench_queries``) on the built store, opened read-only on disk as the
  API's workers open it; summary: the slowest interactive query and how many are over budget.
* ``recommend``: ``service.recommend`` p50 over the realistic contexts of ``bench_gnn`` with the co-occurrence
  recommender (fit from the built graph), and its fit time.
"""

from __future__ import annotations

import argparse
import json
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


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(corpus_path: str, workdir: str, reference: bool) -> dict:
    import pyoxigraph as ox

    from lskg.build import BuildReport
    from lskg.build import extract as extract_studies
    from lskg.kg import mapping
    from lskg.kg.store import EmbeddedStore, StoreDir
    from lskg.kg.validate import validate
    from lskg.ontology import ontology_quads

    out: dict = {}
    report = BuildReport(store=workdir, sources=[corpus_path])
    started, cpu = time.perf_counter(), time.process_time()
    studies = extract_studies([Path(corpus_path)], "auto", report, None)
    out["extract_s"] = time.perf_counter() - started
    out["extract_cpu_s"] = time.process_time() - cpu
    out["studies"] = len(studies)
    out["rss_after_extract_mb"] = _rss_mb()

    def quads():
        yield from ontology_quads()
        for item in studies:
            yield from mapping.study_quads(item)

    # What lskg build does today: load into the on-disk store, validate it there.
    root = Path(workdir) / "store"
    started = time.perf_counter()
    with StoreDir(root).rebuild() as store:
        batch: list = []
        for q in quads():
            batch.append(q)
            if len(batch) > 50_000:
                store.load(batch)
                batch = []
        store.load(batch)
        out["load_disk_s"] = time.perf_counter() - started
        started = time.perf_counter()
        report_disk = validate(store)
        out["validate_disk_s"] = time.perf_counter() - started
        out["quads"] = len(store)
    out["conforms"] = report_disk.conforms
    out["rss_after_disk_build_mb"] = _rss_mb()

    # The proposed flow: in memory, validate there, then persist with bulk_load.
    started = time.perf_counter()
    staging = EmbeddedStore(None)
    staging.native.extend(quads())
    out["load_memory_s"] = time.perf_counter() - started
    started = time.perf_counter()
    report_memory = validate(staging)
    out["validate_memory_s"] = time.perf_counter() - started
    out["slowest_checks_s"] = slowest_checks(staging)
    assert [v.key for v in report_memory.violations] == [v.key for v in report_disk.violations]
    started = time.perf_counter()
    dump = Path(workdir) / "dump.nq"
    dump.write_bytes(staging.native.dump(format=ox.RdfFormat.N_QUADS))
    out["dump_s"] = time.perf_counter() - started
    started = time.perf_counter()
    persisted = ox.Store(str(Path(workdir) / "persisted"))
    persisted.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    persisted.flush()
    out["persist_bulk_load_s"] = time.perf_counter() - started
    out["rss_after_memory_build_mb"] = _rss_mb()
    if reference:
        started = time.perf_counter()
        report_pyshacl = validate(staging, engine="pyshacl")
        out["validate_pyshacl_s"] = time.perf_counter() - started
        out["engines_agree"] = [v.key for v in report_pyshacl.violations] == [v.key for v in report_memory.violations]
    return out


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

    started = time.perf_counter()
    store = ox.Store(str(Path(workdir) / "bulk"))
    store.bulk_load(path=str(Path(workdir) / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return {"bulk_load_s": time.perf_counter() - started, "quads": len(store)}


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
    service.clear_cache()
    service.recommend(store, settings, **QUERIES[0])
    times = []
    for query in QUERIES * 3:
        started = time.perf_counter()
        service.recommend(store, settings, **query)
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


def run(n: int, reference: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"lskg-growth-{n}-") as workdir:
        path = Path(workdir) / "corpus.jsonl"
        words = corpus(path, n)
        build = measure("build", str(path), workdir, reference)
        bulk = measure("bulk", workdir)
        queries = measure("queries", workdir)
        recommend = measure("recommend", workdir)
    today = build["extract_s"] + build["load_disk_s"] + build["validate_disk_s"]
    proposed = build["extract_s"] + build["load_memory_s"] + build["validate_memory_s"] + build["dump_s"] + \
        build["persist_bulk_load_s"]
    result = {"n": n, "words": words, "build": build, "bulk": bulk, "queries": queries, "recommend": recommend,
              "build_today_s": today, "build_proposed_s": proposed,
              "extract_words_per_s": words / build["extract_s"]}
    print(f"\n== {n} studies, {words} words, {build['quads']} quads")
    print(f"extract {build['extract_s']:.1f} s ({result['extract_words_per_s']:,.0f} words/s, one process; "
          f"{words / build['extract_cpu_s']:,.0f} words per CPU second); load average "
          f"{__import__('os').getloadavg()[0]:.1f}")
    print(f"build today (extract + disk load + validate on disk): {today:.1f} s = {today / bulk['bulk_load_s']:.1f}x "
          f"bulk load ({bulk['bulk_load_s']:.1f} s); without extraction "
          f"{(today - build['extract_s']) / bulk['bulk_load_s']:.1f}x")
    print(f"  load {build['load_disk_s']:.1f} s, validate (SPARQL, on disk) {build['validate_disk_s']:.1f} s")
    print(f"build proposed (memory load + validate in memory + bulk_load): {proposed:.1f} s = "
          f"{proposed / bulk['bulk_load_s']:.1f}x bulk load; without extraction "
          f"{(proposed - build['extract_s']) / bulk['bulk_load_s']:.1f}x")
    print(f"  load {build['load_memory_s']:.1f} s, validate {build['validate_memory_s']:.1f} s, dump "
          f"{build['dump_s']:.1f} s, bulk_load {build['persist_bulk_load_s']:.1f} s")
    print("  slowest checks (CPU s): " + ", ".join(f"{k} {v:.2f}" for k, v in build["slowest_checks_s"].items()))
    if "validate_pyshacl_s" in build:
        print(f"pySHACL on the same graph: {build['validate_pyshacl_s']:.1f} s = "
              f"{build['validate_pyshacl_s'] / build['validate_memory_s']:.0f}x the SPARQL engine in memory, "
              f"{build['validate_pyshacl_s'] / build['validate_disk_s']:.0f}x on disk; same violations: "
              f"{build['engines_agree']}")
    print(f"peak RSS: build process {build['peak_rss_mb']:.0f} MB (after extract {build['rss_after_extract_mb']:.0f}, "
          f"after disk build {build['rss_after_disk_build_mb']:.0f}, after memory build "
          f"{build['rss_after_memory_build_mb']:.0f}); bulk load {bulk['peak_rss_mb']:.0f} MB; query process "
          f"{queries['peak_rss_mb']:.0f} MB; recommend process {recommend['peak_rss_mb']:.0f} MB")
    print(f"named queries (CPU p50): median {queries['median_interactive_ms']:.1f} ms, slowest {queries['slowest']} "
          f"{queries['query_p50_ms'][queries['slowest']]:.0f} ms; over budget: {queries['over_budget']}")
    print(f"recommend (co-occurrence): p50 {recommend['recommend_p50_ms']:.1f} ms, max "
          f"{recommend['recommend_max_ms']:.1f} ms; snapshot {recommend['snapshot_s']:.1f} s, fit "
          f"{recommend['fit_cooccurrence_s']:.2f} s")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = []
    for i, n in enumerate(args.sizes):
        results.append(run(n, reference=i == 0))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
