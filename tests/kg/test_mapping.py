"""Studies and facts to RDF: deterministic IRIs, one graph per study, provenance on every fact."""

from __future__ import annotations

from lskg.kg import open_store
from lskg.kg.mapping import study_graph, study_quads, study_triples
from lskg.ontology import candidate_iri, ontology_quads
from lskg.ontology.terms import MODEL
from lskg.records import Evidence, Fact, Metric, Study, StudyFacts


def _facts(doi: str | None = "10.1/X") -> StudyFacts:
    study = Study(id="a", title="A Study of LiteTransNet", year=2024, doi=doi, source="c.jsonl#a")
    ev = Evidence("c.jsonl#a", "We propose LiteTransNet and compare it with SVM.", 11, 23, "LiteTransNet",
                  "lskg.candidates.v1", 0.6)
    base = Evidence("c.jsonl#a", "We propose LiteTransNet and compare it with SVM.", 44, 47, "SVM",
                    "lskg.facet_ruler.v1", 0.9)
    return StudyFacts(study, [
        Fact("model", candidate_iri("LiteTransNet"), "LiteTransNet", ev, role="proposed", candidate=True,
             broader=(MODEL.Transformer.value,)),
        Fact("model", MODEL.SVM.value, "support vector machine", base, role="baseline"),
    ], [Metric("accuracy", 93.0, "%", ev)], place="Sichuan, China")


def test_ids_are_deterministic_and_dois_case_insensitive():
    a, b = _facts("10.1/X"), _facts("https://doi.org/10.1/x")
    assert study_graph(a) == study_graph(b)
    assert set(study_triples(a)) == set(study_triples(b))
    assert study_graph(_facts(None)) != study_graph(a)


def test_every_fact_has_role_confidence_and_evidence_and_the_graph_validates():
    from lskg.kg.validate import validate

    store = open_store(None)
    store.load(ontology_quads())
    store.load(study_quads(_facts()))
    rows = store.select("SELECT ?c ?role ?conf ?sentence ?agent WHERE { ?s lskg:hasFact ?f . ?f lskg:factObject ?c ; "
                        "lskg:role ?role ; lskg:confidence ?conf ; prov:wasDerivedFrom ?e . ?e lskg:sentence ?sentence ; "
                        "prov:wasAttributedTo ?agent }")
    assert {(r["c"].value, r["role"].value) for r in rows} == {
        (candidate_iri("LiteTransNet"), "proposed"), (MODEL.SVM.value, "baseline")}
    assert all("LiteTransNet" in r["sentence"].value for r in rows)
    # a baseline is a comparesWith edge, not a usesModel edge
    assert store.ask("ASK { ?s lskg:comparesWith model:SVM FILTER NOT EXISTS { ?s lskg:usesModel model:SVM } }")
    assert store.ask("ASK { ?s lskg:studyArea 'Sichuan, China' ; lskg:reportsMetric ?m . "
                     "?m lskg:metricName 'accuracy' ; lskg:metricValue ?v FILTER(?v = 93) }")
    candidates = store.select("aggregate_candidate_concepts")  # no build here, so no aggregates to read
    assert [(r["label"].value, int(r["studies"].value)) for r in candidates] == [("LiteTransNet", 1)]
    assert "transformer" in candidates[0]["families"].value.lower()
    report = validate(store)
    assert report.conforms, report.summary()
