"""``/studies``: the studies of the graph, filtered on the four facets and the year, with facts and evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from lskg.api.deps import StateDep
from lskg.api.errors import NotFoundError
from lskg.api.ids import PROPERTY_FACET, concept_ref, resolve, study_id, study_iri, text, year
from lskg.api.schemas import (
    ConceptRef,
    ErrorResponse,
    EvidenceOut,
    FactOut,
    StudyDetail,
    StudyPage,
    StudySummary,
)
from lskg.kg import read
from lskg.kg.read import STUDY_FILTERS

router = APIRouter(tags=["studies"])
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
                                           503: {"model": ErrorResponse}}

Year = Annotated[int, Field(ge=1900, le=2200)]
ConceptFilter = Annotated[list[str] | None, Query(description="Concept labels or IRIs (repeatable or "
                                                               "comma-separated); narrower concepts match too")]


@router.get("/studies", response_model=StudyPage, responses=ERRORS, summary="List studies")
def list_studies(
    state: StateDep,
    family: Annotated[list[str] | None, Query(description="Model family label or IRI (CNN, RNN, ...)")] = None,
    model: ConceptFilter = None,
    data: ConceptFilter = None,
    landslide_type: ConceptFilter = None,
    task: ConceptFilter = None,
    year_: Annotated[list[Year] | None, Query(alias="year", description="Publication year (repeatable)")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> StudyPage:
    """Studies matching every given filter (any value of a repeated filter), newest first.

    Example: `/studies?data=InSAR&landslide_type=creeping` (InSAR also matches SBAS-InSAR and PS-InSAR).
    """
    given = {"family": family, "model": model, "data": data, "landslide_type": landslide_type, "task": task}
    filters: dict[str, list[str | int]] = {k: list(resolve(v, STUDY_FILTERS[k])) for k, v in given.items() if v}
    if year_:
        filters["year"] = list(year_)
    page = read.studies(state.store, filters, offset=offset, limit=limit)
    items = [StudySummary(id=study_id(s.iri), iri=s.iri, title=s.title, year=s.year) for s in page.items]
    shown: dict[str, list[ConceptRef | int]] = {
        k: [v if isinstance(v, int) else concept_ref(v) for v in values] for k, values in page.filters.items()}
    return StudyPage(total=page.total, offset=offset, limit=limit, filters=shown, items=items)


@router.get("/studies/{id}", response_model=StudyDetail, responses=ERRORS, summary="One study with its facts")
def get_study(state: StateDep, id: Annotated[str, Path(max_length=200, description="Study id from /studies")]) -> StudyDetail:
    """The study's record and every fact extracted from it, each with its evidence sentence."""
    iri = study_iri(id)
    rows = state.store.select("api_study", study=iri)
    if not rows:
        raise NotFoundError(f"no study with id {id!r}", hint="ids come from /studies")
    r = rows[0]
    facts = []
    for f in state.store.select("study_facts", study=iri):
        prop = f["property"].value
        facts.append(FactOut(
            property=prop, facet=PROPERTY_FACET.get(prop), concept=concept_ref(f["concept"].value, text(f["label"])),
            role=text(f["role"]) or "", confidence=float(text(f["confidence"]) or 0),
            evidence=EvidenceOut(sentence=text(f["sentence"]) or "", span=text(f["span"]) or "",
                                 document=text(f["document"]) or "")))
    authors = [a for a in (text(r["authors"]) or "").split("\u001f") if a]
    return StudyDetail(id=study_id(iri.value), iri=iri.value, title=text(r["title"]) or "", year=year(r["year"]),
                       doi=text(r["doi"]), venue=text(r["venue"]), abstract=text(r["abstract"]), authors=authors,
                       facts=facts)
