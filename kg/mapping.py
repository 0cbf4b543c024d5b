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


def _double(value: float) -> Literal:
    return Literal(repr(float(value)), datatype=XSD.double)


def _int(value: int) -> Literal:
    return Literal(str(int(value)), datatype=XSD.integer)


def _evidence_triples(ev: Evidence) -> tuple[NamedNode, list[Triple]]:
    node = EVIDENCE[stable_id(ev.document, ev.sentence, ev.start, ev.end, ev.extractor)]
    agent = AGENT[ev.extractor]
    return node, [
        Triple(node, RDF.type, LSKG.Evidence),
        Triple(node, RDF.type, PROV.Entity),
        Triple(node, LSKG.document, Literal(ev.document)),
        Triple(node, LSKG.sentence, Literal(ev.sentence)),
        Triple(node, LSKG.spanText, Literal(ev.span)),
        Triple(node, LSKG.startChar, _int(ev.start)),
        Triple(node, LSKG.endChar, _int(ev.end)),
        Triple(node, PROV.wasAttributedTo, agent),
        Triple(agent, RDF.type, LSKG.Extractor),
        Triple(agent, RDF.type, PROV.SoftwareAgent),
        Triple(agent, RDFS.label, Literal(f"lskg extractor component {ev.extractor}")),
    ]


def fact_property(fact: Fact) -> NamedNode:
    """The direct property of a fact: its facet's, except a baseline model (``lskg:comparesWith``) and a task
    concept the study uses only as a step on the way (role ``method_step``: ``lskg:usesMethodStep``), so that
    task queries over ``lskg:addressesTask`` see a study's own aims only."""
    if fact.facet == "model" and fact.role == "baseline":
        return LSKG.comparesWith
    if fact.facet == "task" and fact.role == "method_step":
        return LSKG.usesMethodStep
    return FACET_PROPERTIES[fact.facet]


def _candidate_triples(fact: Fact) -> list[Triple]:
    node = NamedNode(fact.concept)
    triples = [
        Triple(node, RDF.type, SKOS.Concept),
        Triple(node, RDF.type, LSKG.CandidateConcept),
        Triple(node, RDF.type, LSKG.Architecture),
        Triple(node, SKOS.inScheme, FACET_SCHEMES["model"]),
        Triple(node, SKOS.prefLabel, Literal(fact.label, language="en")),
        Triple(node, LSKG.candidateStatus, Literal("needs-review")),
    ]
    return triples + [Triple(node, SKOS.broader, NamedNode(b)) for b in fact.broader]


def study_triples(facts: StudyFacts) -> list[Triple]:
    """All triples of one study's named graph."""
    s = facts.study
    node = study_iri(facts)
    out = [
        Triple(node, RDF.type, LSKG.Study),
        Triple(node, DCTERMS.title, Literal(s.title)),
        Triple(node, LSKG.studyKind, Literal(s.kind)),
    ]
    if s.year:
        out.append(Triple(node, FABIO.hasPublicationYear, Literal(f"{s.year:04d}", datatype=XSD.gYear)))
    if normalize_doi(s.doi):
        out.append(Triple(node, BIBO.doi, Literal(normalize_doi(s.doi))))
    if s.venue:
        out.append(Triple(node, DCTERMS.isPartOf, Literal(s.venue)))
    if s.abstract:
        out.append(Triple(node, DCTERMS.abstract, Literal(s.abstract)))
    out += [Triple(node, DCTERMS.creator, Literal(a)) for a in s.authors]
    out += [Triple(node, LSKG.sourceRecord, Literal(src)) for src in sorted({s.source, *s.sources} - {""})]
    out += [Triple(node, LSKG.textKind, Literal(kind)) for kind in s.text_kinds]
    if s.url:
        out.append(Triple(node, DCTERMS.source, NamedNode(s.url)))
    if facts.place:
        out.append(Triple(node, LSKG.studyArea, Literal(facts.place)))
    for fact in facts.facts:
        prop = fact_property(fact)
        concept = NamedNode(fact.concept)
        ev_node, ev_triples = _evidence_triples(fact.evidence)
        fact_node = FACT[stable_id(node.value, prop.value, fact.concept, ev_node.value)]
        out += [
            Triple(node, prop, concept),
            Triple(node, LSKG.hasFact, fact_node),
            Triple(fact_node, RDF.type, LSKG.Fact),
            Triple(fact_node, LSKG.factProperty, prop),
            Triple(fact_node, LSKG.factObject, concept),
            Triple(fact_node, LSKG.role, Literal(fact.role)),
            Triple(fact_node, LSKG.confidence, _double(fact.evidence.confidence)),
            Triple(fact_node, PROV.wasDerivedFrom, ev_node),
            *ev_triples,
        ]
        if fact.candidate:
            out += _candidate_triples(fact)
    for metric in facts.metrics:
        ev_node, ev_triples = _evidence_triples(metric.evidence)
        m_node = METRIC[stable_id(node.value, metric.name, metric.value, ev_node.value)]
        out += [
            Triple(node, LSKG.reportsMetric, m_node),
            Triple(m_node, RDF.type, LSKG.Metric),
            Triple(m_node, LSKG.metricName, Literal(metric.name)),
            Triple(m_node, LSKG.metricValue, _double(metric.value)),
            Triple(m_node, PROV.wasDerivedFrom, ev_node),
            *ev_triples,
        ]
        if metric.unit:
            out.append(Triple(m_node, LSKG.metricUnit, Literal(metric.unit)))
    return list(dict.fromkeys(out))


def study_quads(facts: StudyFacts) -> Iterator[Quad]:
    graph = study_graph(facts)
    for t in study_triples(facts):
        yield Quad(t.subject, t.predicate, t.object, graph)
