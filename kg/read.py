"""The read features of the graph as functions returning records, shared by the CLI and the API:

    stats(store)                 -> GraphStats     (lskg stats, GET /stats)
    studies(store, filters)      -> StudyPage      (lskg studies, GET /studies)
    concept(store, id)           -> ConceptDetail  (GET /concepts/{id})
    ask(store, question)         -> Answer         (lskg ask, GET /ask)

Concept filters are IRIs (resolve labels first with ``resolve_many``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode

from lskg.errors import StoreError, UnknownConceptError
from lskg.facets import CONTEXT_FACETS, FACET_INFO
from lskg.kg import aggregates, queries
from lskg.kg.ask import AnswerKind, Question, read_question
from lskg.kg.store import Store
from lskg.ontology import Concept, ConceptIndex, concept_index
from lskg.ontology.labels import fold
from lskg.ontology.terms import CONCEPT
from lskg.records import FACETS, Facet

SEPARATOR = ","
"""The one list separator of concept parameters, in the CLI (``--data InSAR,GNSS``) and the API
(``?data=InSAR,GNSS``); repeating the option or parameter works too."""


def split_values(values: Iterable[str] | None) -> list[str]:
    """``["InSAR,GNSS", "rainfall data"]`` -> ``["InSAR", "GNSS", "rainfall data"]``."""
    return [part.strip() for value in values or [] for part in value.split(SEPARATOR) if part.strip()]


def resolve_many(values: Iterable[str] | None, facet: Facet | None = None,
                 index: ConceptIndex | None = None) -> list[str]:
    """Concept IRIs for labels, local names (``model/LSTM``) or IRIs, split on the separator; raises
    UnknownConceptError (with suggestions) for the first that names no concept of the facet."""
    index = index or concept_index()
    out: list[str] = []
    for part in split_values(values):
        if part in index or CONCEPT.iri + part in index:
            iri = part if part in index else CONCEPT.iri + part
            if facet is not None and index.get(iri).facet != facet:
                raise UnknownConceptError(part, facet=facet, suggestions=[])
        elif part.startswith(("http://", "https://")) and part in CONCEPT:
            iri = part  # a candidate concept of the graph
        else:
            iri = index.resolve(part, facet=facet).iri
        if iri not in out:
            out.append(iri)
    return out


def _text(term: object) -> str | None:
    if term is None:
        return None
    return term.value if isinstance(term, Literal | NamedNode) else str(term)


def _year(term: object) -> int | None:
    value = _text(term)
    try:
        return int(value[:4]) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ConceptCount:
    iri: str
    label: str
    facet: Facet
    studies: int


@dataclass(frozen=True)
class GraphStats:
    studies: int
    method_references: int
    facts: int
    evidence: int
    metrics: int
    candidates: int
    quads: int
    named_graphs: int
    concepts: Mapping[Facet, int]
    """Ontology concepts per facet."""
    used_concepts: Mapping[Facet, int]
    """Concepts with at least one study (itself or a narrower concept), per facet."""
    top: Mapping[Facet, tuple[ConceptCount, ...]]
    """The most studied concepts per facet, most studied first (ten at most)."""


@dataclass(frozen=True)
class StudySummary:
    iri: str
    title: str
    year: int | None = None


@dataclass(frozen=True)
class StudyPage:
    total: int
    offset: int
    limit: int
    filters: Mapping[str, tuple[str | int, ...]]
    """The filters applied: concept IRIs per facet (and ``family``), years under ``year``."""
    items: tuple[StudySummary, ...]


@dataclass(frozen=True)
class ConceptDetail:
    concept: Concept
    studies: int
    narrower: tuple[str, ...]
    example_studies: tuple[StudySummary, ...]


@dataclass(frozen=True)
class Answer:
    """The answer to a question: the rows, the SPARQL that produced them, and a one-line reading."""

    question: Question
    message: str
    sparql: str | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[Mapping[str, str | None], ...] = ()
    relaxed: tuple[str, ...] = ()
    """When the question as asked had no rows: how it was relaxed to get these ("dropped InSAR", "creeping ->
    slide-type landslide")."""
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def kind(self) -> AnswerKind | None:
        return self.question.kind


def concept_counts(store: Store) -> dict[str, int]:
    """Studies per concept (a concept counts its narrower concepts' studies)."""
    return {r["concept"].value: int(r["studies"].value) for r in store.select("concept_study_counts")}


def stats(store: Store, counts: Mapping[str, int] | None = None) -> GraphStats:
    rows = store.select("graph_stats")
    hint = "rebuild it with `lskg build`, or run `lskg add` once, which recomputes them"
    if not rows:
        raise StoreError("this graph has no build-time aggregates (it was built by an older lskg), so its counts "
                         "and context queries cannot be read", hint=hint)
    written = aggregates.written_versions(store)
    if written != [str(aggregates.VERSION)]:
        raise StoreError(f"this graph's build-time aggregates were derived by another lskg (version "
                         f"{', '.join(written) or 'none'}; this lskg reads version {aggregates.VERSION}), so its "
                         "counts, listing order and context queries cannot be trusted", hint=hint)
    row = rows[0]
    counts = concept_counts(store) if counts is None else counts
    index = concept_index()
    top: dict[Facet, tuple[ConceptCount, ...]] = {}
    for facet in FACETS:
        ranked = sorted((c for c in index.facet(facet) if counts.get(c.iri, 0) > 0),
                        key=lambda c: (-counts[c.iri], c.pref_label.lower()))
        top[facet] = tuple(ConceptCount(c.iri, c.pref_label, facet, counts[c.iri]) for c in ranked[:10])
    return GraphStats(
        studies=int(row["studies"].value), method_references=int(row["methodReferences"].value),
        facts=int(row["facts"].value), evidence=int(row["evidence"].value), metrics=int(row["metrics"].value),
        candidates=int(row["candidates"].value), quads=len(store), named_graphs=len(store.named_graphs()),
        concepts={f: len(index.facet(f)) for f in FACETS},
        used_concepts={f: sum(1 for c in index.facet(f) if counts.get(c.iri, 0) > 0) for f in FACETS},
        top=top)


STUDY_FILTERS: Mapping[str, Facet] = {"family": "model", **{f: f for f in FACETS}}
"""The filters of ``studies``, with the facet their concepts come from."""


def studies(store: Store, filters: Mapping[str, Sequence[str | int]] | None = None, *, offset: int = 0,
            limit: int = 50) -> StudyPage:
    """Studies matching every filter (any value of one filter; narrower concepts match too), newest first.
    ``filters``: concept IRIs under family/model/data/landslide_type/task, years under ``year``."""
    bound = {k: tuple(v) for k, v in (filters or {}).items() if v}
    params = {k: list(v) for k, v in bound.items()}
    total = int(store.select("api_count", **params)[0]["studies"].value)
    rows = store.select("api_studies", **params, limit=limit, offset=offset) if offset < total else []
    items = tuple(StudySummary(r["study"].value, _text(r["title"]) or "", _year(r["year"])) for r in rows)
    return StudyPage(total=total, offset=offset, limit=limit, filters=bound, items=items)


def concept(store: Store, id: str, counts: Mapping[str, int] | None = None, examples: int = 10) -> ConceptDetail:
    """A concept by IRI, path id (``model/LSTM``) or label, with its study count, narrower concepts and example
    studies. UnknownConceptError when nothing matches."""
    index = concept_index()
    iri = resolve_many([id], index=index)[0] if SEPARATOR not in id else index.resolve(id).iri
    c = index.get(iri)
    counts = concept_counts(store) if counts is None else counts
    narrower = tuple(sorted(x.iri for x in index.concepts.values() if iri in x.broader))
    rows = store.select("api_studies", **{c.facet: [iri]}, limit=examples)
    return ConceptDetail(concept=c, studies=counts.get(iri, 0), narrower=narrower,
                         example_studies=tuple(StudySummary(r["study"].value, _text(r["title"]) or "",
                                                            _year(r["year"])) for r in rows))


# --- ask -----------------------------------------------------------------------------------------------------

QUERY_OF_KIND: Mapping[str, str] = {
    "studies": "studies_for_context", "models": "models_for_context", "count": "api_count",
    "data": "api_ask_concepts", "landslide_type": "api_ask_concepts", "task": "api_ask_concepts",
    "metric": "api_ask_metrics", "table1": "api_ask_table1",
}
DESCRIBE: Mapping[str, str] = {
    "studies": "studies", "models": "model families and architectures", "count": "the number of studies",
    "metric": "reported metrics", "table1": "the review's Table 1 correspondences",
} | {f: FACET_INFO[f].plural for f in CONTEXT_FACETS}
EXAMPLES = (
    "which models use InSAR for creeping landslides",
    "which landslide studies used rainfall data",
    "how many studies use LSTM",
    "which data sources are used with CNN",
    "what RMSE do LSTM studies report",
    "what does Table 1 say for debris flows",
)
HELP = ("Ask which studies, models, data, landslide types or tasks, how many studies, what metric they report, or "
        "what the review's Table 1 says, naming ontology concepts, e.g. " + "; ".join(f"'{e}'" for e in EXAMPLES)
        + ". The concepts and their labels are listed at /concepts and by `lskg concepts list`.")


def _hybrid_candidates(store: Store, question: Question, by_facet: Mapping[Facet, list[str]]) -> list[str]:
    """Candidate architectures of the graph that are hybrids of a model family the question names ("VAE-GRU"
    for GRU), or that are spelled as a hybrid token of the question."""
    models = by_facet.get("model", [])
    if not models:
        return []
    index = concept_index()
    wanted = {fold(h) for h in question.hybrids}
    out = []
    for row in store.select("candidate_concepts"):
        label = _text(row["label"]) or ""
        if fold(label) in wanted:
            out.append(row["candidate"].value)
            continue
        parts = [p for p in re.split(r"[-/+ ]", label) if p]
        if len(parts) < 2:
            continue
        for part in parts:
            try:
                iri = index.resolve(part, facet="model").iri
            except UnknownConceptError:
                continue
            if iri in models or index.ancestors(iri) & set(models):
                out.append(row["candidate"].value)
                break
    return out


def _params(kind: str, by_facet: Mapping[Facet, Sequence[str]]) -> dict[str, list[str]]:
    query = QUERY_OF_KIND[kind]
    declared = queries.named_query(query).params
    params: dict[str, list[str]] = {}
    if kind == "table1":
        params = {"model": list(by_facet.get("model", []))}
        params["about"] = [i for f in CONTEXT_FACETS for i in by_facet.get(f, [])]
    else:
        for facet, iris in by_facet.items():
            if facet == kind or (kind == "models" and facet == "model"):
                continue  # asking "which data sources ... InSAR": InSAR is the answer's facet, not a filter
            params[facet] = list(iris)
        if kind in CONTEXT_FACETS:
            params["target"] = [FACET_INFO[kind].predicate.value]  # type: ignore[index]
    return {k: v for k, v in params.items() if v and k in declared}


ASK_ROWS = 100
"""The most rows a studies or metrics answer lists (the newest studies; the metrics by name, highest value
first). For studies the message gives how many match, and /studies pages through all of them."""


def _run(store: Store, kind: str, params: Mapping[str, list[str]],
         metric: str | None) -> tuple[str, list[dict], int]:
    """The answer's SPARQL, its rows, and its size: how many studies it counts or lists (which may be more than
    the rows of a "studies" answer), or its number of rows."""
    declared = queries.named_query(QUERY_OF_KIND[kind]).params
    bound: dict[str, Any] = {k: v if declared[k].many else v[0] for k, v in params.items()}
    if "limit" in declared:
        bound["limit"] = ASK_ROWS
    if kind == "metric" and metric is not None:
        bound["metric"] = metric
    sparql = trim_prefixes(queries.prepare(QUERY_OF_KIND[kind], bound))
    rows = [{k: _text(v) for k, v in r.items()} for r in store.select(sparql)]
    if kind == "count" and rows and rows[0].get("studies") == "0":
        rows = []
    size = int(rows[0].get("studies") or 0) if kind == "count" and rows else len(rows)
    if kind == "studies" and size == ASK_ROWS:
        size = int(store.select("api_count", **params)[0]["studies"].value)
    return sparql, rows, size


def _relaxations(by_facet: Mapping[Facet, list[str]]) -> Iterable[list[tuple[dict[Facet, list[str]], str]]]:
    """Weaker forms of a context by levels, nearest first: each concept replaced by its broader concept; each
    concept dropped; two concepts dropped. The caller keeps the best of the first level that has rows."""
    index = concept_index()
    flat = [(f, iri) for f, iris in by_facet.items() for iri in iris]
    broader = []
    for _facet, iri in flat:
        for parent in sorted(index.get(iri).broader) if iri in index else []:
            weaker = {g: [parent if x == iri else x for x in xs] for g, xs in by_facet.items()}
            broader.append((weaker, f"{index.label(iri)} -> {index.label(parent)}"))
    yield broader
    for n in (1, 2):
        if len(flat) <= n:
            break
        level = []
        for dropped in itertools.combinations(flat, n):
            kept: dict[Facet, list[str]] = {}
            for f, iri in flat:
                if (f, iri) not in dropped:
                    kept.setdefault(f, []).append(iri)
            level.append((kept, "dropped " + " and ".join(index.label(i) for _, i in dropped)))
        yield level


def ask(store: Store, text: str) -> Answer:
    """Answer a plain-English question: read it (``kg.ask.read_question``), run the named query of its kind
    with its concepts bound, and, when that has no rows, the nearest relaxation that has some."""
    question = read_question(text)
    index = concept_index()
    not_understood = (" Not understood (ignored): " + ", ".join(question.unknown) + "."
                      if question.unknown else "")
    if question.kind is None or (not question.concepts and question.kind not in ("count", "table1", "metric")):
        message = (f"I did not understand {', '.join(repr(w) for w in question.unknown)}. " if question.unknown
                   else "I did not find an ontology concept in the question. ") + HELP
        if question.suggestions:
            message += " Did you mean: " + ", ".join(question.suggestions) + "?"
        return Answer(question=question, message=message)
    kind = question.kind
    by_facet = question.by_facet()
    if kind != "table1":
        extra = _hybrid_candidates(store, question, by_facet)
        if extra:
            by_facet.setdefault("model", []).extend(x for x in extra if x not in by_facet.get("model", []))
    params = _params(kind, by_facet)
    sparql, rows, size = _run(store, kind, params, question.metric)
    about = ", ".join(c.pref_label for c in question.concepts) or "all studies"
    what = DESCRIBE[kind] + (f" ({question.metric})" if question.metric else "")
    relaxed: tuple[str, ...] = ()
    message = f"{len(rows)} row(s) of {what} for {about}."
    if not rows and params:
        best = None
        for level in _relaxations({f: list(v) for f, v in by_facet.items()}):
            for weaker, how in level:
                w_params = _params(kind, weaker)
                if w_params == params:
                    continue
                w_sparql, w_rows, w_size = _run(store, kind, w_params, question.metric)
                if w_rows and (best is None or w_size > best[5]):
                    best = (weaker, w_sparql, w_rows, w_params, how, w_size)
            if best is not None:
                break
        if best is not None:
            weaker, sparql, rows, params, how, size = best
            kept = ", ".join(index.label(i) for v in weaker.values() for i in v) or "all studies"
            unit = "studies" if kind in ("count", "studies") else f"row(s) of {what}"
            message = f"Nothing matches {about} together; {size} {unit} for {kept} ({how})."
            relaxed = (how,)
    if kind == "studies" and size > len(rows):
        listed = f"the {len(rows)} newest of them are listed (all of them: /studies, or `lskg studies`)."
        message = (message[:-1] + "; " + listed) if relaxed else f"{size} {what} match {about}; {listed}"
    elif kind == "metric" and len(rows) == ASK_ROWS:
        message = message[:-1] + f"; the first {ASK_ROWS} are listed (by metric, highest value first), there may be more."
    if kind == "count" and rows:
        message = f"{rows[0].get('studies')} studies match {about}." if not relaxed else message
    columns = tuple(rows[0]) if rows else queries.named_query(QUERY_OF_KIND[kind]).columns
    return Answer(question=question, message=message + not_understood, sparql=sparql, columns=tuple(columns),
                  rows=tuple(rows), relaxed=relaxed, params={k: tuple(v) for k, v in params.items()})


def trim_prefixes(text: str) -> str:
    """The query with only the PREFIX lines it uses (shorter to read and copy)."""
    lines = text.splitlines()
    body = "\n".join(line for line in lines if not line.startswith("PREFIX "))
    kept = [line for line in lines if line.startswith("PREFIX ")
            and re.search(rf"(?<![\w]){re.escape(line.split()[1])}", body)]
    return "\n".join([*kept, body.strip()])


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as JSON (the CLI's --json, and the base of the API's AskAnswer)."""
    index = concept_index()
    return {"question": answer.question.text, "kind": answer.kind, "template": answer.kind,
            "recognised": [{"iri": c.iri, "label": c.pref_label, "facet": c.facet} for c in answer.question.concepts],
            "metric": answer.question.metric, "sparql": answer.sparql, "columns": list(answer.columns),
            "rows": [dict(r) for r in answer.rows], "message": answer.message,
            "unknown": list(answer.question.unknown), "suggestions": list(answer.question.suggestions),
            "relaxed": list(answer.relaxed),
            "params": {k: [index.label(i) if i in index else i for i in v] for k, v in answer.params.items()}}
