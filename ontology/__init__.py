"""The ontology: Turtle files (TBox, SKOS concept schemes, the review's Table 1), SHACL shapes, and an index of
concepts (labels, facets, hierarchy) that extraction, the GNN and the API share.

    from lskg.ontology import concept_index
    index = concept_index()
    index.resolve("LSTM", facet="model").iri      # https://w3id.org/lskg/concept/model/LSTM
    index.families(index.resolve("ConvLSTM").iri)  # ("CNN", "RNN")
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from lskg.errors import UnknownConceptError
from lskg.ontology.labels import fold, singular_forms
from lskg.ontology.terms import (
    CANDIDATE,
    FACET_SCHEMES,
    LSKG,
    MODEL,
    ONTOLOGY_GRAPH,
    RDF,
    RDFS,
    SKOS,
    SYNTHESIS_GRAPH,
)
from lskg.records import FACETS, Facet, stable_id

ONTOLOGY_DIR = Path(__file__).resolve().parent
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
SYNTHESIS_FILE = ONTOLOGY_DIR / "review-synthesis.ttl"
EVENTS_FILE = ONTOLOGY_DIR / "events.ttl"
"""Named trigger events and settings (earthquakes, storms, reservoirs, mines) with their trigger types."""


def ontology_files() -> list[Path]:
    """The TBox, the concept schemes and the trigger events (not the shapes, not the review synthesis)."""
    return [ONTOLOGY_DIR / "lskg.ttl", *sorted((ONTOLOGY_DIR / "concepts").glob("*.ttl")), EVENTS_FILE]


def _parse(path: Path, graph: NamedNode) -> Iterator[Quad]:
    for triple in parse(path=str(path), format=RdfFormat.TURTLE):
        yield Quad(triple.subject, triple.predicate, triple.object, graph)


def ontology_quads() -> Iterator[Quad]:
    """Ontology and concept schemes in the ontology graph, Table 1 in the review-synthesis graph."""
    for path in ontology_files():
        yield from _parse(path, ONTOLOGY_GRAPH)
    if SYNTHESIS_FILE.exists():
        yield from _parse(SYNTHESIS_FILE, SYNTHESIS_GRAPH)


@dataclass(frozen=True)
class Concept:
    iri: str
    pref_label: str
    facet: Facet
    alt_labels: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    definition: str = ""
    notation: str | None = None
    types: tuple[str, ...] = ()
    """Local names of the lskg classes the concept is an instance of (``ModelFamily``, ``TriggerType``...)."""

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.pref_label, *self.alt_labels)

    @property
    def local_name(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


class ConceptIndex:
    """Every SKOS concept of the four facet schemes, by IRI and by label."""

    def __init__(self, concepts: dict[str, Concept]) -> None:
        self.concepts = concepts
        self._by_label: dict[str, list[Concept]] = {}
        for concept in concepts.values():
            for key in {fold(label) for label in (*concept.labels, concept.local_name, concept.notation or "")}:
                if key:
                    self._by_label.setdefault(key, []).append(concept)

    @classmethod
    def from_quads(cls, quads: Iterator[Quad]) -> ConceptIndex:
        scheme_facet: dict[str, Facet] = {FACET_SCHEMES[facet].value: facet for facet in FACETS}
        props: dict[str, dict[str, list]] = {}
        for quad in quads:
            props.setdefault(_value(quad.subject), {}).setdefault(quad.predicate.value, []).append(quad.object)
        concepts = {}
        for iri, p in props.items():
            schemes = [scheme_facet[o.value] for o in p.get(SKOS.inScheme.value, []) if o.value in scheme_facet]
            if not schemes or SKOS.prefLabel.value not in p:
                continue
            types = tuple(LSKG.local(o) for o in p.get(RDF.type.value, []) if o in LSKG)
            concepts[iri] = Concept(
                iri=iri,
                pref_label=_text(p[SKOS.prefLabel.value][0]),
                facet=schemes[0],
                alt_labels=tuple(sorted(_text(o) for o in p.get(SKOS.altLabel.value, []))),
                broader=tuple(sorted(o.value for o in p.get(SKOS.broader.value, []))),
                definition=_text(p[SKOS.definition.value][0]) if SKOS.definition.value in p else "",
                notation=_text(p[SKOS.notation.value][0]) if SKOS.notation.value in p else None,
                types=types,
            )
        return cls(concepts)

    def __len__(self) -> int:
        return len(self.concepts)

    def __contains__(self, iri: object) -> bool:
        return iri in self.concepts

    def get(self, iri: str) -> Concept:
        return self.concepts[iri]

    def facet(self, facet: Facet) -> list[Concept]:
        return [c for c in self.concepts.values() if c.facet == facet]

    def resolve(self, label: str, facet: Facet | None = None) -> Concept:
        """The concept with this IRI, local name, notation, prefLabel or altLabel, compared with
        ``labels.fold`` (case, hyphens, spaces and spelling variants do not matter), singular or plural.
        Raises UnknownConceptError with the closest labels."""
        if label in self.concepts:
            concept = self.concepts[label]
            if facet is None or concept.facet == facet:
                return concept
        words = label.split()
        keys = [fold(label)] + [fold(" ".join([*words[:-1], s])) for s in singular_forms(words[-1])] if words else []
        for candidate_key in keys:
            matches = [c for c in self._by_label.get(candidate_key, []) if facet is None or c.facet == facet]
            if matches:
                return min(matches, key=lambda c: (fold(c.pref_label) != candidate_key, c.iri))
        names = sorted({lab for c in self.concepts.values() if facet is None or c.facet == facet for lab in c.labels})
        suggestions = difflib.get_close_matches(label, names, n=3, cutoff=0.5)
        raise UnknownConceptError(label, facet=facet, suggestions=suggestions)

    def ancestors(self, iri: str) -> set[str]:
        """All concepts above ``iri`` through skos:broader (not including itself)."""
        seen: set[str] = set()
        stack = list(self.concepts[iri].broader) if iri in self.concepts else []
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(self.concepts[parent].broader if parent in self.concepts else ())
        return seen

    def descendants(self, iri: str) -> set[str]:
        return {c.iri for c in self.concepts.values() if iri in self.ancestors(c.iri)}

    def depth(self, iri: str) -> int:
        """0 for a top concept, 1 for its children... (longest path up)."""
        concept = self.concepts.get(iri)
        if concept is None or not concept.broader:
            return 0
        return 1 + max(self.depth(b) for b in concept.broader)

    def families(self, iri: str, extra_broader: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Family names (CNN, RNN...) a model concept belongs to; a hybrid belongs to several."""
        roots = {iri, *extra_broader}
        for root in list(roots):
            roots |= self.ancestors(root)
        return tuple(sorted(MODEL.local(r) for r in roots if r in self.concepts and "ModelFamily" in self.concepts[r].types))

    def label(self, iri: str) -> str:
        return self.concepts[iri].pref_label if iri in self.concepts else iri.rsplit("/", 1)[-1]


def candidate_iri(label: str) -> str:
    """The IRI of a candidate concept (an architecture the ontology does not know yet). Case is kept, so two
    spellings are two candidates (each with one prefLabel) until a curator merges them."""
    name = "".join(ch if ch.isalnum() else "-" for ch in label.strip()).strip("-")
    return CANDIDATE[name or stable_id(label, length=8)].value


def _text(term: object) -> str:
    return term.value if isinstance(term, Literal) else str(term)


def _value(term: object) -> str:
    """An IRI's or a literal's text (a blank node's id; a quoted triple's ``str``)."""
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


@dataclass(frozen=True)
class TriggerEvent:
    """A named event or setting (``ontology/events.ttl``) whose landslides are of a known trigger type."""

    iri: str
    label: str
    alt_labels: tuple[str, ...]
    trigger_type: str
    """IRI of the landslide type concept it implies (earthquake-induced landslide...)."""
    date: str | None = None
    place: str | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.alt_labels)


@functools.lru_cache(maxsize=8)
def collection_members(collection: str) -> frozenset[str]:
    """IRIs of the skos:member of a SKOS collection of the packaged ontology (``COLLECTION["MethodStep"]``),
    with the concepts narrower than a member."""
    members = {_value(quad.object) for path in ontology_files() for quad in _parse(path, ONTOLOGY_GRAPH)
               if _value(quad.subject) == collection and quad.predicate.value == SKOS.member.value}
    index = concept_index()
    return frozenset(members | {d for m in members for d in index.descendants(m)})


@functools.lru_cache(maxsize=1)
def trigger_events() -> tuple[TriggerEvent, ...]:
    """Every lskg:TriggerEvent of the packaged ontology, in IRI order (parsed once per process)."""
    props: dict[str, dict[str, list]] = {}
    for quad in _parse(EVENTS_FILE, ONTOLOGY_GRAPH):
        props.setdefault(_value(quad.subject), {}).setdefault(quad.predicate.value, []).append(quad.object)
    events = []
    for iri, p in sorted(props.items()):
        if LSKG.TriggerEvent not in p.get(RDF.type.value, []):
            continue
        events.append(TriggerEvent(
            iri=iri, label=_text(p[RDFS.label.value][0]),
            alt_labels=tuple(sorted(_text(o) for o in p.get(SKOS.altLabel.value, []))),
            trigger_type=p[LSKG.triggerType.value][0].value,
            date=_text(p[LSKG.eventDate.value][0]) if LSKG.eventDate.value in p else None,
            place=_text(p[LSKG.eventPlace.value][0]) if LSKG.eventPlace.value in p else None))
    return tuple(events)



@functools.lru_cache(maxsize=1)
def concept_index() -> ConceptIndex:
    """The index of the packaged ontology (parsed once per process)."""
    return ConceptIndex.from_quads(ontology_quads())
