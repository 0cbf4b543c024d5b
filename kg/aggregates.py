"""Build-time aggregates: study counts computed once from the validated graph, read by the counting queries.

Counting over every study is linear in the graph, so the counting named queries (``concept_study_counts``,
``method_step_counts``, ``models_per_data_source``, ``candidate_concepts``, ``graph_stats``) read a small graph of
counts instead
(``AGGREGATES_GRAPH``). Each ``Aggregate`` is an RDF Data Cube ``qb:DataSet`` (declared in
``ontology/lskg.ttl``) whose observations are the rows of its defining query, ``queries/aggregate_*.rq``: the scan
the counting query ran before, kept in one place. ``build`` computes them over the staging store after validation
and writes them with the rest of the graph; ``ingest`` recomputes them over the updated graph before it is swapped
in (on a remote store, in the request after the studies'), so the counts never go stale. The defining queries
order their rows completely (ties broken by IRI), so a graph always gives the same observations, and a counting
query sorts by ``lskg:position`` instead of by labels.

``facet_pair_counts`` is not among them: counts for every two of the six study-level properties were 14k
observations for the 621 studies of the embedded corpus (as many quads again as the graph, and 3.5 of a 13.7 s
build), while one pair, which is all the query asks, scans in about 20 ms there.

The same graph holds the **study-level hierarchy closure** (``aggregate_study_closure.rq``): for each direct study
fact (``lskg:usesData`` ...), one triple per broader-or-self concept of its object, under a derived property
(``lskg:usesDataUnder`` ...). The hierarchy-aware queries (``studies_for_context``, ``models_for_context``,
``api_*``) join these by index instead of walking ``skos:broader*`` from every study. They are not facts: no
``lskg:Fact`` qualifies them, and what reads a study's facts (``study_facts``, the recommender's snapshot, SHACL)
names the direct properties. It also holds the **listing order** (``aggregate_study_order.rq``): each study's place
among all studies, newest first, then by title and IRI (``lskg:studyOrder``), so the listing queries sort by an integer instead of
comparing titles, which the store decodes at every comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Triple

from lskg.kg.store import Store
from lskg.ontology.terms import AGGREGATE, AGGREGATES_GRAPH, DCTERMS, LSKG, QB, XSD


@dataclass(frozen=True)
class Aggregate:
    """A data set of the aggregates graph: one observation per row of ``query``, each column under its property,
    and the row's place in the query's order under ``lskg:position``."""

    name: str
    """The data set's local name in ``AGGREGATE``."""
    query: str
    """The defining named query (columns as ``components``' keys)."""
    components: Mapping[str, NamedNode]
    """Column -> the qb dimension or measure property that holds it."""

    @property
    def dataset(self) -> NamedNode:
        return AGGREGATE[self.name]


AGGREGATES = (
    Aggregate("conceptStudies", "aggregate_concept_studies",
              {"concept": LSKG.countedConcept, "label": LSKG.countedLabel, "scheme": LSKG.countedScheme,
               "studies": LSKG.studyCount}),
    Aggregate("methodStepStudies", "aggregate_method_step_studies",
              {"concept": LSKG.countedConcept, "label": LSKG.countedLabel, "task_studies": LSKG.taskStudyCount,
               "step_studies": LSKG.stepStudyCount}),
    Aggregate("dataFamilyStudies", "aggregate_data_family_studies",
              {"data": LSKG.countedConcept, "dataLabel": LSKG.countedLabel, "family": LSKG.pairedConcept,
               "familyLabel": LSKG.pairedLabel, "studies": LSKG.studyCount}),
    Aggregate("candidateConcepts", "aggregate_candidate_concepts",
              {"candidate": LSKG.countedConcept, "label": LSKG.countedLabel, "families": LSKG.familyLabels,
               "studies": LSKG.studyCount}),
    Aggregate("graphStatistics", "aggregate_graph_statistics",
              {"studies": LSKG.studyCount, "methodReferences": LSKG.methodReferenceCount,
               "facts": LSKG.factCount, "evidence": LSKG.evidenceCount, "metrics": LSKG.metricCount,
               "candidates": LSKG.candidateCount}),
)


VERSION = 2
"""What this lskg writes in the aggregates graph, recorded there (``dcterms:hasVersion`` of the graph's IRI) so
that reading a graph an older lskg derived says so instead of answering wrongly. Bump it whenever what the graph
holds changes: 1, the study-level closure and listing order (2026-12-01, detected then by their absence); 2, the
newest-first listing order and the candidate-concept data set (2026-12-02)."""


def written_versions(store: Store) -> list[str]:
    """The ``VERSION`` recorded in the store's aggregates graph: one, or none from an lskg before versions."""
    return [row["version"].value for row in store.select("graph_aggregates_version")]


CLOSURE_QUERY = "aggregate_study_closure"
"""The defining query of the study-level hierarchy closure (columns: study, closure property, concept)."""
ORDER_QUERY = "aggregate_study_order"
"""What the listing order is computed from: every study with its title and publication year."""


def aggregate_triples(store: Store) -> list[Triple]:
    """The aggregates graph's triples, computed over ``store`` (which may hold an older aggregates graph: the
    defining queries read only studies and concepts): the observations of every ``Aggregate``, the hierarchy
    closure, the listing order and the ``VERSION`` that wrote them."""
    # the defining queries are independent reads, which the store may run on its cores: the closure, the largest,
    # first, so that the others fill the second core
    work = [partial(_closure, store), partial(_order, store), *[partial(_observations, store, a) for a in AGGREGATES]]
    closure, order, *observed = store.each(lambda compute: compute(), work)
    version = Triple(AGGREGATES_GRAPH, DCTERMS.hasVersion, Literal(str(VERSION), datatype=XSD.integer))
    return [version, *(t for part in observed for t in part), *closure, *order]


def _closure(store: Store) -> list[Triple]:
    return [Triple(row["study"], row["closure"], row["concept"]) for row in store.select(CLOSURE_QUERY)]


def _order(store: Store) -> list[Triple]:
    return [Triple(study, LSKG.studyOrder, Literal(str(n), datatype=XSD.integer))
            for n, study in enumerate(listing_order(store))]


def _observations(store: Store, aggregate: Aggregate) -> list[Triple]:
    """One ``qb:Observation`` per row of the aggregate's defining query, with its place in the query's order."""
    triples = []
    for n, row in enumerate(store.select(aggregate.query)):
        observation = AGGREGATE[f"{aggregate.name}/{n}"]  # a qb:Observation by the domain of qb:dataSet
        triples += [Triple(observation, QB.dataSet, aggregate.dataset),
                    Triple(observation, LSKG.position, Literal(str(n), datatype=XSD.integer))]
        triples += [Triple(observation, prop, row[column]) for column, prop in aggregate.components.items()
                    if row[column] is not None]
    return triples


def listing_order(store: Store) -> list[NamedNode]:
    """Every study, newest first (studies without a publication year last), then by title, then IRI: the order of
    SPARQL's ``ORDER BY DESC(?year) ?title ?study`` (plain strings and four-digit years compare by code point
    either way), which the store runs 5x slower at 10,000 studies, decoding both titles at every comparison. A
    study with two titles or years takes the place of its first."""
    def key(row: Mapping[str, Any]) -> tuple[bool, tuple[int, ...], str, str]:
        year = row["year"]
        newest_first = tuple(-ord(c) for c in year.value) if year is not None else ()
        return (year is None, newest_first, row["title"].value, row["study"].value)

    order = dict.fromkeys(row["study"] for row in sorted(store.select(ORDER_QUERY), key=key))
    return list(order)


def aggregate_quads(store: Store) -> list[Quad]:
    """``aggregate_triples`` in the aggregates graph, for a bulk load beside the graph they count."""
    return [Quad(t.subject, t.predicate, t.object, AGGREGATES_GRAPH) for t in aggregate_triples(store)]


def refresh(store: Store) -> None:
    """Recompute the aggregates over ``store`` and replace its aggregates graph with them (one update)."""
    store.replace_graphs({AGGREGATES_GRAPH: aggregate_triples(store)})
