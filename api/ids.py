"""Path ids of studies and concepts, and concept parameters given as labels or IRIs."""

from __future__ import annotations

from collections.abc import Iterable

from lskg.api.errors import NotFoundError
from lskg.api.schemas import ConceptRef
from lskg.facets import PROPERTY_FACET
from lskg.kg.rdf import NamedNode, iri
from lskg.kg.read import resolve_many
from lskg.ontology import concept_index
from lskg.ontology.terms import CONCEPT, STUDY
from lskg.records import Facet

__all__ = ["PROPERTY_FACET", "concept_id", "concept_ref", "resolve", "study_id", "study_iri", "text", "year"]


def study_id(iri: str) -> str:
    return STUDY.local(iri) if iri in STUDY else iri


def study_iri(study_id: str) -> NamedNode:
    if study_id.startswith(("http://", "https://")):
        return iri(study_id)
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
    """Concept IRIs for labels, local names or IRIs (UnknownConceptError, with suggestions, otherwise): the one
    resolution of the CLI and the API, ``lskg.kg.read.resolve_many``."""
    return resolve_many(values, facet)


def text(term: object) -> str | None:
    """A term's lexical value (an IRI's text, a literal's string), else its ``str``."""
    if term is None:
        return None
    value = getattr(term, "value", None)
    return value if isinstance(value, str) else str(term)


def year(term: object) -> int | None:
    value = text(term)
    try:
        return int(value[:4]) if value else None
    except ValueError:
        return None
