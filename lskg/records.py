"""The typed records that travel between packages.

    extract  --(Study, StudyFacts[Fact(Evidence)], Metric)-->  kg.mapping  --quads-->  Store
    gnn      --(context -> Recommendation, GapReport[Gap])-->  cli / api (the API serves these records as they are)
    gnn.evaluate  --(EvaluationReport, GapEvaluation)-->  cli (and the artefact's metrics.json)

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


# --- what gnn/ answers (service.recommend, service.gaps): the CLI renders these, the API's schemas are these ---

Relation = Literal["exact", "narrower", "broader"]
"""How a study matches an asked concept: it states it, a narrower one (asked InSAR, it used SBAS-InSAR), or only
the nearest broader one any study states (asked InSAR time series, it says InSAR: weaker evidence)."""

Basis = Literal["combined", "parts", "none"]
"""What a recommendation rests on: studies that combine every part of the context, only studies of the parts
separately, or no study at all (the ranking is then each model's overall share)."""


@dataclass(frozen=True)
class ConceptRef:
    """An ontology concept as answers name it."""

    iri: str
    label: str
    facet: Facet


@dataclass(frozen=True)
class SupportingStudy:
    """A study a recommendation rests on."""

    iri: str
    title: str
    short_title: str
    """The title shortened at a word boundary (never mid-word), for one-line displays."""
    year: int | None = None
    relation: Relation | None = None
    """For the studies of one context part: how the study matches the asked concept."""
    matches: tuple[str, ...] = ()
    """For the studies behind a recommended model: the context parts it matches (``InSAR (broader)``)."""


@dataclass(frozen=True)
class PartEvidence:
    """The studies behind one part of the context (one asked data source, landslide type or task)."""

    facet: Facet
    iri: str
    label: str
    studies: int
    """Studies matching the part at any relation (``exact + narrower + broader``)."""
    exact: int
    narrower: int
    broader: int
    narrower_concepts: tuple[str, ...]
    """Labels of the narrower concepts the ``narrower`` studies state."""
    broader_concepts: tuple[str, ...]
    """Labels of the broader concepts the ``broader`` studies state."""
    supporting: tuple[SupportingStudy, ...]
    """A few of them, exact before narrower before broader, newest first."""


@dataclass(frozen=True)
class RecommendationEvidence:
    """What a recommendation rests on: each part of the context, the studies combining every part, in words."""

    parts: tuple[PartEvidence, ...]
    combined: int
    """Studies that match every part (at any relation)."""
    combined_studies: tuple[SupportingStudy, ...]
    basis: Basis
    summary: str
    """One plain paragraph: "No study in the graph combines InSAR with creeping; this rests on ...\""""


@dataclass(frozen=True)
class RankedModel:
    """One recommended model family or architecture."""

    iri: str
    label: str
    score: float
    uncertainty: float
    support: tuple[SupportingStudy, ...]
    """Studies that used it with the most matching context parts."""
    paths: tuple[str, ...]
    """The basis of the score in words: per part, how many studies link it to this model; the hierarchy."""
    confident: bool
    """False when no study supports the context (the score is then the model's overall share)."""
    interval: tuple[float, float] | None = None
    """A 90 % interval of the score: ``score +/- 1.645 uncertainty`` widened by the factor that made it cover 90 %
    of held-out studies when the recommender was trained (``Recommendation.intervals`` says how far); None when
    no factor could be measured (too few dated studies, or no uncertainty) or no study supports the context."""


@dataclass(frozen=True)
class RecommendationContext:
    """The context as understood: concepts per facet."""

    data: tuple[ConceptRef, ...] = ()
    landslide_type: tuple[ConceptRef, ...] = ()
    task: tuple[ConceptRef, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    """Model families and architectures ranked for a context, with the evidence they rest on."""

    context: RecommendationContext
    recommender: str
    model_version: str
    evidence: RecommendationEvidence
    families: tuple[RankedModel, ...]
    architectures: tuple[RankedModel, ...]
    intervals: str = ""
    """How the intervals were calibrated, in words (or why there are none)."""

    @property
    def summary(self) -> str:
        return self.evidence.summary


@dataclass(frozen=True)
class Gap:
    """A plausible but understudied combination of a model family with concepts of other facets."""

    concepts: tuple[ConceptRef, ...]
    observed: int
    """Studies that already combine them."""
    plausibility: float
    gap_score: float
    kind: Literal["white spot", "thin spot"]
    why: tuple[str, ...]
    """Its evidence in words: shared neighbouring concepts, pair counts, the hierarchy."""
    uncertainty: float = 0.0
    learned: float = 0.0
    """The learned gap scorer's probability that the combination is studied next."""


@dataclass(frozen=True)
class GapReport:
    """Ranked gaps over some facets, from one trained model."""

    facets: tuple[Facet, ...]
    model_version: str
    scorer: str
    """How plausibility was scored."""
    generated: str
    gaps: tuple[Gap, ...]


# --- what gnn/evaluate.py answers (`lskg evaluate recommend`, `lskg evaluate gaps`, `metrics.json`) -------------
# ``dataclasses.asdict`` of these is the ``--json`` output; metric names with ``@`` (``hits@3``) are spelt ``_at_``
# in field names (``hits_at_3``). Per-seed detail that nothing reads by name stays a mapping.

SplitName = Literal["temporal", "random"]


@dataclass(frozen=True)
class Spread:
    """A metric over seeds: its mean and standard deviation."""

    mean: float
    std: float


@dataclass(frozen=True)
class Calibration:
    """Held-out calibration of one recommender at one level, averaged over seeds (``evaluate.calibration`` says
    how each is measured); None where it could not be measured (``interval_scale`` of zero-width intervals)."""

    interval_coverage: float | None = None
    brier: float | None = None
    ece: float | None = None
    conformal_coverage: float | None = None
    conformal_set_size: float | None = None
    interval_scale: float | None = None
    """How many times wider than +/- 1.645 std the interval must be to cover 90 % (split-conformal)."""
    scaled_interval_coverage: float | None = None
    """The held-out coverage of the interval widened by ``interval_scale``."""


@dataclass(frozen=True)
class RecommenderScores:
    """One recommender on one split at one level: filtered-rank metrics over seeds, and its calibration."""

    hits_at_1: Spread
    hits_at_3: Spread
    mrr: Spread
    amri: Spread
    auc: Spread
    studies: int
    """Test studies with a true concept at this level (first seed)."""
    calibration: Calibration


@dataclass(frozen=True)
class LevelScores:
    """Every recommender at one level (family or architecture) of one split."""

    candidates: int
    random_hits_at_3: float
    """Expected Hits@3 of a random order: the floor."""
    cold_start_truths: int
    """True concepts of test studies that no training study uses (per seed)."""
    recommenders: dict[str, RecommenderScores]


@dataclass(frozen=True)
class SplitScores:
    """One kind of study-level split, scored for every recommender over every seed."""

    split: SplitName
    split_year: int | None
    train: int
    test: int
    seeds: tuple[int, ...]
    levels: dict[str, LevelScores]
    """Per level: ``family`` and ``architecture``."""
    fit_seconds: dict[str, float]
    """Seconds to fit and predict, per recommender, averaged over seeds."""


@dataclass(frozen=True)
class Comparison:
    """Paired bootstrap of a graph model minus the best baseline (by mean ``metric``) on one split and level."""

    split: SplitName
    challenger: str
    best_baseline: str
    level: str
    metric: str
    diff: float
    low: float
    """The 95 % percentile interval of ``diff``: ``low..high``."""
    high: float
    pairs: int
    """Test studies the bootstrap resampled (each study's seeds averaged first)."""


@dataclass(frozen=True)
class DefaultRule:
    """When a graph model becomes the default: it beats the best baseline on ``metric`` at ``level`` of the
    ``split`` split by at least ``margin``, with the bootstrap interval above zero."""

    metric: str = "hits@3"
    level: str = "family"
    split: SplitName = "temporal"
    margin: float = 0.03


@dataclass(frozen=True)
class DefaultChoice:
    """The recommender the rule makes the default, the comparison it rests on, and why, in words."""

    recommender: str
    rule: DefaultRule
    comparison: Comparison | None
    reason: str


@dataclass(frozen=True)
class ScorerBacktest:
    """One gap scorer in the back-test."""

    auc: float
    auc_ci95: tuple[float, float] | None
    precision_at_10: float
    kind: Literal["heuristic", "learned", "recommender"]


@dataclass(frozen=True)
class LearnedVsHeuristic:
    """Paired bootstrap of the learned gap scorer's AUC minus the best single heuristic's."""

    heuristic: str
    diff: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class PlausibilityFilter:
    """What the plausibility filter removes from the back-test's white spots, and its errors."""

    implausible_white_spots: int
    implausible_positives: int
    """Of those, the ones a later study filled."""


@dataclass(frozen=True)
class GapBacktest:
    """White spots at the split year (no study yet), positive if a later study fills them; every scorer's AUC."""

    split_year: int | None
    candidates: int
    positives: int
    learned_trained_on: dict[str, int]
    """The learned scorer's own training: its cutoff year, candidates and positives."""
    filter: PlausibilityFilter
    by_kind: dict[str, dict[str, int]]
    """Per kind of combination (pair, triple): candidates and positives."""
    scorers: dict[str, ScorerBacktest]
    learned_vs_best_heuristic: LearnedVsHeuristic | None = None


@dataclass(frozen=True)
class GapMethod:
    """How gaps are scored (the learned scorer, or the single heuristic that back-tests better), and why."""

    method: str
    reason: str


@dataclass(frozen=True)
class GraphSummary:
    """The graph an evaluation ran on."""

    studies: int
    usable: int
    """Studies with a model fact and a context fact."""
    fingerprint: str


@dataclass(frozen=True)
class Table1Row:
    """One row of the review's Table 1 queried as a context: where the row's family ranks."""

    family: str
    rank: int
    """1 = first among the families."""
    top3: tuple[str, ...]
    family_studies: int
    concepts_without_study: tuple[str, ...]
    """The row's concepts no study uses (the recommender can only back off from those)."""


@dataclass(frozen=True)
class FamilyScore:
    family: str
    score: float


@dataclass(frozen=True)
class FamilyShare:
    family: str
    share: float
    """Share of the bootstrap refits (0..1)."""


@dataclass(frozen=True)
class Table1Stability:
    """Table 1 recovery and the InSAR ranking refitted on bootstrap resamples of the usable studies (as many
    studies as there are, drawn with replacement): how much the answers depend on which studies happen to be in
    the graph."""

    resamples: int
    seed: int
    top3: tuple[FamilyShare, ...]
    """Per Table 1 row (its family), the share of refits with the family in the row's top 3."""
    all_rows: float
    """Share of refits with every row's family in its top 3."""
    all_but_one: float
    """Share of refits with at most one row missed."""
    insar_first: tuple[FamilyShare, ...]
    """Each family that came first for the InSAR example in some refit, the most frequent first."""


@dataclass(frozen=True)
class Table1Recovery:
    """The review's Table 1 recovered from study evidence by one recommender fitted on every usable study."""

    rows: tuple[Table1Row, ...]
    recovered: int
    """Rows whose family is in the top 3."""
    total: int
    insar_creeping_displacement: tuple[FamilyScore, ...]
    """The top families for InSAR time series + creeping (slow-moving) landslides + displacement prediction."""
    stability: Table1Stability | None = None
    """The same questions on bootstrap resamples of the studies (the default recommender only)."""


@dataclass(frozen=True)
class GapEvaluation:
    """`lskg evaluate gaps`: the back-test alone, and the methods it selects."""

    gap_backtest: GapBacktest
    gap_method: GapMethod
    gap_scorer: str
    """The recommender whose plausibility back-tests best."""
    graph: GraphSummary


@dataclass(frozen=True)
class EvaluationReport:
    """`lskg evaluate recommend`: every recommender on the temporal (and random) split, the graph models against
    the best baseline, the default this makes, the gap back-test and the review's Table 1 per recommender."""

    temporal: SplitScores
    random: SplitScores | None
    comparisons: tuple[Comparison, ...]
    default: DefaultChoice
    gap_backtest: GapBacktest
    gap_scorer: str
    gap_method: GapMethod
    graph: GraphSummary
    table1: dict[str, Table1Recovery]
    """Per recommender (the count baselines, and a graph model only when it is the default); empty when the
    ontology has no Table 1."""
