"""Every IRI the code uses, spelled once.

``LSKG`` is closed: it holds exactly the TBox terms of ``lskg.ttl`` (a test checks both directions), so a typo
raises instead of minting a silent new node. Concept namespaces are open: concept names come from the SKOS files.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

BASE = "https://w3id.org/lskg/"


class Namespace:
    """A namespace of pyoxigraph NamedNodes; ``closed`` lists the only local names allowed."""

    def __init__(self, iri: str, closed: frozenset[str] | None = None) -> None:
        self.iri = iri
        self.closed = closed

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> NamedNode:
        if self.closed is not None and name not in self.closed:
            raise AttributeError(f"{name!r} is not a term of {self.iri}")
        return NamedNode(self.iri + name)

    def __contains__(self, iri: object) -> bool:
        text = iri.value if isinstance(iri, NamedNode) else str(iri)
        return text.startswith(self.iri)

    def local(self, iri: NamedNode | str) -> str:
        text = iri.value if isinstance(iri, NamedNode) else iri
        if not text.startswith(self.iri):
            raise ValueError(f"{text} is not in {self.iri}")
        return text[len(self.iri):]


LSKG_TERMS = frozenset({
    # classes
    "Study", "Evidence", "Extractor", "Fact", "Metric", "ModelFamily", "Architecture", "DataSource",
    "LandslideType", "TriggerType", "MovementType", "Task", "CandidateConcept", "Correspondence", "Gap",
    "GapAnalysis", "Review",
    # study-level facts (direct edges, easy to query)
    "usesModel", "comparesWith", "usesData", "targetsLandslideType", "addressesTask", "reportsMetric",
    "studyArea", "studyKind", "sourceRecord", "textKind",
    # qualified facts with provenance
    "hasFact", "factProperty", "factObject", "role", "confidence", "sentence", "spanText", "startChar",
    "endChar", "document",
    # metrics
    "metricName", "metricValue", "metricUnit",
    # candidates
    "candidateStatus",
    # review synthesis (Table 1)
    "family", "typicalData", "typicalLandslideType", "typicalTask", "note",
    # data modality (which families can take a data source)
    "modality",
    # method steps, apart from tasks (a study's own aims)
    "usesMethodStep",
    # named trigger events and settings (ontology/events.ttl)
    "TriggerEvent", "triggerType", "eventDate", "eventPlace",
    # gaps
    "gapConcept", "observedCount", "plausibility", "gapScore", "rank", "modelVersion", "facetPair",
    # build-time aggregates (qb:Observation dimensions and measures)
    "countedConcept", "countedLabel", "countedScheme", "pairedConcept", "pairedLabel", "position", "studyCount",
    "taskStudyCount", "stepStudyCount", "methodReferenceCount", "factCount", "evidenceCount", "metricCount",
    "candidateCount", "familyLabels",
    # the study-level hierarchy closure and listing order (derived, in the aggregates graph)
    "usesModelUnder", "usesDataUnder", "targetsLandslideTypeUnder", "addressesTaskUnder", "usesMethodStepUnder",
    "studyOrder",
})

LSKG = Namespace(BASE + "ontology/", LSKG_TERMS)
SCHEME = Namespace(BASE + "scheme/")
COLLECTION = Namespace(BASE + "collection/")
CONCEPT = Namespace(BASE + "concept/")
MODEL = Namespace(BASE + "concept/model/")
DATA = Namespace(BASE + "concept/data/")
LANDSLIDE = Namespace(BASE + "concept/landslide/")
TASK = Namespace(BASE + "concept/task/")
CANDIDATE = Namespace(BASE + "concept/candidate/")
STUDY = Namespace(BASE + "study/")
FACT = Namespace(BASE + "fact/")
EVIDENCE = Namespace(BASE + "evidence/")
METRIC = Namespace(BASE + "metric/")
AGENT = Namespace(BASE + "agent/")
GAP = Namespace(BASE + "gap/")
EVENT = Namespace(BASE + "event/")
"""Named trigger events and settings (``ontology/events.ttl``): earthquakes, storms, reservoirs, mines."""
SYNTHESIS = Namespace(BASE + "synthesis/")
GRAPH = Namespace(BASE + "graph/")
SHAPE = Namespace(BASE + "shape/")
AGGREGATE = Namespace(BASE + "aggregate/")
"""The build-time aggregates: one qb:DataSet per counting query, and their observations."""

ONTOLOGY_GRAPH = GRAPH["ontology"]
SYNTHESIS_GRAPH = GRAPH["review-synthesis"]
"""The review's Table 1 (typical correspondences), kept apart from study-level evidence."""
AGGREGATES_GRAPH = GRAPH["aggregates"]
"""Study counts computed by the build from the validated graph (``lskg.kg.aggregates``), refreshed by every add."""

# External vocabularies
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
FABIO = Namespace("http://purl.org/spar/fabio/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
SH = Namespace("http://www.w3.org/ns/shacl#")
QB = Namespace("http://purl.org/linked-data/cube#")

PREFIXES: dict[str, Namespace] = {
    "lskg": LSKG, "scheme": SCHEME, "collection": COLLECTION, "model": MODEL, "data": DATA,
    "landslide": LANDSLIDE, "task": TASK, "candidate": CANDIDATE, "study": STUDY, "fact": FACT,
    "evidence": EVIDENCE, "metric": METRIC, "agent": AGENT, "gap": GAP, "event": EVENT, "synthesis": SYNTHESIS,
    "graph": GRAPH, "aggregate": AGGREGATE,
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "prov": PROV,
    "fabio": FABIO, "bibo": BIBO, "qb": QB,
}

FACET_SCHEMES = {
    "model": SCHEME["ModelFamily"],
    "data": SCHEME["DataSource"],
    "landslide_type": SCHEME["LandslideType"],
    "task": SCHEME["Task"],
}
"""The SKOS concept scheme of each facet."""

FACET_PROPERTIES = {
    "model": LSKG.usesModel,
    "data": LSKG.usesData,
    "landslide_type": LSKG.targetsLandslideType,
    "task": LSKG.addressesTask,
}
"""The direct study-level property of each facet (a baseline model uses ``lskg:comparesWith`` instead)."""

FAMILY_NAMES = ("CNN", "RNN", "Transformer", "GAN", "AE", "GNN", "DiffusionModel", "ClassicalML")
"""Local names of the model-family concepts (``MODEL[name]``), the names used in extraction output."""


def sparql_prefixes() -> str:
    """PREFIX declarations for every namespace above, for interactive queries and .rq files."""
    return "".join(f"PREFIX {p}: <{ns.iri}>\n" for p, ns in PREFIXES.items())
