"""``/concepts`` (labels, hierarchy, study counts) and ``/stats``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from lskg.api.deps import AppState, StateDep
from lskg.api.errors import NotFoundError
from lskg.api.ids import concept_id, concept_ref, study_id
from lskg.api.schemas import (
    ConceptDetail,
    ConceptList,
    ConceptSummary,
    ErrorResponse,
    FacetName,
    Stats,
    StudySummary,
)
from lskg.errors import UnknownConceptError
from lskg.kg import read
from lskg.ontology import concept_index
from lskg.records import FACETS

router = APIRouter(tags=["concepts"])
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def study_counts(state: AppState) -> dict[str, int]:
    """Studies per concept (a concept counts its narrower concepts' studies), memoised per graph version."""
    if "concept_counts" not in state.cache:
        state.cache["concept_counts"] = read.concept_counts(state.store)
    return state.cache["concept_counts"]


def _summary(state: AppState, iri: str) -> ConceptSummary:
    c = concept_index().get(iri)
    return ConceptSummary(id=concept_id(iri), iri=iri, label=c.pref_label, facet=c.facet,
                          alt_labels=list(c.alt_labels), broader=list(c.broader),
                          studies=study_counts(state).get(iri, 0))


@router.get("/concepts", response_model=ConceptList, responses=ERRORS, summary="Ontology concepts")
def list_concepts(
    state: StateDep,
    facet: Annotated[FacetName | None, Query(description="Only this facet")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Substring of a label")] = None,
) -> ConceptList:
    """Every concept of the four facets (model, data, landslide_type, task) with labels, broader concepts and
    the number of studies that use it or a narrower concept."""
    index = concept_index()
    needle = (q or "").lower()
    items = [_summary(state, c.iri) for c in index.concepts.values()
             if (facet is None or c.facet == facet) and (not needle or any(needle in lab.lower() for lab in c.labels))]
    items.sort(key=lambda c: (FACETS.index(c.facet), -c.studies, c.label.lower()))
    return ConceptList(total=len(items), items=items)


@router.get("/concepts/{id:path}", response_model=ConceptDetail, responses=ERRORS, summary="One concept")
def get_concept(state: StateDep, id: Annotated[str, Path(max_length=300, description="e.g. model/LSTM, or a label")]) -> ConceptDetail:
    try:
        detail = read.concept(state.store, id, counts=study_counts(state))
    except UnknownConceptError as exc:
        raise NotFoundError(f"no concept {id!r}", hint="ids and labels come from /concepts") from exc
    c = detail.concept
    index = concept_index()
    return ConceptDetail(
        **_summary(state, c.iri).model_dump(), definition=c.definition, types=list(c.types),
        broader_concepts=[concept_ref(b) for b in c.broader if b in index],
        narrower_concepts=[concept_ref(n) for n in detail.narrower],
        example_studies=[StudySummary(id=study_id(s.iri), iri=s.iri, title=s.title, year=s.year)
                         for s in detail.example_studies])


@router.get("/stats", response_model=Stats, responses=ERRORS, tags=["stats"], summary="Size of the graph")
def stats(state: StateDep) -> Stats:
    """The same record as `lskg stats` (``lskg.kg.read.stats``), memoised per graph version."""
    if "stats" not in state.cache:
        record = read.stats(state.store, counts=study_counts(state))
        state.cache["stats"] = Stats(
            studies=record.studies, facts=record.facts, evidence=record.evidence, metrics=record.metrics,
            candidates=record.candidates, triples=record.quads, named_graphs=record.named_graphs,
            concepts={str(k): v for k, v in record.concepts.items()},
            used_concepts={str(k): v for k, v in record.used_concepts.items()})
    return state.cache["stats"]
