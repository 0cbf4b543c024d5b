"""The models of every REST response (they are the OpenAPI schema): pydantic models here, and the records of
``lskg.records`` that the Python API returns, served as they are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lskg import records

FacetName = Literal["model", "data", "landslide_type", "task"]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["LSKG-E102"])
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail
    status: int


class SyntaxCheck(BaseModel):
    ok: bool
    form: str | None = Field(None, description="SELECT, ASK, CONSTRUCT, DESCRIBE or UPDATE")
    message: str | None = Field(None, description="The parser's message when the text is not valid")


# ---- studies and concepts ---------------------------------------------------------------------------------

class ConceptRef(BaseModel):
    iri: str
    label: str
    facet: FacetName | None = None
    id: str | None = Field(None, description="Path id for /concepts/{id}, e.g. model/LSTM")


class StudySummary(BaseModel):
    id: str = Field(description="Path id for /studies/{id}")
    iri: str
    title: str
    year: int | None = None


class StudyPage(BaseModel):
    total: int
    offset: int
    limit: int
    filters: dict[str, list[ConceptRef | int]] = Field(default_factory=dict)
    items: list[StudySummary]


class EvidenceOut(BaseModel):
    sentence: str
    span: str
    document: str


class FactOut(BaseModel):
    property: str
    facet: FacetName | None
    concept: ConceptRef
    role: str
    confidence: float
    evidence: EvidenceOut


class StudyDetail(StudySummary):
    doi: str | None = None
    venue: str | None = None
    abstract: str | None = None
    authors: list[str] = Field(default_factory=list)
    facts: list[FactOut] = Field(default_factory=list)


class ConceptSummary(BaseModel):
    id: str
    iri: str
    label: str
    facet: FacetName
    alt_labels: list[str] = Field(default_factory=list)
    broader: list[str] = Field(default_factory=list, description="IRIs of broader concepts")
    studies: int = Field(description="Studies using this concept or a narrower one")


class ConceptDetail(ConceptSummary):
    definition: str = ""
    types: list[str] = Field(default_factory=list)
    broader_concepts: list[ConceptRef] = Field(default_factory=list)
    narrower_concepts: list[ConceptRef] = Field(default_factory=list)
    example_studies: list[StudySummary] = Field(default_factory=list)


class ConceptList(BaseModel):
    total: int
    items: list[ConceptSummary]


class Stats(BaseModel):
    studies: int
    facts: int
    evidence: int
    metrics: int
    candidates: int
    triples: int
    named_graphs: int
    concepts: dict[str, int] = Field(description="Ontology concepts per facet")
    used_concepts: dict[str, int] = Field(description="Concepts with at least one study, per facet")


# ---- recommendations and gaps: the records lskg.gnn.service returns, served as they are --------------------------
# One definition of each shape (lskg.records); FastAPI builds their schema and serialises them.

Recommendation = records.Recommendation
GapReport = records.GapReport


# ---- /ask ------------------------------------------------------------------------------------------------

class AskAnswer(BaseModel):
    """Derived from ``lskg.kg.read.Answer`` (the record `lskg ask` prints too)."""

    question: str
    recognised: list[ConceptRef] = Field(description="Ontology concepts found in the question")
    template: str | None = Field(None, description="What the question asks for: studies, models, data, "
                                                   "landslide_type, task, count, metric or table1")
    metric: str | None = Field(None, description="The metric asked about (RMSE, AUC...), for metric questions")
    sparql: str | None = Field(None, description="The SPARQL query that was run (run it yourself at /sparql)")
    columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, str | None]] = Field(default_factory=list)
    message: str = Field(description="A one-line reading of the answer, or help when the question was not "
                                     "understood")
    unknown: list[str] = Field(default_factory=list, description="Words of the question that were not understood")
    relaxed: list[str] = Field(default_factory=list, description="When the question as asked had no rows: how it "
                                                                 "was relaxed to get these")
    suggestions: list[str] = Field(default_factory=list)
