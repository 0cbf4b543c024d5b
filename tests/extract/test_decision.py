"""The learned decision stage (``lskg.decision.v1``): on by default in the settings (CLI, build), metric names never models, implied trigger
types from named events, method steps apart from tasks, the packaged weights, and reproducible training."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lskg.extract.decision import WEIGHTS, DecisionModel, DecisionStage, FacetModel, is_metric_name
from lskg.extract.document import Document
from lskg.extract.features import FACETS, factor_words
from lskg.records import Study

REAL_GOLD = Path(__file__).resolve().parents[1] / "data" / "gold" / "real"


@pytest.fixture(scope="module")
def decider(extractor):
    from lskg.extract.pipeline import Extractor

    return Extractor(extractor.index, nlp=extractor.nlp, decide=True)


def run(extractor, abstract: str, title: str = ""):
    (facts,) = extractor.run([Document.of_record(Study(id="t", title=title, abstract=abstract, source="t.jsonl#t"))])
    return facts


def labels(facts, facet: str) -> dict[str, str]:
    return {f.label: f.role for f in facts.facts if f.facet == facet}


# --------------------------------------------------------------------------- the switch


def test_the_setting_turns_the_decision_stage_on_and_the_python_api_stays_explicit(extractor, monkeypatch) -> None:
    import inspect

    from lskg.extract import extract_corpus
    from lskg.settings import Settings

    monkeypatch.delenv("LSKG_DECIDE", raising=False)
    assert Settings().decide is True  # CLI and build: the learned stage decides (it beats rules-only in CV)
    monkeypatch.setenv("LSKG_DECIDE", "0")
    assert Settings().decide is False  # rules-only on request
    assert extractor.decision is None  # an Extractor and extract_corpus decide only when asked
    assert inspect.signature(extract_corpus).parameters["decide"].default is False


def test_rules_only_output_is_untouched_by_the_hook(extractor) -> None:
    from lskg.extract.pipeline import Extractor

    text = "We propose a U-Net for landslide detection from Sentinel-2 images. Feature extraction uses a ResNet."
    off = Extractor(extractor.index, nlp=extractor.nlp, decide=False)
    assert run(off, text).facts == run(extractor, text).facts


# --------------------------------------------------------------------------- metrics are never models


@pytest.mark.parametrize("name, metric", [("mIoU", True), ("mIOU", True), ("RMSE", True), ("F1-score", True),
                                          ("AUC-PR", True), ("U-Net", False), ("LSTM-TCN", False),
                                          ("HRNet", False), ("LiteTransNet", False)])
def test_metric_names(name: str, metric: bool) -> None:
    assert is_metric_name(name) is metric


def test_a_metric_never_becomes_a_model(extractor, decider) -> None:
    text = "The HRNet model, evaluated by mIOU, RMSE and AUC-PR, outperformed the baselines."
    assert "mIOU" in labels(run(extractor, text), "model")  # what the rules propose ...
    decided = labels(run(decider, text), "model")
    assert not {"mIOU", "AUC-PR", "RMSE"} & set(decided)  # ... is not what the decision keeps
    assert "HRNet" in decided


# --------------------------------------------------------------------------- implied trigger types


@pytest.mark.parametrize("title, abstract, implied, span", [
    ("Landslide mapping in Jiuzhaigou with a U-Net",
     "We mapped 4,834 landslides of the 2017 Jiuzhaigou earthquake in Sentinel-2 images with a U-Net.",
     "earthquake-induced landslide", "2017 Jiuzhaigou earthquake"),
    ("Slope failure detection in an open-pit mine",
     "Deformation of the slopes of the Fushun West Open-pit Mine was monitored with SBAS-InSAR and predicted "
     "with a GRU.", "mining-induced landslide", None),
])
def test_a_named_event_implies_the_trigger_type_with_its_sentence(extractor, decider, title, abstract, implied,
                                                                   span) -> None:
    assert implied not in labels(run(extractor, abstract, title), "landslide_type")
    facts = run(decider, abstract, title)
    fact = next(f for f in facts.facts if f.facet == "landslide_type" and f.label == implied)
    assert fact.evidence.extractor == "lskg.events.v1"
    assert fact.evidence.span in fact.evidence.sentence
    assert span is None or fact.evidence.span == span
    text = Study(id="t", title=title, abstract=abstract).text
    assert text[fact.evidence.start:fact.evidence.end] == fact.evidence.span


# --------------------------------------------------------------------------- method steps


STEPS_TEXT = ("This study maps landslide susceptibility in Nepal with a random forest. Feature selection with the "
              "information gain ratio removed three of fifteen conditioning factors, and data fusion of Sentinel-2 "
              "and DEM derivatives produced the inputs. The AUC reached 0.91.")


def test_method_steps_are_kept_apart_from_tasks(decider, index) -> None:
    from lskg.extract.output import study_record
    from lskg.kg.mapping import fact_property
    from lskg.ontology.terms import LSKG

    facts = run(decider, STEPS_TEXT, "Landslide susceptibility mapping with a random forest")
    tasks = labels(facts, "task")
    assert tasks["susceptibility mapping"] == "applied"
    assert tasks["feature selection"] == "method_step" and tasks["data fusion"] == "method_step"
    record = study_record(facts, index)
    assert record["tasks"] == ["susceptibility mapping"]
    step = next(f for f in facts.facts if f.label == "feature selection")
    assert fact_property(step) == LSKG.usesMethodStep


@pytest.fixture(scope="module")
def step_store(decider):
    from lskg.kg.mapping import study_quads
    from lskg.kg.store import EmbeddedStore
    from lskg.ontology import ontology_quads

    facts = run(decider, STEPS_TEXT, "Landslide susceptibility mapping with a random forest")
    store = EmbeddedStore(None)
    store.load(ontology_quads())
    store.load(list(study_quads(facts)))
    return store


@pytest.mark.parametrize("engine", ["sparql", "pyshacl"])
def test_a_graph_with_method_steps_and_events_conforms(step_store, engine) -> None:
    from lskg.kg.validate import validate

    report = validate(step_store, engine=engine)
    assert report.conforms, report.summary()


def test_task_queries_are_not_answered_with_method_steps(step_store) -> None:
    from lskg.kg.aggregates import refresh
    from lskg.ontology.terms import TASK

    refresh(step_store)  # the counts a build would add (method_step_counts reads them)

    assert step_store.select("studies_for_context", task=[TASK.FeatureSelection]) == []
    assert len(step_store.select("studies_for_context", task=[TASK.SusceptibilityMapping])) == 1
    assert len(step_store.select("studies_for_context", method_step=[TASK.FeatureExtraction])) == 1
    rows = {r["label"].value: (int(r["task_studies"].value), int(r["step_studies"].value))
            for r in step_store.select("method_step_counts")}
    assert rows["feature selection"] == (0, 1) and rows["susceptibility mapping"] == (1, 0)
    assert rows["feature extraction"] == (0, 1)  # a broader concept counts the steps under it


# --------------------------------------------------------------------------- knowledge-implied data


def test_factor_words_come_from_the_ontology_labels(index) -> None:
    words = {w: index.label(i) for w, i in factor_words(index).items()}
    assert words["slope"] == "slope angle" and words["aspect"] == "slope aspect"
    assert words["roads"] == "distance to road" and words["rivers"] == "distance to river"
    assert "landslide" not in words and "data" not in words


def _factor_candidates(extractor, index, abstract: str) -> set[str]:
    from lskg.extract.gold import GoldStudy
    from lskg.extract.learn import collect

    (data,) = collect([GoldStudy("f", "Mapping", f"Mapping. {abstract}", None)], index, nlp=extractor.nlp)
    return {index.label(c.concept) for c in data.view.candidates.values() if "factor_list" in c.sources}


@pytest.mark.parametrize("abstract, expected", [
    # three distinct factors make a factor list without a word such as "factors"
    ("Elevation, slope, aspect and lithology were mapped across the basin.", {"slope angle", "slope aspect"}),
    # the first item ends the lead-in
    ("The inputs considered were slope, aspect, curvature and elevation.", {"slope angle", "slope aspect"}),
    # one factor word in an enumeration of other things is no factor list
    ("Roads, houses and bridges were damaged by the flood.", set()),
])
def test_factor_lists(extractor, index, abstract: str, expected: set[str]) -> None:
    found = _factor_candidates(extractor, index, abstract)
    assert expected <= found and (expected or not found), found


# --------------------------------------------------------------------------- the packaged model


def test_the_packaged_model_loads_without_network() -> None:
    import spacy

    model = DecisionModel.load()
    assert WEIGHTS.parent.name == "models" and WEIGHTS.suffix == ".json"
    assert set(FACETS) <= set(model.facets)
    assert model.version.startswith("lskg.decision.v1")
    assert model.meta["trained_on"]["split"] == "train" and model.meta["thresholds_from"]["split"] == "dev"
    for facet in FACETS:
        assert 0 < model.facets[facet].threshold < 1
    stage = spacy.registry.misc.get("lskg.decision.v1")()
    assert isinstance(stage, DecisionStage) and stage.name == "lskg.decision.v1"


def test_a_model_round_trips_through_json(tmp_path: Path) -> None:
    model = DecisionModel.load()
    model.save(tmp_path / "m.json")
    again = DecisionModel.load(tmp_path / "m.json")
    assert again.as_dict() == model.as_dict()


def test_a_broken_model_file_is_a_user_error(tmp_path: Path) -> None:
    from lskg.errors import InputError

    (tmp_path / "m.json").write_text(json.dumps({"facets": {"data": {"threshold": 0.5}}}))
    with pytest.raises(InputError, match="no weights"):
        DecisionModel.load(tmp_path / "m.json")


def test_boosted_trees_exported_to_json_predict_like_scikit_learn() -> None:
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier

    from lskg.extract.learn import fit_facet

    rng = random.Random(3)
    rows, ys = [], []
    for _ in range(300):
        a, b, c = rng.random(), rng.random(), rng.random()
        rows.append({"bias": 1.0, "a": a, "b": b, "c": c})
        ys.append(int(a + 0.5 * b + 0.2 * rng.random() > 0.8))
    exported = fit_facet(rows, ys, "boosting", seed=0)
    names = ["a", "b", "bias", "c"]
    x = np.array([[r[k] for k in names] for r in rows])
    reference = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.05, subsample=0.8,
                                           random_state=0, min_samples_leaf=5).fit(x, np.array(ys))
    expected = reference.predict_proba(x)[:, 1]
    got = np.array([exported.probability(r) for r in rows])
    assert np.allclose(got, expected, atol=1e-4)
    linear = fit_facet(rows, ys, "logistic", seed=0)
    assert isinstance(linear, FacetModel) and linear.kind == "linear"
    accuracy = np.mean([(linear.probability(r) >= 0.5) == bool(y) for r, y in zip(rows, ys, strict=True)])
    assert accuracy > 0.8


# --------------------------------------------------------------------------- reproducible training


@pytest.fixture(scope="module")
def small_gold(extractor):
    from lskg.extract import gold
    from lskg.extract.learn import collect

    train = collect(gold.load(REAL_GOLD, "train")[:40], extractor.index, nlp=extractor.nlp)
    dev = collect(gold.load(REAL_GOLD, "dev")[:20], extractor.index, nlp=extractor.nlp)
    return train, dev


@pytest.mark.parametrize("learner", ["logistic", "boosting"])
def test_training_is_reproducible_with_a_fixed_seed(small_gold, index, learner) -> None:
    from lskg.extract.learn import decided_sets, report, train, tune_thresholds

    train_data, dev_data = small_gold
    first = tune_thresholds(train(train_data, learner=learner, seed=7), dev_data, index)
    second = tune_thresholds(train(train_data, learner=learner, seed=7), dev_data, index)
    assert json.dumps(first.as_dict(), sort_keys=True) == json.dumps(second.as_dict(), sort_keys=True)
    scores = [report(dev_data, decided_sets(dev_data, m, index), index, "l", "dev").micro for m in (first, second)]
    assert {k: c.as_dict() for k, c in scores[0].items()} == {k: c.as_dict() for k, c in scores[1].items()}


def test_the_learned_path_equals_the_extractor_with_the_decision_on(small_gold, decider, index) -> None:
    """Scores in training and evaluation come from the same decisions the extractor makes."""
    from lskg.extract.evaluate import predicted_sets
    from lskg.extract.learn import decided_sets, documents

    _, dev_data = small_gold
    studies = [d.study for d in dev_data]
    through_extractor = [predicted_sets(f, index) for f in decider.run(documents(studies))]
    assert through_extractor == decided_sets(dev_data, DecisionModel.load(), index)


def test_labels_follow_the_hierarchy_rule(index) -> None:
    from lskg.extract.features import Candidate
    from lskg.extract.learn import label
    from lskg.ontology.terms import DATA, MODEL

    gold = {"families": {"RNN"}, "data": {DATA.InSAR.value}, "landslide_types": set(), "tasks": set()}
    assert label(Candidate("data", DATA.SBASInSAR.value, "SBAS-InSAR"), gold, index) == 1  # narrower: right
    assert label(Candidate("data", DATA.SARImagery.value, "SAR imagery"), gold, index) is None  # broader: vague
    assert label(Candidate("data", DATA.Landsat.value, "Landsat"), gold, index) == 0
    assert label(Candidate("model", MODEL.LSTM.value, "LSTM"), gold, index) == 1
    assert label(Candidate("model", MODEL.UNet.value, "U-Net"), gold, index) == 0
