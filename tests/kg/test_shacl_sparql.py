"""The SHACL shapes compiled to SPARQL (lskg.kg.shacl) report what pySHACL, the reference, reports.

A fixture dataset holds one copy of a conforming study per case, each broken in one way (one case per constraint
kind the shapes use); both engines validate it once, and every case must get the same (focus, path, shape,
component, value) violations from both, including the violation the case was written to cause.
"""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode, RdfFormat

from lskg.kg.shacl import ShapeCompileError, Shapes, compile_shapes
from lskg.kg.store import EmbeddedStore
from lskg.kg.validate import validate
from lskg.ontology import ontology_quads
from tests.conftest import DATA

PREFIXES = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix fabio: <http://purl.org/spar/fabio/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
@prefix lskg: <https://w3id.org/lskg/ontology/> .
@prefix scheme: <https://w3id.org/lskg/scheme/> .
@prefix model: <https://w3id.org/lskg/concept/model/> .
@prefix data: <https://w3id.org/lskg/concept/data/> .
@prefix landslide: <https://w3id.org/lskg/concept/landslide/> .
@prefix task: <https://w3id.org/lskg/concept/task/> .
@prefix candidate: <https://w3id.org/lskg/concept/candidate/> .
@prefix study: <https://w3id.org/lskg/study/> .
@prefix fact: <https://w3id.org/lskg/fact/> .
@prefix evidence: <https://w3id.org/lskg/evidence/> .
@prefix metric: <https://w3id.org/lskg/metric/> .
@prefix agent: <https://w3id.org/lskg/agent/> .
@prefix gap: <https://w3id.org/lskg/gap/> .
"""

# A conforming study with a fact, evidence, metric, candidate concept and gap; {c} names the case.
BASE = """
study:s-{c} a lskg:Study ;
    dcterms:title "Forecasting landslide displacement ({c})" ;
    fabio:hasPublicationYear "2021"^^xsd:gYear ;
    bibo:doi "10.1234/{c}" ;
    lskg:studyKind "landslide_study" ;
    lskg:sourceRecord "corpus.jsonl#{c}" ;
    lskg:textKind "abstract" ;
    dcterms:source <https://example.org/{c}> ;
    lskg:usesModel model:LSTM, candidate:Net-{c} ;
    lskg:usesData data:InSARTimeSeries ;
    lskg:addressesTask task:DisplacementPrediction ;
    lskg:hasFact fact:f-{c} ;
    lskg:reportsMetric metric:m-{c} .

fact:f-{c} a lskg:Fact ;
    lskg:factProperty lskg:usesModel ;
    lskg:factObject model:LSTM ;
    lskg:role "proposed" ;
    lskg:confidence "0.9"^^xsd:double ;
    prov:wasDerivedFrom evidence:e-{c} .

evidence:e-{c} a lskg:Evidence ;
    lskg:document "corpus.jsonl#{c}" ;
    lskg:sentence "We feed an LSTM with InSAR time series." ;
    lskg:spanText "LSTM" ;
    lskg:startChar 11 ;
    lskg:endChar 15 ;
    prov:wasAttributedTo agent:ruler-{c} .

agent:ruler-{c} a lskg:Extractor ; rdfs:label "facet ruler" .

metric:m-{c} a lskg:Metric ;
    lskg:metricName "accuracy" ;
    lskg:metricValue "93.0"^^xsd:double ;
    prov:wasDerivedFrom evidence:e-{c} .

candidate:Net-{c} a skos:Concept, lskg:CandidateConcept ;
    skos:inScheme scheme:ModelFamily ;
    skos:prefLabel "Net-{c}"@en ;
    skos:broader model:Transformer .

gap:g-{c} a lskg:Gap ;
    lskg:gapConcept model:GNN, data:InSARTimeSeries ;
    lskg:observedCount 0 ;
    lskg:plausibility "0.8"^^xsd:double ;
    lskg:gapScore "0.7"^^xsd:double .
"""

# case -> (SPARQL Update breaking the case's copy, the component it must cause, on which focus node).
# In the updates, ?s/?f/?e/?m/?cand/?gap are bound to the case's study, fact, evidence, candidate and gap.
CASES = {
    "valid": ("", None, None),
    "min_count": ("DELETE { ?s dcterms:title ?t } WHERE { ?s dcterms:title ?t }", "MinCountConstraintComponent", "s"),
    "max_count": ("INSERT { ?s dcterms:title 'A second title' } WHERE {}", "MaxCountConstraintComponent", "s"),
    "datatype": ("DELETE { ?s fabio:hasPublicationYear ?y } INSERT { ?s fabio:hasPublicationYear 2021 } "
                 "WHERE { ?s fabio:hasPublicationYear ?y }", "DatatypeConstraintComponent", "s"),
    # (a property without a value range: rdflib orders an ill-typed literal against a bound where SPARQL cannot,
    # so pySHACL and SPARQL differ on sh:minInclusive for ill-typed values; SPARQL's answer is SHACL's.)
    "ill_typed": ("DELETE { ?m lskg:metricValue ?v } INSERT { ?m lskg:metricValue 'high'^^xsd:double } "
                  "WHERE { ?m lskg:metricValue ?v }", "DatatypeConstraintComponent", "m"),
    "lang_string": ("DELETE { ?cand skos:prefLabel ?l } INSERT { ?cand skos:prefLabel 'no language' } "
                    "WHERE { ?cand skos:prefLabel ?l }", "DatatypeConstraintComponent", "cand"),
    "pattern": ("DELETE { ?s bibo:doi ?d } INSERT { ?s bibo:doi 'doi:10.1/x' } WHERE { ?s bibo:doi ?d }",
                "PatternConstraintComponent", "s"),
    "min_length": ("DELETE { ?e lskg:spanText ?t } INSERT { ?e lskg:spanText '' } WHERE { ?e lskg:spanText ?t }",
                   "MinLengthConstraintComponent", "e"),
    "in": ("DELETE { ?s lskg:studyKind ?k } INSERT { ?s lskg:studyKind 'survey' } WHERE { ?s lskg:studyKind ?k }",
           "InConstraintComponent", "s"),
    "in_iri": ("DELETE { ?f lskg:factProperty ?p } INSERT { ?f lskg:factProperty lskg:hasFact } "
               "WHERE { ?f lskg:factProperty ?p }", "InConstraintComponent", "f"),
    "node_kind": ("DELETE { ?s dcterms:source ?u } INSERT { ?s dcterms:source 'https://example.org/x' } "
                  "WHERE { ?s dcterms:source ?u }", "NodeKindConstraintComponent", "s"),
    "class": ("INSERT { ?s lskg:hasFact ?e } WHERE {}", "ClassConstraintComponent", "s"),
    "class_literal": ("INSERT { ?e prov:wasAttributedTo 'a person' } WHERE {}", "ClassConstraintComponent", "e"),
    "node": ("INSERT { ?s lskg:usesData model:CNN } WHERE {}", "NodeConstraintComponent", "s"),
    # a usesModel fact whose object is no model concept: shape:ModelFactObjects (focus lskg:usesModel, path
    # ^factProperty/factObject) reports it
    "node_inverse_sequence": (
        "DELETE { ?f lskg:factObject ?o } INSERT { ?f lskg:factObject ?s } WHERE { ?f lskg:factObject ?o }",
        "NodeConstraintComponent", "usesModel"),
    "qualified_min_count": (
        "DELETE { ?cand skos:broader ?b } INSERT { ?cand skos:broader data:InSARTimeSeries } "
        "WHERE { ?cand skos:broader ?b }", "QualifiedMinCountConstraintComponent", "cand"),
    "min_inclusive": ("DELETE { ?gap lskg:observedCount ?n } INSERT { ?gap lskg:observedCount -1 } "
                      "WHERE { ?gap lskg:observedCount ?n }", "MinInclusiveConstraintComponent", "gap"),
    "max_inclusive": ("DELETE { ?f lskg:confidence ?c } INSERT { ?f lskg:confidence 1.5e0 } "
                      "WHERE { ?f lskg:confidence ?c }", "MaxInclusiveConstraintComponent", "f"),
    "less_than": ("DELETE { ?e lskg:startChar ?a } INSERT { ?e lskg:startChar 20 } WHERE { ?e lskg:startChar ?a }",
                  "LessThanConstraintComponent", "e"),
    "min_count_two": ("DELETE { ?gap lskg:gapConcept data:InSARTimeSeries } WHERE {}",
                      "MinCountConstraintComponent", "gap"),
    # an lskg:Architecture (a subclass of skos:Concept) without label or scheme: targeted by shape:ConceptShape
    "subclass_target": ("INSERT { ?x a lskg:Architecture } WHERE { BIND(IRI(CONCAT(STR(?cand), '-sub')) AS ?x) }",
                        "MinCountConstraintComponent", None),
    # values and counts that would break StudyShape and EvidenceShape, on a node that is neither: the checks scan
    # a predicate's values over the whole graph, and must report only those of focus nodes
    "not_a_focus_node": ("INSERT { ?x dcterms:title 'one', 'two' ; lskg:studyKind 'survey' ; lskg:document 42 } "
                         "WHERE { BIND(IRI(CONCAT(STR(?s), '-shadow')) AS ?x) }", None, None),
}
FOCUS = {"s": "study/s-{c}", "f": "fact/f-{c}", "e": "evidence/e-{c}", "cand": "concept/candidate/Net-{c}",
         "gap": "gap/g-{c}", "m": "metric/m-{c}", "usesModel": "ontology/usesModel"}
BINDINGS = ("BIND(study:s-{c} AS ?s) BIND(fact:f-{c} AS ?f) BIND(evidence:e-{c} AS ?e) "
            "BIND(candidate:Net-{c} AS ?cand) BIND(gap:g-{c} AS ?gap) BIND(metric:m-{c} AS ?m)")


def _sparql_prefixes() -> str:
    return "".join(f"PREFIX {line.split()[1]} {line.split()[2]}\n" for line in PREFIXES.strip().splitlines())


def _break(store: EmbeddedStore, case: str, update: str) -> None:
    graph = f"<https://w3id.org/lskg/graph/study/case-{case}>"
    head, _, where = update.rpartition("WHERE")
    where = where.strip()[1:-1]  # the group's content
    store.update(_sparql_prefixes() + f"WITH {graph} {head} WHERE {{ {BINDINGS.format(c=case)} {where} }}")


def _load(store: EmbeddedStore, turtle: str, graph: str) -> None:
    store.native.load(turtle.encode(), format=RdfFormat.TURTLE, to_graph=NamedNode(graph))


def _dataset() -> EmbeddedStore:
    store = EmbeddedStore(None)
    store.load(ontology_quads())
    for case, (update, _, _) in CASES.items():
        _load(store, PREFIXES + BASE.format(c=case), f"https://w3id.org/lskg/graph/study/case-{case}")
        if update:
            _break(store, case, update)
    return store


@pytest.fixture(scope="module")
def reports():
    store = _dataset()
    return validate(store, engine="sparql"), validate(store, engine="pyshacl")


def _of_case(report, case: str) -> set[tuple]:
    return {v.key for v in report.violations if f"-{case}" in v.focus or f"-{case}" in (v.value or "")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_engines_report_the_same_violations(reports, case):
    sparql, pyshacl = reports
    _, component, focus = CASES[case]
    assert _of_case(sparql, case) == _of_case(pyshacl, case)
    found = _of_case(sparql, case)
    if component is None:
        assert not found, found
    else:
        expected = [k for k in found if k[3] == component and
                    (focus is None or k[0].endswith(FOCUS[focus].format(c=case)))]
        assert expected, f"{case}: no {component} among {found}"


def test_the_reports_agree_on_everything_else(reports):
    """Violations outside the cases (the ontology files themselves) agree as well, and so does conformance."""
    sparql, pyshacl = reports
    assert {v.key for v in sparql.violations} == {v.key for v in pyshacl.violations}
    assert sparql.conforms is pyshacl.conforms is False


@pytest.mark.parametrize("fixture", ["valid_study.ttl", "invalid_study.ttl"])
def test_the_ontology_fixtures_get_the_same_report(fixture):
    store = EmbeddedStore(None)
    store.load(ontology_quads())
    _load(store, (DATA / "ontology" / fixture).read_text(encoding="utf-8"), "https://w3id.org/lskg/graph/study/x")
    sparql, pyshacl = validate(store, engine="sparql"), validate(store, engine="pyshacl")
    assert [v.key for v in sparql.violations] == [v.key for v in pyshacl.violations]
    assert sparql.conforms is pyshacl.conforms
    if fixture == "invalid_study.ttl":
        assert len(sparql.violations) >= 10


def test_every_shape_compiles_and_names_a_shape_and_path():
    checks = compile_shapes()
    assert {c.kind for c in checks} >= {"values", "counts", "pair"}
    rules = [rule for c in checks for rule in c.rules]
    assert all(rule.shape.startswith("https://w3id.org/lskg/shape/") for rule in rules)
    sequence = [rule for rule in rules if rule.path and rule.path.startswith("^<") and "/<" in rule.path]
    assert sequence, "the fact-object shapes use an inverse-sequence path"


def test_an_unknown_shacl_feature_is_refused_by_name():
    import rdflib

    shapes = rdflib.Graph().parse(data=PREFIXES + """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix shape: <https://w3id.org/lskg/shape/> .
        shape:Odd a sh:NodeShape ; sh:targetClass lskg:Study ;
            sh:property [ sh:path dcterms:title ; sh:equals dcterms:alternative ] .
        """, format="turtle")
    with pytest.raises(ShapeCompileError, match="equals"):
        Shapes(shapes).compile()


def test_an_unknown_engine_is_an_error():
    with pytest.raises(ValueError, match="pyshacl"):
        validate(EmbeddedStore(None), engine="rdfs")  # type: ignore[arg-type]


def test_a_path_that_can_reach_any_node_starts_from_the_focus_nodes():
    """Value checks scan a predicate path's triples over the whole graph, except a path with ``*``, ``+`` or ``?``
    (it would pair every node with every node) and shapes whose focus nodes are listed (sh:targetNode)."""
    import rdflib

    shapes = rdflib.Graph().parse(data=PREFIXES + """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix shape: <https://w3id.org/lskg/shape/> .
        shape:Scanned a sh:NodeShape ; sh:targetClass lskg:Study ;
            sh:property [ sh:path dcterms:title ; sh:datatype xsd:string ] .
        shape:Reaching a sh:NodeShape ; sh:targetClass lskg:Study ;
            sh:property [ sh:path [ sh:zeroOrMorePath skos:broader ] ; sh:nodeKind sh:IRI ] .
        shape:Listed a sh:NodeShape ; sh:targetNode lskg:usesModel ;
            sh:property [ sh:path ( [ sh:inversePath lskg:factProperty ] lskg:factObject ) ; sh:nodeKind sh:IRI ] .
        """, format="turtle")
    checks = {c.rules[0].shape.rsplit("/", 1)[-1]: c.sparql for c in Shapes(shapes).compile()}
    assert {name: text.count("SELECT DISTINCT ?this WHERE") for name, text in checks.items()} == {
        "Scanned": 1, "Reaching": 2, "Listed": 2}
