"""Build-time aggregates: study counts computed once from the validated graph, read by the counting queries.

Counting over every study is linear in the graph, so the counting named queries (``concept_study_counts``,
``method_step_counts``, ``models_per_data_source``, ``graph_stats``) read a small graph of counts instead
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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Triple

from lskg.kg.store import Store
from lskg.ontology.terms import AGGREGATE, AGGREGATES_GRAPH, LSKG, QB, XSD


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
    Aggregate("graphStatistics", "aggregate_graph_statistics",
              {"studies": LSKG.studyCount, "methodReferences": LSKG.methodReferenceCount,
               "facts": LSKG.factCount, "evidence": LSKG.evidenceCount, "metrics": LSKG.metricCount,
               "candidates": LSKG.candidateCount}),
)


def aggregate_triples(store: Store) -> list[Triple]:
    """The aggregates graph's triples, computed over ``store`` (which may hold an older aggregates graph: the
    defining queries read only studies and concepts)."""
    triples = []
    for aggregate in AGGREGATES:
        for n, row in enumerate(store.select(aggregate.query)):
            observation = AGGREGATE[f"{aggregate.name}/{n}"]  # a qb:Observation by the domain of qb:dataSet
            triples += [Triple(observation, QB.dataSet, aggregate.dataset),
                        Triple(observation, LSKG.position, Literal(str(n), datatype=XSD.integer))]
            triples += [Triple(observation, prop, row[column]) for column, prop in aggregate.components.items()
                        if row[column] is not None]
    return triples


def aggregate_quads(store: Store) -> list[Quad]:
    """``aggregate_triples`` in the aggregates graph, for a bulk load beside the graph they count."""
    return [Quad(t.subject, t.predicate, t.object, AGGREGATES_GRAPH) for t in aggregate_triples(store)]


def refresh(store: Store) -> None:
    """Recompute the aggregates over ``store`` and replace its aggregates graph with them (one update)."""
    store.replace_graphs({AGGREGATES_GRAPH: aggregate_triples(store)})
