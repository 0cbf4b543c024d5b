"""Studies and facts to RDF: the only module that mints instance IRIs.

A study's triples go to its own named graph (``graph/study/<id>``), so re-ingesting the study replaces exactly
its facts. Ids are deterministic (from the DOI, else the normalised title and year), so rebuilds are idempotent.
Every fact is stated twice: as a direct edge (``study lskg:usesData concept``) for easy querying, and as a
qualified ``lskg:Fact`` node carrying role, confidence and PROV-O evidence (sentence, span, document, extractor).
"""

from __future__ import annotations

from collections.abc import Iterator

from pyoxigraph import Literal, NamedNode, Quad, Triple

from lskg.ontology.terms import (
    AGENT,
    BIBO,
    DCTERMS,
    EVIDENCE,
    FABIO,
    FACET_PROPERTIES,
    FACET_SCHEMES,
    FACT,
    GRAPH,
    LSKG,
    METRIC,
    PROV,
    RDF,
    RDFS,
    SKOS,
    STUDY,
    XSD,
)
from lskg.records import Evidence, Fact, StudyFacts, normalize_doi, stable_id


def study_id(facts: StudyFacts) -> str:
    """The deterministic id of a study: a hash of its DOI, else of its normalised title and year."""
    return stable_id(facts.study.key)


def study_iri(facts: StudyFacts) -> NamedNode:
    return STUDY[study_id(facts)]


def study_graph(facts: StudyFacts) -> NamedNode:
    return GRAPH[f"study/{study_id(facts)}"]


# The terms every study's triples use, built once (a namespace attribute builds a new NamedNode on each access,
# and a build maps hundreds of thousands of triples).
_TYPE, _LABEL = RDF.type, RDFS.label
_EVIDENCE, _ENTITY, _DOCUMENT, _SENTENCE, _SPAN = LSKG.Evidence, PROV.Entity, LSKG.document, LSKG.sentence, LSKG.spanText
_START, _END, _ATTRIBUTED, _EXTRACTOR, _SOFTWARE = (LSKG.startChar, LSKG.endChar, PROV.wasAttributedTo,
                                                     LSKG.Extractor, PROV.SoftwareAgent)
_STUDY, _TITLE, _KIND, _YEAR, _DOI, _VENUE = (LSKG.Study, DCTERMS.title, LSKG.studyKind, FABIO.hasPublicationYear,
                                              BIBO.doi, DCTERMS.isPartOf)
_ABSTRACT, _CREATOR, _SOURCE_RECORD, _TEXT_KIND, _SOURCE, _AREA = (DCTERMS.abstract, DCTERMS.creator,
                                                                   LSKG.sourceRecord, LSKG.textKind, DCTERMS.source,
                                                                   LSKG.studyArea)
_HAS_FACT, _FACT, _FACT_PROPERTY, _FACT_OBJECT, _ROLE, _CONFIDENCE, _DERIVED = (
    LSKG.hasFact, LSKG.Fact, LSKG.factProperty, LSKG.factObject, LSKG.role, LSKG.confidence, PROV.wasDerivedFrom)
_REPORTS, _METRIC, _METRIC_NAME, _METRIC_VALUE, _METRIC_UNIT = (LSKG.reportsMetric, LSKG.Metric, LSKG.metricName,
                                                                LSKG.metricValue, LSKG.metricUnit)
_DOUBLE, _INTEGER, _GYEAR = XSD.double, XSD.integer, XSD.gYear
_COMPARES, _METHOD_STEP = LSKG.comparesWith, LSKG.usesMethodStep
_FACET_PROPERTIES = dict(FACET_PROPERTIES)

Spo = tuple[NamedNode, NamedNode, NamedNode | Literal]


def _double(value: float) -> Literal:
    return Literal(repr(float(value)), datatype=_DOUBLE)


def _int(value: int) -> Literal:
    return Literal(str(int(value)), datatype=_INTEGER)


def _evidence_triples(ev: Evidence) -> tuple[NamedNode, list[Spo]]:
    node = EVIDENCE[stable_id(ev.document, ev.sentence, ev.start, ev.end, ev.extractor)]
    agent = AGENT[ev.extractor]
    return node, [
        (node, _TYPE, _EVIDENCE),
        (node, _TYPE, _ENTITY),
        (node, _DOCUMENT, Literal(ev.document)),
        (node, _SENTENCE, Literal(ev.sentence)),
        (node, _SPAN, Literal(ev.span)),
        (node, _START, _int(ev.start)),
        (node, _END, _int(ev.end)),
        (node, _ATTRIBUTED, agent),
        (agent, _TYPE, _EXTRACTOR),
        (agent, _TYPE, _SOFTWARE),
        (agent, _LABEL, Literal(f"lskg extractor component {ev.extractor}")),
    ]


def fact_property(fact: Fact) -> NamedNode:
    """The direct property of a fact: its facet's, except a baseline model (``lskg:comparesWith``) and a task
    concept the study uses only as a step on the way (role ``method_step``: ``lskg:usesMethodStep``), so that
    task queries over ``lskg:addressesTask`` see a study's own aims only."""
    if fact.facet == "model" and fact.role == "baseline":
        return _COMPARES
    if fact.facet == "task" and fact.role == "method_step":
        return _METHOD_STEP
    return _FACET_PROPERTIES[fact.facet]


def _candidate_triples(fact: Fact) -> list[Spo]:
    node = NamedNode(fact.concept)
    triples: list[Spo] = [
        (node, _TYPE, SKOS.Concept),
        (node, _TYPE, LSKG.CandidateConcept),
        (node, _TYPE, LSKG.Architecture),
        (node, SKOS.inScheme, FACET_SCHEMES["model"]),
        (node, SKOS.prefLabel, Literal(fact.label, language="en")),
        (node, LSKG.candidateStatus, Literal("needs-review")),
    ]
    return triples + [(node, SKOS.broader, NamedNode(b)) for b in fact.broader]


def _spo(facts: StudyFacts) -> list[Spo]:
    """All (subject, predicate, object) of one study's named graph, each once, in a stable order."""
    s = facts.study
    node = study_iri(facts)
    out: list[Spo] = [
        (node, _TYPE, _STUDY),
        (node, _TITLE, Literal(s.title)),
        (node, _KIND, Literal(s.kind)),
    ]
    if s.year:
        out.append((node, _YEAR, Literal(f"{s.year:04d}", datatype=_GYEAR)))
    doi = normalize_doi(s.doi)
    if doi:
        out.append((node, _DOI, Literal(doi)))
    if s.venue:
        out.append((node, _VENUE, Literal(s.venue)))
    if s.abstract:
        out.append((node, _ABSTRACT, Literal(s.abstract)))
    out += [(node, _CREATOR, Literal(a)) for a in s.authors]
    out += [(node, _SOURCE_RECORD, Literal(src)) for src in sorted({s.source, *s.sources} - {""})]
    out += [(node, _TEXT_KIND, Literal(kind)) for kind in s.text_kinds]
    if s.url:
        out.append((node, _SOURCE, NamedNode(s.url)))
    if facts.place:
        out.append((node, _AREA, Literal(facts.place)))
    for fact in facts.facts:
        prop = fact_property(fact)
        concept = NamedNode(fact.concept)
        ev_node, ev_triples = _evidence_triples(fact.evidence)
        fact_node = FACT[stable_id(node.value, prop.value, fact.concept, ev_node.value)]
        out += [
            (node, prop, concept),
            (node, _HAS_FACT, fact_node),
            (fact_node, _TYPE, _FACT),
            (fact_node, _FACT_PROPERTY, prop),
            (fact_node, _FACT_OBJECT, concept),
            (fact_node, _ROLE, Literal(fact.role)),
            (fact_node, _CONFIDENCE, _double(fact.evidence.confidence)),
            (fact_node, _DERIVED, ev_node),
            *ev_triples,
        ]
        if fact.candidate:
            out += _candidate_triples(fact)
    for metric in facts.metrics:
        ev_node, ev_triples = _evidence_triples(metric.evidence)
        m_node = METRIC[stable_id(node.value, metric.name, metric.value, ev_node.value)]
        out += [
            (node, _REPORTS, m_node),
            (m_node, _TYPE, _METRIC),
            (m_node, _METRIC_NAME, Literal(metric.name)),
            (m_node, _METRIC_VALUE, _double(metric.value)),
            (m_node, _DERIVED, ev_node),
            *ev_triples,
        ]
        if metric.unit:
            out.append((m_node, _METRIC_UNIT, Literal(metric.unit)))
    return list(dict.fromkeys(out))


def study_triples(facts: StudyFacts) -> list[Triple]:
    """All triples of one study's named graph."""
    return [Triple(*spo) for spo in _spo(facts)]


def study_quads(facts: StudyFacts) -> Iterator[Quad]:
    graph = study_graph(facts)
    for subject, predicate, obj in _spo(facts):
        yield Quad(subject, predicate, obj, graph)
