"""The spaCy pipeline: label variants, abbreviations, candidates, roles, metrics, places, provenance."""

from __future__ import annotations

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from lskg.extract.components.metrics import find_metrics
from lskg.extract.components.tokens import token_table
from lskg.extract.document import Document
from lskg.extract.pipeline import build_pipeline
from lskg.records import Study


def test_pipeline_components_are_registered_names() -> None:
    nlp = build_pipeline()
    assert nlp.pipe_names == ["sentences", "facet_ruler", "paraphrases", "abbreviations", "candidates", "roles", "metrics",
                              "places"]
    assert nlp.get_pipe_meta("facet_ruler").factory == "lskg_facet_ruler_v1"


@pytest.mark.parametrize("surface", ["U-Net", "UNet", "U Net", "U-Nets", "unet", "U-shaped network"])
def test_model_label_variants(read, surface: str) -> None:
    assert ("model", "U-Net") in read(f"We segment landslides with a {surface} here.")


@pytest.mark.parametrize("surface, facet, label", [
    ("SBAS-InSAR", "data", "SBAS-InSAR"),
    ("SBAS InSAR", "data", "SBAS-InSAR"),
    ("co-seismic landslides", "landslide_type", "earthquake-induced landslide"),
    ("coseismic landslide", "landslide_type", "earthquake-induced landslide"),
    ("CNNs", "model", "convolutional neural network"),
    ("long short-term memory", "model", "long short-term memory"),
    ("susceptibility modelling", "task", "susceptibility mapping"),
    ("susceptibility modeling", "task", "susceptibility mapping"),
])
def test_variants_across_facets(read, surface: str, facet: str, label: str) -> None:
    assert (facet, label) in read(f"This study uses {surface} in the analysis.")


def test_acronyms_are_case_sensitive(read) -> None:
    found = read("The ae and gan of the village were not models.")
    assert not any(facet == "model" for facet, _ in found)


def test_abbreviation_defined_in_text_resolves_later_use(read, index) -> None:
    text = "We use a temporal convolutional network (TCN). Later the TCN is tuned."
    doc_facts = read(text)
    assert ("model", index.resolve("TCN", "model").pref_label) in doc_facts


@pytest.mark.parametrize("text", [
    "Acoustic emission (AE) sensors recorded AE activity; the AE signals were classified by machine learning.",
    "The slope model was tuned with the Alpha Evolution (AE) algorithm, and AE converged in ten steps.",
])
def test_acronym_the_text_defines_as_something_else_is_not_that_concept(read, text: str) -> None:
    assert ("model", "autoencoder") not in read(text)


@pytest.mark.parametrize("text, label", [
    ("An autoencoder (AE) compresses the image patches; the AE is then fine-tuned.", "autoencoder"),
    ("Convolutional Neural Nets (CNN) map the landslides; the CNN is trained on patches.",
     "convolutional neural network"),
])
def test_acronym_defined_as_its_own_concept_stays(read, text: str, label: str) -> None:
    assert ("model", label) in read(text)


@pytest.mark.parametrize("name, family", [
    ("deep neural network (DNN)", "multilayer perceptron"),
    ("physics-informed neural network", "multilayer perceptron"),
    ("LSTNet", "convolutional neural network"),
    ("LSTNet", "recurrent neural network"),
    ("YOLOv11", "convolutional neural network"),
    ("ChatGLM2", "Transformer"),
    ("ALBERT", "Transformer"),
    ("Linformer", "Transformer"),
])
def test_architecture_names_of_real_abstracts_sit_in_the_hierarchy(extractor, index, name: str, family: str) -> None:
    study = Study(id="n", title="", abstract=f"A {name} is trained for landslide susceptibility mapping.")
    (facts,) = extractor.run([Document.of_record(study)])
    above = {index.label(c) for fact in facts.facts if fact.facet == "model" and not fact.candidate
             for c in {fact.concept, *index.ancestors(fact.concept)}}
    assert family in above


def test_user_defined_acronym_of_a_modified_concept_is_a_candidate(extractor) -> None:
    doc = extractor.read("We build a multi-branch residual network (MBRN) and train the MBRN on landslides.")
    later = [m for m in doc._.lskg_mentions if doc[m.start:m.end].text == "MBRN"]
    assert later and later[0].candidate and later[0].label == "MBRN"


@pytest.mark.parametrize("name, families", [
    ("LiteTransNet", {"Transformer"}),
    ("GNN-CF", {"GNN"}),
    ("L-Unet", {"CNN"}),
    ("LSTM-TCN", {"RNN", "CNN"}),
    ("CNN-BiGRU", {"CNN", "RNN"}),
    ("LightDet-UNet", {"CNN"}),  # "Light" starts one label only (LightGBM): no pattern, no classical-ML family
])
def test_candidate_architectures_get_families_from_parts(extractor, index, name: str, families: set[str]) -> None:
    study = Study(id="c", title="", abstract=f"We propose {name} for landslide displacement prediction.")
    (facts,) = extractor.run([Document.of_record(study)])
    (candidate,) = [f for f in facts.facts if f.candidate]
    assert candidate.label == name and candidate.role == "proposed"
    assert set(index.families(candidate.concept, candidate.broader)) == families
    from lskg.ontology import candidate_iri

    assert candidate.concept == candidate_iri(name)


def test_candidate_needs_model_evidence(read) -> None:
    found = read("Images from PlanetScope and the Landslide4Sense benchmark were used.")
    assert not any(facet == "model" for facet, _ in found)


def test_candidate_family_from_context(read) -> None:
    found = read("We propose SlopeNet, a Transformer encoder for displacement forecasting.")
    assert found.get(("model", "SlopeNet")) == "proposed"


@pytest.mark.parametrize("text, baseline, applied", [
    ("The LSTM outperformed SVM and random forest.", ["support vector machine", "random forest"],
     ["long short-term memory"]),
    ("A CNN was compared with logistic regression.", ["logistic regression"], ["convolutional neural network"]),
    ("The GRU achieved a lower RMSE than the random forest model.", ["random forest"], ["gated recurrent unit"]),
    ("Compared with SVM, the U-Net mapped landslides better.", ["support vector machine"], ["U-Net"]),
    ("We trained a U-Net and used a random forest as a baseline.", ["random forest"], ["U-Net"]),
])
def test_roles_baseline_versus_applied(read, index, text: str, baseline: list[str], applied: list[str]) -> None:
    found = read(text)
    for label in baseline:
        assert found[("model", index.resolve(label, "model").pref_label)] == "baseline", label
    for label in applied:
        assert found[("model", index.resolve(label, "model").pref_label)] in {"applied", "proposed"}, label


@pytest.mark.parametrize("text, label", [
    ("Unlike InSAR-based methods, our optical approach needs no radar.", "InSAR"),
    ("The framework could be extended to GNNs in later studies.", "GNN"),
    ("In future work, a Transformer will be tested.", "Transformer"),
])
def test_background_and_future_mentions(read, index, text: str, label: str) -> None:
    concept = index.resolve(label)
    found = read(text)
    assert found.get((concept.facet, concept.pref_label)) == "mentioned"


@pytest.mark.parametrize("text, expected", [
    ("an accuracy of 93%", ("accuracy", 93.0, "%")),
    ("F1 87.94%", ("F1", 87.94, "%")),
    ("an F1-score of 0.88", ("F1", 0.88, None)),
    ("RMSE 3.2 mm", ("RMSE", 3.2, "mm")),
    ("R2 0.95", ("R2", 0.95, None)),
    ("R² of 0.95", ("R2", 0.95, None)),
    ("AUC = 0.91", ("AUC", 0.91, None)),
    ("an IoU of 0.77", ("IoU", 0.77, None)),
    ("overall accuracy reached 91.25%", ("overall accuracy", 91.25, "%")),
    ("a kappa of 0.68", ("kappa", 0.68, None)),
    ("93% accuracy", ("accuracy", 93.0, "%")),
    ("MAE of 1.8 mm", ("MAE", 1.8, "mm")),
])
def test_metrics(text: str, expected: tuple) -> None:
    assert [m[2:] for m in find_metrics(text)] == [expected]


def test_metrics_ignore_years_and_lowercase_acronyms() -> None:
    assert find_metrics("accuracy in 2019 was discussed; the map of the area") == []


@pytest.mark.parametrize("text, place", [
    ("Landslides in the Three Gorges Reservoir area, China, were studied.", "Three Gorges Reservoir area, China"),
    ("We mapped slides triggered by the 2008 Wenchuan earthquake.", "Wenchuan"),
    ("A case study in Hokkaido, Japan.", "Hokkaido, Japan"),
])
def test_places(extractor, text: str, place: str) -> None:
    (facts,) = extractor.run([Document.of_record(Study(id="p", title="", abstract=text))])
    assert facts.place == place


def test_evidence_offsets_point_into_the_document(extractor) -> None:
    study = Study(id="e", title="A U-Net study", abstract="We applied DeepLabv3+ to Sentinel-2 images.",
                  source="x.bib#e")
    (facts,) = extractor.run([Document.of_record(study)])
    text = study.text
    for fact in facts.facts:
        ev = fact.evidence
        assert text[ev.start:ev.end] == ev.span
        assert ev.span in ev.sentence and ev.document == "x.bib#e"
        assert ev.extractor.startswith("lskg.") and ev.extractor.endswith(".v1")
        assert 0 < ev.confidence <= 1


def test_hybrid_belongs_to_every_family(extractor, index) -> None:
    study = Study(id="h", title="", abstract="A ConvLSTM forecasts displacement.")
    (facts,) = extractor.run([Document.of_record(study)])
    (fact,) = [f for f in facts.facts if f.facet == "model"]
    assert set(index.families(fact.concept, fact.broader)) == {"CNN", "RNN"}


def test_pipe_with_two_processes_matches_one(index, monkeypatch) -> None:
    """Worker processes give what one process gives; a corpus of one chunk (16 studies) is not worth a pool."""
    from lskg.extract.pipeline import WORKER_CHUNK, Extractor

    studies = [Document.of_record(Study(id=str(i), title="", abstract=f"Study {i} applies a GRU and a CNN."))
               for i in range(2 * WORKER_CHUNK + 3)]
    one = [sorted(f.concept for f in s.facts) for s in Extractor(index).run(studies)]
    in_parent: list[int] = []  # calls made in this process (the workers' own calls happen in their copies)
    here = Extractor._run_here
    monkeypatch.setattr(Extractor, "_run_here", lambda self, docs: in_parent.append(1) or here(self, docs))
    two = [sorted(f.concept for f in s.facts) for s in Extractor(index, n_process=2, batch_size=2).run(studies)]
    assert one == two and all(len(x) == 2 for x in one)
    assert in_parent == []
    few = list(Extractor(index, n_process=2).run(studies[:WORKER_CHUNK]))
    assert len(few) == WORKER_CHUNK and in_parent == [1]


@pytest.mark.parametrize("text, label", [
    ("We detect new landslides in optical images.", "landslide detection"),
    ("Landslides were mapped from UAV orthophotos.", "landslide mapping"),
    ("The network forecasts GNSS displacement one week ahead.", "displacement prediction"),
])
def test_task_paraphrases(read, text: str, label: str) -> None:
    assert ("task", label) in read(text)


def test_trigger_paraphrase(read) -> None:
    found = read("We mapped slope failures triggered by the 2018 Iburi earthquake.")
    assert ("landslide_type", "earthquake-induced landslide") in found


def test_paraphrase_inside_a_label_is_not_counted(read) -> None:
    found = read("We produce landslide susceptibility mapping for the county.")
    assert ("task", "susceptibility mapping") in found and ("task", "landslide mapping") not in found


def test_trigger_word_is_not_a_data_source(read) -> None:
    found = read("Rainfall-triggered slope failures were studied.")
    assert not any(facet == "data" for facet, _ in found)


@pytest.mark.parametrize("label", ["LiteTransNet", "GNN-CF", "L-Unet", "CNN BiGRU", "--", "Ünet"])
def test_candidate_iri_is_a_valid_iri_under_the_candidate_namespace(label: str) -> None:
    from pyoxigraph import NamedNode

    from lskg.ontology import candidate_iri
    from lskg.ontology.terms import CANDIDATE

    iri = candidate_iri(label)
    assert NamedNode(iri) in CANDIDATE and iri != CANDIDATE.iri
    assert candidate_iri(label.lower()) == iri or label.lower() != label  # case is kept


_TOKEN_TEXT = st.lists(st.sampled_from([*"aB ZnU-.,()?!\n\t\u00e9%12", "et al. ", "Fig. 2", "  ", "U-Net"]),
                       max_size=20).map("".join)


@settings(max_examples=40, deadline=None)
@given(text=_TOKEN_TEXT)
def test_token_table_reads_what_spacy_reads(text: str) -> None:
    """The components read tokens, spans and sentences from one table per Doc: it must agree with spaCy's own
    Token, Span, char_span(alignment_mode="expand") and Span.sent on any text."""
    nlp = _sentence_nlp()
    doc = nlp(text)
    tokens = token_table(doc)
    assert tokens.doc_text == doc.text
    assert tokens.text == [t.text for t in doc] and tokens.lower == [t.lower_ for t in doc]
    assert tokens.idx == [t.idx for t in doc] and tokens.punct == [t.is_punct for t in doc]
    assert tokens.space == [t.is_space for t in doc] and tokens.alpha == [t.is_alpha for t in doc]
    assert tokens.glued == [t.whitespace_ == "" for t in doc]
    if len(doc):
        assert tokens.sentences() == [(s.start, s.end) for s in doc.sents]
    for start in range(len(doc.text) + 1):
        for end in range(start, len(doc.text) + 2):
            span = doc.char_span(start, end, alignment_mode="expand")
            assert tokens.char_span(start, end) == (None if span is None else (span.start, span.end))
            if span is not None:
                assert tokens.span_text(span.start, span.end) == span.text
                if span.start < len(doc):
                    assert tokens.sentence_text(span.start) == span.sent.text


def _sentence_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("lskg_sentences_v1")
    return nlp
