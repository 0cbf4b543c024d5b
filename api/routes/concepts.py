"""``/concepts`` (labels, hierarchy, study counts) and ``/stats``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from lskg.api.deps import AppState, StateDep
from lskg.api.errors import NotFoundError
from lskg.api.ids import concept_id, concept_ref, study_id, text, year
from lskg.api.schemas import (
    ConceptDetail,
    ConceptList,
    ConceptSummary,
    ErrorResponse,
    FacetName,
    Stats,
    StudySummary,
)
from lskg.ontology import concept_index
from lskg.ontology.terms import CONCEPT, FACET_SCHEMES
from lskg.records import FACETS

router = APIRouter(tags=["concepts"])
ERRORS = {404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def study_counts(state: AppState) -> dict[str, int]:
    """Studies per concept (a concept counts its narrower concepts' studies), memoised per graph version."""
    if "concept_counts" not in state.cache:
        rows = state.store.select("concept_study_counts")
        state.cache["concept_counts"] = {r["concept"].value: int(r["studies"].value) for r in rows}
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
    index = concept_index()
    iri = CONCEPT.iri + id if CONCEPT.iri + id in index else id
    if iri not in index:
        try:
            iri = index.resolve(id).iri
        except Exception as exc:
            raise NotFoundError(f"no concept {id!r}", hint="ids and labels come from /concepts") from exc
    c = index.get(iri)
    narrower = [x.iri for x in index.concepts.values() if iri in x.broader]
    param = {"model": "model", "data": "data", "landslide_type": "landslide_type", "task": "task"}[c.facet]
    rows = state.store.select("api_studies", **{param: [iri]})[:10]
    return ConceptDetail(
        **_summary(state, iri).model_dump(), definition=c.definition, types=list(c.types),
        broader_concepts=[concept_ref(b) for b in c.broader if b in index],
        narrower_concepts=[concept_ref(n) for n in sorted(narrower)],
        example_studies=[StudySummary(id=study_id(r["study"].value), iri=r["study"].value,
                                      title=text(r["title"]) or "", year=year(r["year"])) for r in rows])


@router.get("/stats", response_model=Stats, responses=ERRORS, tags=["stats"], summary="Size of the graph")
def stats(state: StateDep) -> Stats:
    if "stats" not in state.cache:
        row = state.store.select("graph_stats")[0]
        counts = study_counts(state)
        index = concept_index()
        state.cache["stats"] = Stats(
            **{k: int(row[k].value) for k in ("studies", "facts", "evidence", "metrics", "candidates")},
            triples=len(state.store), named_graphs=len(state.store.named_graphs()),
            concepts={f: len(index.facet(f)) for f in FACET_SCHEMES},
            used_concepts={f: sum(1 for c in index.facet(f) if counts.get(c.iri, 0) > 0) for f in FACET_SCHEMES})
    return state.cache["stats"]
