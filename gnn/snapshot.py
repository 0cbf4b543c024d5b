"""The graph the recommender learns from: studies and concepts read from the store (SPARQL only), as index maps,
per-study fact sets, a content fingerprint, a PyG ``HeteroData`` and a networkx facet co-occurrence graph.

    snap = Snapshot.from_store(store)
    snap.concepts["model"].label(i), snap.closure["data"][study], snap.years[study]
    data = to_heterodata(snap, studies=train, hide_models=targets)   # torch imported here only

Only landslide studies take part (``lskg:studyKind "method_reference"`` records, the original LSTM paper and the
like, carry no landslide context). Facts are kept as stated (``facts``) and closed upwards over ``skos:broader``
(``closure``): a study on LSTM is also a study on the RNN family, one on SBAS-InSAR also one on InSAR.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pyoxigraph import Literal

from lskg.kg.store import Store
from lskg.ontology.terms import FACET_PROPERTIES, FACET_SCHEMES
from lskg.records import FACETS, Facet
from lskg.settings import Settings

if TYPE_CHECKING:
    import networkx as nx
    from torch_geometric.data import HeteroData

log = logging.getLogger(__name__)

CONTEXT_FACETS: tuple[Facet, ...] = ("data", "landslide_type", "task")
"""The facets that describe a study's setting; the recommender predicts the fourth, ``model``."""
LEVELS = ("family", "architecture")
EDGE_NAMES = {"model": "uses_model", "data": "uses_data", "landslide_type": "targets_landslide_type",
              "task": "addresses_task"}
"""PyG edge-type names of the study-level facts (snake_case of the lskg properties)."""
YEAR0, YEAR_SPAN = 2015, 10.0

_PROPERTY_FACET: dict[str, Facet] = {FACET_PROPERTIES[f].value: f for f in FACETS}
_SCHEME_FACET: dict[str, Facet] = {FACET_SCHEMES[f].value: f for f in FACETS}
_TYPICAL_FACET: dict[str, Facet] = {"typicalData": "data", "typicalLandslideType": "landslide_type",
                                    "typicalTask": "task"}
_CITATION = re.compile(r"^(.{3,80}?\(\d{4}[a-z]?\))\s*:")


@dataclass
class ConceptTable:
    """The concepts of one facet: index <-> IRI, labels, and the hierarchy as index tuples."""

    iris: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    broader: list[tuple[int, ...]] = field(default_factory=list)
    family: list[bool] = field(default_factory=list)
    candidate: list[bool] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(self, iri: str, label: str | None = None) -> int:
        if iri not in self.index:
            self.index[iri] = len(self.iris)
            self.iris.append(iri)
            self.labels.append(label or iri.rstrip("/").rsplit("/", 1)[-1])
            self.broader.append(())
            self.family.append(False)
            self.candidate.append(False)
        elif label and self.labels[self.index[iri]] == iri.rstrip("/").rsplit("/", 1)[-1]:
            self.labels[self.index[iri]] = label
        return self.index[iri]

    def __len__(self) -> int:
        return len(self.iris)

    def ancestors(self, i: int) -> set[int]:
        seen: set[int] = set()
        stack = list(self.broader[i])
        while stack:
            j = stack.pop()
            if j not in seen:
                seen.add(j)
                stack.extend(self.broader[j])
        return seen

    def depth(self, i: int, _seen: frozenset[int] = frozenset()) -> int:
        parents = [b for b in self.broader[i] if b not in _seen]
        return 0 if not parents else 1 + max(self.depth(b, _seen | {i}) for b in parents)

    def families_of(self, i: int) -> tuple[int, ...]:
        return tuple(sorted(j for j in ({i} | self.ancestors(i)) if self.family[j]))


@dataclass(frozen=True)
class StudyInfo:
    iri: str
    title: str
    year: int | None
    creator: str | None

    @property
    def citation(self) -> str:
        """A short reference: the title's own "Wang et al. (2024a)" prefix, else first author and year."""
        m = _CITATION.match(self.title)
        if m:
            return m.group(1)
        who = (self.creator or "").split(",")[0].strip() or short_title(self.title, 40)
        return f"{who} ({self.year})" if self.year else who


@dataclass
class Snapshot:
    studies: list[StudyInfo]
    concepts: dict[Facet, ConceptTable]
    facts: dict[Facet, list[frozenset[int]]]
    """Per facet, per study: the concept indices the study states."""
    modality: dict[int, str] = field(default_factory=dict)
    """Data-source concept index -> the ``lskg:modality`` it states (narrower concepts inherit: ``modality_of``)."""
    typical: dict[int, dict[Facet, frozenset[int]]] = field(default_factory=dict)
    """The review's Table 1: model-family index -> facet -> the concepts it typically goes with."""
    closure: dict[Facet, list[frozenset[int]]] = field(init=False)
    """The same, closed upwards over skos:broader."""
    years: np.ndarray = field(init=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        self.closure = {f: [frozenset(self._close(f, s)) for s in self.facts[f]] for f in FACETS}
        self.years = np.array([s.year or 0 for s in self.studies], dtype=np.int64)
        self.fingerprint = self._fingerprint()

    # --- construction -----------------------------------------------------------------------------------------

    @classmethod
    def from_store(cls, store: Store) -> Snapshot:
        """Read studies, concepts and facts with the ``gnn_*`` named queries."""
        tables: dict[Facet, ConceptTable] = {f: ConceptTable() for f in FACETS}
        broader_links: list[tuple[Facet, str, str]] = []
        for row in store.select("gnn_concepts"):
            facet = _SCHEME_FACET[row["scheme"].value]
            i = tables[facet].add(row["concept"].value, row["label"].value)
            tables[facet].family[i] |= _true(row["family"])
            tables[facet].candidate[i] |= _true(row["candidate"])
            if row.get("broader") is not None:
                broader_links.append((facet, row["concept"].value, row["broader"].value))
        for facet, child, parent in broader_links:
            table = tables[facet]
            c, p = table.index[child], table.add(parent)
            if p not in table.broader[c] and p != c:
                table.broader[c] = tuple(sorted((*table.broader[c], p)))

        studies: dict[str, StudyInfo] = {}
        for row in store.select("gnn_studies"):
            kind = row["kind"].value if row.get("kind") is not None else "landslide_study"
            if kind != "landslide_study":
                continue
            iri = row["study"].value
            studies[iri] = StudyInfo(iri, row["title"].value, _year(row.get("year")),
                                     row["creator"].value if row.get("creator") is not None else None)
        ordered = [studies[k] for k in sorted(studies, key=lambda k: (studies[k].year or 0, k))]
        position = {s.iri: n for n, s in enumerate(ordered)}
        facts: dict[Facet, list[set[int]]] = {f: [set() for _ in ordered] for f in FACETS}
        for row in store.select("gnn_study_facts"):
            n = position.get(row["study"].value)
            if n is not None:
                facet = _PROPERTY_FACET[row["property"].value]
                facts[facet][n].add(tables[facet].add(row["concept"].value))
        modality = {tables["data"].index[r["concept"].value]: r["modality"].value
                    for r in store.select("gnn_modalities") if r["concept"].value in tables["data"].index}
        typical: dict[int, dict[Facet, set[int]]] = {}
        for row in store.select("gnn_correspondences"):
            family, concept = row["family"].value, row["concept"].value
            facet = _TYPICAL_FACET[row["property"].value.rsplit("/", 1)[-1]]
            if family in tables["model"].index and concept in tables[facet].index:
                per = typical.setdefault(tables["model"].index[family], {f: set() for f in CONTEXT_FACETS})
                per[facet].add(tables[facet].index[concept])
        snap = cls(ordered, tables, {f: [frozenset(s) for s in v] for f, v in facts.items()}, modality,
                   {m: {f: frozenset(v) for f, v in per.items()} for m, per in typical.items()})
        log.info("snapshot: %d studies, %s concepts, fingerprint %s", len(ordered),
                 {f: len(t) for f, t in tables.items()}, snap.fingerprint[:12])
        return snap

    def _close(self, facet: Facet, items: Iterable[int]) -> set[int]:
        table = self.concepts[facet]
        out = set(items)
        for i in list(out):
            out |= table.ancestors(i)
        return out

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        for facet in FACETS:
            t = self.concepts[facet]
            for i in sorted(range(len(t)), key=t.iris.__getitem__):
                h.update(f"C|{facet}|{t.iris[i]}|{int(t.family[i])}|{sorted(t.iris[b] for b in t.broader[i])}\n".encode())
        for n, s in enumerate(self.studies):
            stated = {f: sorted(self.concepts[f].iris[i] for i in self.facts[f][n]) for f in FACETS}
            h.update(f"S|{s.iri}|{s.year}|{stated}\n".encode())
        return h.hexdigest()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the derived matrices (``incidence``, ``pair_counts``, ...): they are rebuilt on use."""
        return {k: v for k, v in self.__dict__.items() if k not in _DERIVED}

    # --- views -------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.studies)

    @property
    def model(self) -> ConceptTable:
        return self.concepts["model"]

    def level_indices(self, level: str) -> np.ndarray:
        """Model-concept indices of a level: the families, or every other model concept (architectures and
        candidate concepts)."""
        fam = np.array(self.model.family, dtype=bool)
        return np.flatnonzero(fam if level == "family" else ~fam)

    def context_of(self, study: int) -> dict[Facet, frozenset[int]]:
        return {f: self.facts[f][study] for f in CONTEXT_FACETS}

    def usable(self) -> np.ndarray:
        """Studies with at least one model fact and one context fact (the ones a recommender can learn from)."""
        if "_usable" in self.__dict__:
            return self.__dict__["_usable"].copy()
        self.__dict__["_usable"] = np.array(
            [bool(self.facts["model"][n]) and any(self.facts[f][n] for f in CONTEXT_FACETS) for n in range(len(self))],
            dtype=bool)
        return self.__dict__["_usable"].copy()

    def model_matrix(self, studies: Sequence[int] | np.ndarray) -> np.ndarray:
        """Binary (studies x model concepts) matrix of the closed model facts."""
        y = np.zeros((len(studies), len(self.model)), dtype=np.float32)
        for row, n in enumerate(studies):
            y[row, list(self.closure["model"][n])] = 1.0
        return y

    def context_matrix(self, contexts: Sequence[Mapping[Facet, Iterable[int]]]) -> np.ndarray:
        """Binary (contexts x context features) matrix, closed over skos:broader; features are the concepts of
        the three context facets, laid out facet after facet (``feature_offsets``)."""
        offsets = self.feature_offsets()
        x = np.zeros((len(contexts), offsets["_total"]), dtype=np.float32)
        for row, ctx in enumerate(contexts):
            for facet in CONTEXT_FACETS:
                idx = list(self._close(facet, ctx.get(facet, ())))
                x[row, [offsets[facet] + i for i in idx]] = 1.0
        return x

    def feature_offsets(self) -> dict[str, int]:
        offsets: dict[str, int] = {}
        total = 0
        for facet in CONTEXT_FACETS:
            offsets[facet] = total
            total += len(self.concepts[facet])
        offsets["_total"] = total
        return offsets

    def study_context_matrix(self, studies: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.context_matrix([self.context_of(n) for n in studies])

    def modality_of(self, data: int) -> str | None:
        """The modality of a data-source concept: its own, else the nearest broader concept's (None if none)."""
        frontier, seen = {data}, set()
        while frontier:
            found = sorted({self.modality[j] for j in frontier if j in self.modality})
            if found:
                return found[0] if len(found) == 1 else "mixed"
            seen |= frontier
            frontier = {b for j in frontier for b in self.concepts["data"].broader[j]} - seen
        return None

    def stated(self, facet: Facet) -> np.ndarray:
        """(studies x concepts of ``facet``) boolean matrix of the facts as stated (not closed)."""
        cache = self.__dict__.setdefault("_stated", {})
        if facet not in cache:
            m = np.zeros((len(self), len(self.concepts[facet])), dtype=bool)
            for n, items in enumerate(self.facts[facet]):
                m[n, list(items)] = True
            cache[facet] = m
        return cache[facet]

    @functools.cached_property
    def columns(self) -> dict[tuple[str, int], int]:
        """Column of each (facet, concept index) in ``incidence``."""
        keys = [(f, i) for f in FACETS for i in range(len(self.concepts[f]))]
        return {k: n for n, k in enumerate(keys)}

    @functools.cached_property
    def incidence(self) -> np.ndarray:
        """(studies x all concepts) binary matrix of the closed facts of every study."""
        b = np.zeros((len(self), len(self.columns)), dtype=np.float32)
        for n in range(len(self)):
            b[n, [self.columns[(f, i)] for f in FACETS for i in self.closure[f][n]]] = 1.0
        return b

    @functools.cached_property
    def pair_counts(self) -> np.ndarray:
        """(concepts x concepts) number of studies stating both (closed facts); the diagonal holds each
        concept's own study count."""
        return self.incidence.T @ self.incidence

    def count(self, *concepts: tuple[str, int]) -> int:
        """Number of studies whose closed facts contain every given (facet, index)."""
        cols = [self.columns[c] for c in concepts]
        return int(np.all(self.incidence[:, cols] > 0, axis=1).sum())

    def cooccurrence_graph(self, studies: Sequence[int] | np.ndarray) -> nx.Graph:
        """Facet co-occurrence graph of the given studies: one node per concept (``(facet, index)``), an edge
        weighted by the number of studies that state both (closed facts). Degree, Adamic-Adar and communities
        are read off it."""
        import networkx as nx

        g = nx.Graph()
        for facet in FACETS:
            g.add_nodes_from(((facet, i) for i in range(len(self.concepts[facet]))), facet=facet)
        for n in studies:
            nodes = [(f, i) for f in FACETS for i in self.closure[f][n]]
            for a in range(len(nodes)):
                for b in range(a + 1, len(nodes)):
                    if nodes[a][0] == nodes[b][0]:
                        continue
                    if g.has_edge(nodes[a], nodes[b]):
                        g[nodes[a]][nodes[b]]["weight"] += 1
                    else:
                        g.add_edge(nodes[a], nodes[b], weight=1)
        return g


_DERIVED = frozenset({"_usable", "_stated", "columns", "incidence", "pair_counts"})
"""Memos of a snapshot, recomputed from its facts when needed."""
SAVED_FORMAT = 1
SAVED_FILE = "snapshot.pkl"
"""The snapshot of the graph the recommender was last trained on, in ``Settings.artifact_dir``."""


def saved_path(settings: Settings) -> Path:
    return settings.artifact_dir / SAVED_FILE


def graph_version(store: Store) -> str | None:
    """An identity of the graph a store handle reads that changes whenever its content does, found without
    reading the graph: the data folder of an on-disk generation opened read-only (a generation is written once,
    by ``lskg build`` or ``lskg add``, and never changed after); None for anything else (an in-memory or writable
    store, a remote endpoint), whose snapshot must be read to be known."""
    path = getattr(store, "path", None)
    return path.name if store.read_only and isinstance(path, Path) else None


def save(snap: Snapshot, path: Path, version: str) -> None:
    """Keep the snapshot of the graph version ``version`` at ``path`` (written whole, then renamed into place),
    so a server that opens that version later loads it instead of reading the graph through SPARQL."""
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(pickle.dumps((SAVED_FORMAT, version, snap), protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)


def load(path: Path, version: str) -> Snapshot | None:
    """The snapshot saved for the graph version ``version``, or None when none was saved for it. The file is the
    project's own (written by ``lskg build`` next to the trained recommender, like its weights)."""
    try:
        saved_format, saved_version, snap = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("ignoring the saved snapshot %s: %s", path, exc)
        return None
    if saved_format != SAVED_FORMAT or saved_version != version or not isinstance(snap, Snapshot):
        return None
    return snap


def short_title(title: str, width: int = 80) -> str:
    """``title`` cut to at most ``width`` characters at a word boundary, with an ellipsis when cut (never
    mid-word)."""
    title = " ".join(title.split())
    if len(title) <= width:
        return title
    cut = title[:width - 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else title.split(" ")[0]
    return cut.rstrip(" ,;:.-") + "…"


def _true(term: Any) -> bool:
    return isinstance(term, Literal) and term.value in ("true", "1")


def _year(term: Any) -> int | None:
    if term is None:
        return None
    m = re.match(r"-?\d{4}", term.value)
    return int(m.group(0)) if m else None


def year_feature(year: int | float) -> float:
    return (float(year) - YEAR0) / YEAR_SPAN if year else 0.0


def to_heterodata(snap: Snapshot, studies: Sequence[int] | np.ndarray, *,
                  hide_models: Sequence[int] | np.ndarray = (),
                  counts_from: Sequence[int] | np.ndarray | None = None, typical: bool = False) -> HeteroData:
    """A PyG graph of the given studies (node ``i`` of type ``study`` is ``studies[i]``), the concepts of the
    four facets, the study-level facts as stated, and ``broader`` edges inside each facet; reverse edges come
    from ``ToUndirected``. The model edges of ``hide_models`` studies are left out in both directions (they are
    the ones to predict). Node features: study = [year, number of data/type/task facts]; concept = [hierarchy
    depth, log study count, is family], counts taken from ``counts_from`` (default: the visible studies), so a
    temporal split never sees later counts. With ``typical`` the review's Table 1 is added as prior structure:
    ``typical_with`` edges from each family to the data, landslide types and tasks it typically goes with."""
    import torch
    import torch_geometric.transforms as T
    from torch_geometric.data import HeteroData

    studies = np.asarray(studies, dtype=np.int64)
    hidden = set(int(n) for n in hide_models)
    counts_from = studies if counts_from is None else np.asarray(counts_from)
    data = HeteroData()
    data["study"].x = torch.tensor([[year_feature(snap.years[n]),
                                     *(len(snap.facts[f][n]) / 3.0 for f in CONTEXT_FACETS)] for n in studies],
                                   dtype=torch.float32).reshape(len(studies), 1 + len(CONTEXT_FACETS))
    for facet in FACETS:
        table = snap.concepts[facet]
        count = np.zeros(len(table))
        for n in counts_from:
            for i in snap.closure[facet][n]:
                count[i] += 1
        data[facet].x = torch.tensor([[table.depth(i) / 3.0, math.log1p(count[i]) / 5.0, float(table.family[i])]
                                      for i in range(len(table))], dtype=torch.float32).reshape(len(table), 3)
        data[facet].num_nodes = len(table)
        pairs = [(row, i) for row, n in enumerate(studies) if not (facet == "model" and int(n) in hidden)
                 for i in snap.facts[facet][n]]
        data["study", EDGE_NAMES[facet], facet].edge_index = _edges(pairs)
        data[facet, "broader", facet].edge_index = _edges(
            [(i, b) for i in range(len(table)) for b in table.broader[i]])
    if typical:
        for facet in CONTEXT_FACETS:
            data["model", "typical_with", facet].edge_index = _edges(
                [(m, c) for m, per in sorted(snap.typical.items()) for c in sorted(per.get(facet, ()))])
    return T.ToUndirected()(data)


def _edges(pairs: list[tuple[int, int]]) -> Any:
    import torch

    if not pairs:
        return torch.empty((2, 0), dtype=torch.long)
    return torch.tensor(pairs, dtype=torch.long).t().contiguous()
