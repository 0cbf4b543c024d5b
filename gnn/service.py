"""The Python API of recommendations, gaps, gap maps and synthesis tables; the CLI and the HTTP layer call these.

    from lskg.gnn import service
    service.recommend(store, settings, data=["InSAR time series"], landslide_type=["creeping"],
                      task=["displacement prediction"])                      # -> records.Recommendation
    service.gaps(store, settings, facets=("model", "data"))                  # -> records.GapReport
    service.gap_map(store, settings, rows="model", cols="data", fmt="png")
    service.table(store, settings, fmt="md")
    service.write_gaps(store, settings, service.gaps(store, settings))

Each call reads the graph through a snapshot and uses the artefact saved for that graph; a missing or stale
artefact is retrained (and logged), never used. The snapshot comes, fastest first, from the caller's
:class:`GraphCache` (a server keeps one in its state), from the copy ``lskg build`` saved for that graph version
(``snapshot.graph_version``), or from the store through SPARQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from lskg.errors import StoreError
from lskg.gnn import artifacts
from lskg.gnn import snapshot as snapshots
from lskg.gnn.snapshot import Snapshot
from lskg.gnn.train import Trained, train
from lskg.kg.store import Store
from lskg.ontology import concept_index
from lskg.ontology.terms import GAP, GRAPH, LSKG, PROV, RDF, XSD
from lskg.records import FACETS, ConceptRef, Facet, Gap, GapReport, Recommendation, stable_id
from lskg.settings import Settings

log = logging.getLogger(__name__)

GAPS_GRAPH = GRAPH["gaps"]


@dataclass
class GraphCache:
    """Snapshots and loaded recommenders by graph fingerprint, and the fingerprint of each graph version seen, for
    a process that answers many calls (the API keeps one in its app state). Without one every call reads the
    graph and loads the recommender afresh."""

    limit: int = 4
    """Graphs kept (a server follows rebuilds: older graphs are dropped)."""
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    models: dict[tuple[str, Path], Trained] = field(default_factory=dict)
    """(fingerprint, artefact folder) -> the recommender loaded from it."""
    versions: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self, store: Store, settings: Settings, version: str | None = None) -> Snapshot:
        version = version or snapshots.graph_version(store)
        if version is not None:
            with self.lock:
                known = self.snapshots.get(self.versions.get(version, ""))
            if known is not None:
                return known
        snap = (snapshots.load(snapshots.saved_path(settings), version) if version else None) or Snapshot.from_store(store)
        return self.add(snap, version)

    def add(self, snap: Snapshot, version: str | None) -> Snapshot:
        """Keep a snapshot (and which version it is); returns the one kept for its fingerprint."""
        with self.lock:
            snap = self.snapshots.setdefault(snap.fingerprint, snap)  # one object per graph: its memos are shared
            if version is not None:
                self.versions[version] = snap.fingerprint
            for old in list(self.snapshots)[:-self.limit]:
                del self.snapshots[old]
                self.models = {k: v for k, v in self.models.items() if k[0] != old}
                self.versions = {v: fp for v, fp in self.versions.items() if fp != old}
        return snap

    def model(self, snap: Snapshot, settings: Settings) -> Trained | None:
        with self.lock:
            return self.models.get((snap.fingerprint, artifacts.artifact_path(settings)))

    def keep(self, model: Trained, settings: Settings) -> Trained:
        with self.lock:
            self.models[(model.snapshot.fingerprint, artifacts.artifact_path(settings))] = model
        return model


def snapshot(store: Store, settings: Settings, *, cache: GraphCache | None = None,
             version: str | None = None) -> Snapshot:
    """The snapshot of the store's graph. ``version`` names the graph's content when the caller knows it (a
    server knows which generation it serves); else it is found from the handle where it can be."""
    return (cache or GraphCache()).snapshot(store, settings, version)


def trained(store: Store, settings: Settings, *, cache: GraphCache | None = None,
            version: str | None = None) -> Trained:
    """The recommender for this store's graph: the saved artefact if it matches, else a fresh training."""
    cache = cache or GraphCache()
    snap = cache.snapshot(store, settings, version)
    found = cache.model(snap, settings)
    if found is not None:
        return found
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
    return cache.keep(result, settings)


def ready(store: Store, settings: Settings, *, cache: GraphCache | None = None,
          version: str | None = None) -> Trained | None:
    """The recommender saved for this store's graph, or None when none matches it; never trains (a server can
    answer 503 and train in the background with ``train.train_for_store`` meanwhile)."""
    cache = cache or GraphCache()
    snap = cache.snapshot(store, settings, version)
    found = cache.model(snap, settings)
    if found is not None:
        return found
    try:
        artifact, fitted = artifacts.load(artifacts.artifact_path(settings), snap, seed=settings.seed)
    except artifacts.ModelNotFoundError:
        return None
    return cache.keep(Trained(snap, artifact, fitted), settings)


def preload(store: Store, settings: Settings, cache: GraphCache, version: str) -> bool:
    """Load what the first recommendation for graph version ``version`` needs, without reading the graph: the
    concept index and, when ``lskg build`` saved that version's snapshot, the snapshot and its recommender, with
    the snapshot's matrices built. A server runs this beside its start-up. Returns whether the recommender is
    ready."""
    from lskg.gnn.recommend import recommend as rank

    concept_index()
    snap = snapshots.load(snapshots.saved_path(settings), version)
    if snap is None:
        return False
    cache.add(snap, version)
    model = ready(store, settings, cache=cache, version=version)
    if model is not None:
        rank(model, {}, top=1)
        for facet in snapshots.CONTEXT_FACETS:
            model.snapshot.stated(facet)
    return model is not None


def _resolve(values: list[str], facet: Facet) -> tuple[ConceptRef, ...]:
    """Labels or IRIs -> concepts, through the one concept resolution (``lskg.kg.read.resolve_many``)."""
    from lskg.kg.read import resolve_many

    index = concept_index()
    return tuple(ConceptRef(iri, index.label(iri), facet) for iri in resolve_many(values, facet, index))


def recommend(store: Store, settings: Settings, *, data: Sequence[str] = (), landslide_type: Sequence[str] = (),
              task: Sequence[str] = (), top: int = 10, cache: GraphCache | None = None,
              version: str | None = None) -> Recommendation:
    """Ranked model families and architectures for a context (labels or IRIs; unknown -> UnknownConceptError),
    with what they rest on."""
    from lskg.gnn.recommend import recommend as rank

    context: dict[Facet, tuple[ConceptRef, ...]] = {
        "data": _resolve(list(data), "data"), "landslide_type": _resolve(list(landslide_type), "landslide_type"),
        "task": _resolve(list(task), "task")}
    return rank(trained(store, settings, cache=cache, version=version), context, top=top)


def gaps(store: Store, settings: Settings, *, facets: Sequence[str] = ("model", "data"), top: int = 50,
         cache: GraphCache | None = None, version: str | None = None) -> GapReport:
    """Plausible but understudied combinations of a family with one or two other facets, ranked."""
    from lskg.gnn.gaps import check_facets, find_gaps

    chosen = check_facets(tuple(facets))
    model = trained(store, settings, cache=cache, version=version)
    found = find_gaps(model, chosen, top=top)
    return GapReport(tuple(_facet(f) for f in chosen), model.artifact.model_version, model.artifact.gap_scorer,
                     dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                     tuple(Gap(tuple(ConceptRef(c["iri"], c["label"], _facet(c["facet"])) for c in g["concepts"]),
                               int(g["observed"]), float(g["plausibility"]), float(g["gap_score"]), g["kind"],
                               tuple(g["why"]), float(g["uncertainty"]), float(g["learned"])) for g in found))


def _facet(name: str) -> Facet:
    for facet in FACETS:
        if facet == name:
            return facet
    raise ValueError(f"not a facet: {name!r}")


def gap_map(store: Store, settings: Settings, *, rows: str = "model", cols: str = "data", fmt: str = "png",
            cache: GraphCache | None = None, version: str | None = None) -> bytes | dict[str, Any]:
    """Heatmap of family x concepts of another facet (counts and gap scores at once): png, svg, html, or the
    matrix itself (json) that the page draws."""
    from lskg.gnn import plots
    from lskg.gnn.gaps import gap_matrix

    matrix = gap_matrix(trained(store, settings, cache=cache, version=version), rows, cols)
    if fmt == "json":
        return matrix
    return plots.render(matrix, fmt)


def table(store: Store, settings: Settings, *, rows: str = "family",
          cols: Sequence[str] = ("data", "landslide_type", "task"), fmt: str = "md",
          cache: GraphCache | None = None, version: str | None = None) -> str:
    """The review's Table 1 regenerated from study-level evidence, with study counts and citations."""
    from lskg.gnn import tables

    chosen = tuple(cols)
    return tables.render(tables.synthesis(snapshot(store, settings, cache=cache, version=version), rows, chosen),
                         rows, chosen, fmt)


def write_gaps(store: Store, settings: Settings, report: GapReport) -> int:
    """Write a ``gaps()`` report into the named graph graph:gaps (replacing what a previous run with the same
    facets wrote), with provenance; returns the number of gaps written."""
    if store.read_only:
        raise StoreError("cannot write gaps into a read-only store", hint="open the store writable (--write-back "
                                                                           "needs a store no server holds open)")
    pair = ",".join(report.facets)
    run = GAP[f"analysis/{stable_id(pair, report.model_version, report.generated)}"]
    triples = [Triple(run, RDF.type, LSKG.GapAnalysis), Triple(run, RDF.type, PROV.Activity),
               Triple(run, PROV.endedAtTime, Literal(report.generated, datatype=XSD.dateTime)),
               Triple(run, LSKG.modelVersion, Literal(report.model_version)),
               Triple(run, LSKG.facetPair, Literal(pair))]
    for rank, gap in enumerate(report.gaps, 1):
        node = GAP[stable_id(pair, *(c.iri for c in gap.concepts))]
        triples += [Triple(node, RDF.type, LSKG.Gap), Triple(node, LSKG.facetPair, Literal(pair)),
                    Triple(node, LSKG.observedCount, Literal(str(gap.observed), datatype=XSD.integer)),
                    Triple(node, LSKG.plausibility, Literal(repr(gap.plausibility), datatype=XSD.double)),
                    Triple(node, LSKG.gapScore, Literal(repr(gap.gap_score), datatype=XSD.double)),
                    Triple(node, LSKG.rank, Literal(str(rank), datatype=XSD.integer)),
                    Triple(node, LSKG.modelVersion, Literal(report.model_version)),
                    Triple(node, PROV.wasGeneratedBy, run)]
        triples += [Triple(node, LSKG.gapConcept, NamedNode(c.iri)) for c in gap.concepts]
    kept = _other_runs(store, pair)
    store.replace_graphs({GAPS_GRAPH: kept + triples})
    return len(report.gaps)


def _other_runs(store: Store, pair: str) -> list[Triple]:
    """Triples of graph:gaps that belong to other facet combinations (kept when one combination is rewritten)."""
    rows = store.select("gnn_gap_triples")
    return [Triple(r["s"], r["p"], r["o"]) for r in rows if r["pair"].value != pair]
