"""The typed records that travel between packages.

    extract  --(Study, StudyFacts[Fact(Evidence)], Metric)-->  kg.mapping  --quads-->  Store
    gnn      --(Context -> Recommendation, Gap)-->  cli / api

Facet names are the keys used in JSON output and the API: ``model``, ``data``, ``landslide_type``, ``task``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Facet = Literal["model", "data", "landslide_type", "task"]
FACETS: tuple[Facet, ...] = ("model", "data", "landslide_type", "task")

Role = Literal["proposed", "applied", "baseline", "mentioned", "method_step"]
"""How a study relates to a model: it proposes it, applies it, compares against it (baseline) or only mentions it.
Data sources, landslide types and tasks use ``applied``; a task concept the study uses only as a step on the way
(feature selection, data fusion), as the extractor's decision stage finds, has ``method_step``."""

StudyKind = Literal["landslide_study", "method_reference"]

TextKind = Literal["abstract", "paraphrase", "review_summary"]
"""What a study's text is: the authors' own abstract, an abstract paraphrased in our own words (the embedded
corpus), or a review's account of the study."""


def normalize_doi(doi: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes; None when empty."""
    if not doi:
        return None
    doi = doi.strip().lower()
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi)
    return doi or None


def normalize_title(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a title, for deduplication."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def study_key(doi: str | None, title: str, year: int | None) -> str:
    """The identity of a study: its DOI, else its normalised title and year."""
    norm = normalize_doi(doi)
    return f"doi:{norm}" if norm else f"title:{normalize_title(title)}|{year or ''}"


def stable_id(*parts: object, length: int = 16) -> str:
    """A short deterministic hex id from the given parts (rebuilds mint the same IRIs)."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class Study:
    """One bibliographic record, as read from a corpus."""

    id: str
    title: str
    year: int | None = None
    authors: tuple[str, ...] = ()
    doi: str | None = None
    venue: str | None = None
    abstract: str = ""
    source: str = ""
    """Where the record came from: ``file.bib#key``, ``openalex:W123``, ``review.txt#Nava2022``..."""
    kind: StudyKind = "landslide_study"
    sources: tuple[str, ...] = ()
    """Every source this study was seen in (after deduplication across sources)."""
    url: str | None = None
    """Where the text was read (a publisher page), when the record says so."""
    text_kinds: tuple[TextKind, ...] = ("abstract",)
    """What the text is, per source (several after a merge: a paraphrased abstract and a review's summary)."""
    same_as: tuple[str, ...] = ()
    """Ids of other records that describe the same study (a review summary of this paper); merged at build."""

    @property
    def key(self) -> str:
        return study_key(self.doi, self.title, self.year)

    @property
    def text(self) -> str:
        """Title and abstract, the text extraction reads."""
        return f"{self.title}. {self.abstract}".strip() if self.title else self.abstract


@dataclass(frozen=True)
class Evidence:
    """Where a fact was read: a character span of a sentence in a source document, by an extractor."""

    document: str
    sentence: str
    start: int
    end: int
    span: str
    extractor: str
    confidence: float


@dataclass(frozen=True)
class Fact:
    """A study-level fact: the study relates to an ontology concept on one facet, with a role and evidence.

    ``concept`` is a concept IRI (string). For a candidate concept (an architecture not in the ontology)
    ``candidate`` is True, ``label`` is its surface name and ``broader`` lists the family IRIs it was assigned to.
    """

    facet: Facet
    concept: str
    label: str
    evidence: Evidence
    role: Role = "applied"
    candidate: bool = False
    broader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    """A reported performance figure: ``accuracy 93 %``, ``RMSE 3.2 mm``."""

    name: str
    value: float
    unit: str | None
    evidence: Evidence


@dataclass
class StudyFacts:
    """A study with everything extraction found about it."""

    study: Study
    facts: list[Fact] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    place: str | None = None
    place_evidence: Evidence | None = None


@dataclass(frozen=True)
class Context:
    """A recommendation query: concept IRIs per facet (any may be empty)."""

    data: tuple[str, ...] = ()
    landslide_type: tuple[str, ...] = ()
    task: tuple[str, ...] = ()
