"""The Python API of recommendations, gaps, gap maps and synthesis tables; the CLI and the HTTP layer call these.

    from lskg.gnn import service
    service.recommend(store, settings, data=["InSAR time series"], landslide_type=["creeping"],
                      task=["displacement prediction"])
    service.gaps(store, settings, facets=("model", "data"))
    service.gap_map(store, settings, rows="model", cols="data", fmt="png")
    service.table(store, settings, fmt="md")
    service.write_gaps(store, settings, service.gaps(store, settings))

Each call reads the graph through a snapshot (cached per store handle and size) and uses the artefact saved for
that graph; a missing or stale artefact is retrained (and logged), never used.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref

from pyoxigraph import Literal, NamedNode, Triple

from lskg.errors import StoreError
from lskg.gnn import artifacts
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.gnn.train import Trained, train
from lskg.kg.store import Store
from lskg.ontology import concept_index
from lskg.ontology.terms import GAP, GRAPH, LSKG, PROV, RDF, XSD
from lskg.records import Facet, stable_id
from lskg.settings import Settings

log = logging.getLogger(__name__)

GAPS_GRAPH = GRAPH["gaps"]
_lock = threading.Lock()
_cache: dict[tuple[int, int, str], tuple[Snapshot, Trained | None]] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def snapshot(store: Store) -> Snapshot:
    return _entry(store)[0]


_sizes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _size(store: Store) -> int:
    """The store's quad count, the cache key's change detector. Counting is O(quads) (80 ms at 73k quads), so a
    read-only handle (a pinned generation, which cannot change) is counted once."""
    if not getattr(store, "read_only", False):
        return len(store)
    try:
        if store not in _sizes:
            _sizes[store] = len(store)
        return _sizes[store]
    except TypeError:  # not weak-referenceable
        return len(store)


def _entry(store: Store) -> tuple[Snapshot, Trained | None]:
    key = (id(store), _size(store), "")
    with _lock:
        if key not in _cache:
            if len(_cache) > 8:
                _cache.clear()
            _cache[key] = (Snapshot.from_store(store), None)
        return _cache[key]


def trained(store: Store, settings: Settings) -> Trained:
    """The recommender for this store's graph: the saved artefact if it matches, else a fresh training."""
    snap, ready = _entry(store)
    if ready is not None and ready.artifact.fingerprint == snap.fingerprint:
        return ready
    path = artifacts.artifact_path(settings)
    try:
        artifact, fitted = artifacts.load(path, snap, seed=settings.seed)
        result = Trained(snap, artifact, fitted)
    except artifacts.StaleModelError as exc:
        log.warning("%s; retraining", exc.message)
        result = train(snap, settings)
    except artifacts.ModelNotFoundError:
        log.warning("no recommender trained for this graph at %s; training one now", path)
        result = train(snap, settings)
    with _lock:
        _cache[(id(store), _size(store), "")] = (snap, result)
    return result


def ready(store: Store, settings: Settings) -> Trained | None:
    """The recommender saved for this store's graph, or None when none matches it; never trains (a server can
    answer 503 and train in the background with ``train.train_for_store`` meanwhile)."""
    snap, cached = _entry(store)
    if cached is not None and cached.artifact.fingerprint == snap.fingerprint:
        return cached
    try:
        artifact, fitted = artifacts.load(artifacts.artifact_path(settings), snap, seed=settings.seed)
    except artifacts.ModelNotFoundError:
        return None
    result = Trained(snap, artifact, fitted)
    with _lock:
        _cache[(id(store), _size(store), "")] = (snap, result)
    return result


def _resolve(values: list[str], facet: Facet) -> list[dict[str, str]]:
    """Labels or IRIs -> {iri, label}, through the one concept resolution (``lskg.kg.read.resolve_many``)."""
    from lskg.kg.read import resolve_many

    index = concept_index()
    return [{"iri": iri, "label": index.label(iri)} for iri in resolve_many(values, facet, index)]


def recommend(store: Store, settings: Settings, *, data: list[str] = [], landslide_type: list[str] = [],  # noqa: B006
              task: list[str] = [], top: int = 10) -> dict:  # noqa: B006
    """Ranked model families and architectures for a context (labels or IRIs; unknown -> UnknownConceptError)."""
    from lskg.gnn.recommend import recommend as rank

    context = {"data": _resolve(data, "data"), "landslide_type": _resolve(landslide_type, "landslide_type"),
               "task": _resolve(task, "task")}
    model = trained(store, settings)
    ranked = rank(model, {f: [c["iri"] for c in context[f]] for f in CONTEXT_FACETS}, top=top)
    return {"context": context, "recommender": model.artifact.recommender,
            "model_version": model.artifact.model_version, **ranked}


def gaps(store: Store, settings: Settings, *, facets: tuple[str, ...] = ("model", "data"), top: int = 50) -> dict:
    """Plausible but understudied combinations of a family with one or two other facets, ranked."""
    from lskg.gnn.gaps import find_gaps

    model = trained(store, settings)
    found = find_gaps(model, tuple(facets), top=top)
    return {"facets": list(facets), "model_version": model.artifact.model_version,
            "scorer": model.artifact.gap_scorer,
            "generated": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), "gaps": found}


def gap_map(store: Store, settings: Settings, *, rows: str = "model", cols: str = "data",
            fmt: str = "png") -> bytes | dict:
    """Heatmap of family x concepts of another facet (counts and gap scores at once): png, svg, html or json."""
    from lskg.gnn import plots
    from lskg.gnn.gaps import gap_matrix

    matrix = gap_matrix(trained(store, settings), rows, cols)
    if fmt == "json":
        return matrix
    return plots.render(matrix, fmt)


def table(store: Store, settings: Settings, *, rows: str = "family",
          cols: tuple[str, ...] = ("data", "landslide_type", "task"), fmt: str = "md") -> str:
    """The review's Table 1 regenerated from study-level evidence, with study counts and citations."""
    from lskg.gnn import tables

    cols = tuple(cols)
    return tables.render(tables.synthesis(snapshot(store), rows, cols), rows, cols, fmt)


def write_gaps(store: Store, settings: Settings, result: dict) -> int:
    """Write a ``gaps()`` result into the named graph graph:gaps (replacing what a previous run with the same
    facets wrote), with provenance; returns the number of gaps written."""
    if store.read_only:
        raise StoreError("cannot write gaps into a read-only store", hint="open the store writable (--write-back "
                                                                           "needs a store no server holds open)")
    pair = ",".join(result["facets"])
    run = GAP[f"analysis/{stable_id(pair, result['model_version'], result['generated'])}"]
    triples = [Triple(run, RDF.type, LSKG.GapAnalysis), Triple(run, RDF.type, PROV.Activity),
               Triple(run, PROV.endedAtTime, Literal(result["generated"], datatype=XSD.dateTime)),
               Triple(run, LSKG.modelVersion, Literal(result["model_version"])),
               Triple(run, LSKG.facetPair, Literal(pair))]
    for rank, gap in enumerate(result["gaps"], 1):
        node = GAP[stable_id(pair, *(c["iri"] for c in gap["concepts"]))]
        triples += [Triple(node, RDF.type, LSKG.Gap), Triple(node, LSKG.facetPair, Literal(pair)),
                    Triple(node, LSKG.observedCount, Literal(str(gap["observed"]), datatype=XSD.integer)),
                    Triple(node, LSKG.plausibility, Literal(repr(float(gap["plausibility"])), datatype=XSD.double)),
                    Triple(node, LSKG.gapScore, Literal(repr(float(gap["gap_score"])), datatype=XSD.double)),
                    Triple(node, LSKG.rank, Literal(str(rank), datatype=XSD.integer)),
                    Triple(node, LSKG.modelVersion, Literal(result["model_version"])),
                    Triple(node, PROV.wasGeneratedBy, run)]
        triples += [Triple(node, LSKG.gapConcept, NamedNode(c["iri"])) for c in gap["concepts"]]
    kept = _other_runs(store, pair)
    store.replace_graphs({GAPS_GRAPH: kept + triples})
    return len(result["gaps"])


def _other_runs(store: Store, pair: str) -> list[Triple]:
    """Triples of graph:gaps that belong to other facet combinations (kept when one combination is rewritten)."""
    rows = store.select("gnn_gap_triples")
    return [Triple(r["s"], r["p"], r["o"]) for r in rows if r["pair"].value != pair]
