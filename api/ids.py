"""Path ids of studies and concepts, and concept parameters given as labels or IRIs."""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from lskg.api.errors import NotFoundError
from lskg.api.schemas import ConceptRef
from lskg.errors import QueryError
from lskg.ontology import concept_index
from lskg.ontology.terms import CONCEPT, FACET_PROPERTIES, LSKG, STUDY
from lskg.records import Facet

PROPERTY_FACET = {prop.value: facet for facet, prop in FACET_PROPERTIES.items()} | {LSKG.comparesWith.value: "model"}


def study_id(iri: str) -> str:
    return STUDY.local(iri) if iri in STUDY else iri


def study_iri(study_id: str) -> NamedNode:
    if study_id.startswith(("http://", "https://")):
        return NamedNode(study_id)
    if not study_id.replace("-", "").replace("_", "").isalnum():
        raise NotFoundError(f"no study with id {study_id!r}", hint="ids come from /studies")
    return STUDY[study_id]


def concept_id(iri: str) -> str:
    return CONCEPT.local(iri) if iri in CONCEPT else iri


def concept_ref(iri: str, label: str | None = None) -> ConceptRef:
    index = concept_index()
    concept = index.concepts.get(iri)
    return ConceptRef(iri=iri, label=label or index.label(iri), facet=concept.facet if concept else None,
                      id=concept_id(iri))


def resolve(values: Iterable[str] | None, facet: Facet) -> list[str]:
    """Concept IRIs for labels, local names or IRIs (UnknownConceptError, with suggestions, otherwise)."""
    index = concept_index()
    out = []
    for value in values or []:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if part.startswith(("http://", "https://")) and (part in index or part in CONCEPT):
                try:
                    out.append(NamedNode(part).value)
                except ValueError as exc:
                    raise QueryError(f"{part!r} is not a valid IRI: {exc}") from exc
            else:
                out.append(index.resolve(part, facet=facet).iri)
    return out


def text(term: object) -> str | None:
    if term is None:
        return None
    return term.value if isinstance(term, Literal | NamedNode) else str(term)


def year(term: object) -> int | None:
    value = text(term)
    try:
        return int(value[:4]) if value else None
    except ValueError:
        return None
