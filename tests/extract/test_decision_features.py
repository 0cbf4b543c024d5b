"""The decision stage's features and scores, pinned, and spaCy imported for extraction without torch.

A hand-made study (its own small concept index, sentences, candidates and mentions; no pipeline, no packaged
ontology, so rule and ontology edits do not move it) is described by :func:`lskg.extract.features.features` and
scored by a linear :class:`~lskg.extract.decision.FacetModel`, and both are compared, exactly, with the committed
fixture ``tests/data/decision_features.json``: a change to what a feature means, to its value, or to the
order of the features (a linear score sums its weights in that order, so the order decides the last bits of a
score) fails here. After an intended change, rewrite the fixture with
``python tests/extract/test_decision_features.py`` and say why in the commit.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "decision_features.json"
BASE = "https://w3id.org/lskg/test/"
TEXTS = [
    ("Reservoir-induced landslide detection with a U-Net and SBAS-InSAR time series", True),
    ("We propose a U-Net that detects landslides from SBAS-InSAR deformation in the Three Gorges Reservoir.", False),
    ("Traditional methods such as random forests have been widely used; however, they remain costly.", False),
    ("The network was trained on InSAR data and reservoir water level series from 2010 to 2020.", False),
    ("Results show that the U-Net outperformed the random forest, with an accuracy of 93%.", False),
    ("Future work could extend the CNN to other reservoirs.", False),
]
KIND_CASES = [  # (sentence, is_title): kinds; prefixes count only at the start of a word
    ("In this study, we develop a CNN.", False),
    ("This paper re-proposes nothing; the un-derived map is pre-trained.", False),
    ("Landslides pose serious threats to lives, although monitoring has been improved.", False),
    ("The objective is to map landslides.", False),
    ("It can be used as a reference in future studies.", False),
    ("A map of 93% accuracy", True),
    ("İzmir landslides were mapped with Sentinel-2 imagery.", False),
    ("", False),
]


def _index():
    from lskg.ontology import Concept, ConceptIndex

    def concept(local: str, label: str, facet: Any, *, alt: tuple[str, ...] = (), broader: tuple[str, ...] = (),
                definition: str = "") -> Concept:
        return Concept(BASE + local, label, facet, alt, tuple(BASE + b for b in broader), definition)

    return ConceptIndex({c.iri: c for c in (
        concept("CNN", "convolutional neural network", "model", alt=("CNN",),
                definition="A neural network whose layers convolve images with learned filters."),
        concept("UNet", "U-Net", "model", broader=("CNN",),
                definition="An encoder-decoder convolutional network with skip connections for segmentation."),
        concept("RandomForest", "random forest", "model", definition="An ensemble of decision trees."),
        concept("InSAR", "InSAR", "data", definition="Radar interferometry measuring ground deformation."),
        concept("SBASInSAR", "SBAS-InSAR", "data", broader=("InSAR",),
                definition="Small baseline subset interferometry giving deformation time series."),
        concept("ReservoirInducedLandslide", "reservoir-induced landslide", "landslide_type",
                definition="A landslide triggered by changes of a reservoir's water level."),
        concept("LandslideDetection", "landslide detection", "task", definition="Finding landslides in images."),
    )})


def handmade_study():
    """(index, view) of a hand-made study: every kind of evidence a feature reads."""
    import spacy

    from lskg.extract.document import Document
    from lskg.extract.features import WORD, Candidate, Occurrence, Sentence, StudyView, sentence_kinds
    from lskg.records import Study

    index = _index()
    document = Document.of_record(Study(id="h", title=TEXTS[0][0], abstract=" ".join(t for t, _ in TEXTS[1:])))
    passage, doc = document.passages[0], spacy.blank("en").make_doc("x")
    sentences = [Sentence(i, text, sentence_kinds(text, title), frozenset(WORD.findall(text.lower())))
                 for i, (text, title) in enumerate(TEXTS)]

    def at(i: int, role: Any = "applied", cues: tuple[str, ...] = (), extractor: str = "lskg.facet_ruler.v1",
           confidence: float = 0.95, window: tuple[str, ...] = ()) -> Occurrence:
        return Occurrence(sentences[i], role, cues, extractor, confidence, window, passage, doc, 0, 1)

    def candidate(facet: Any, local: str, label: str, *occurrences: Occurrence, **kw: Any) -> Candidate:
        return Candidate(facet, BASE + local, label, occurrences=list(occurrences), sources={"rules"}, **kw)

    found = [
        candidate("model", "UNet", "U-Net", at(0, window=("landslide", "detection")),
                  at(1, "proposed", ("proposed:propose",), window=("propose", "detects")),
                  at(4, "applied", ("baseline:outperform the random forest",), window=("outperformed", "random"))),
        candidate("model", "RandomForest", "random forest",
                  at(2, "mentioned", ("mentioned:background widely used",), "lskg.paraphrases.v1", 0.75,
                     ("traditional", "methods", "widely")),
                  at(4, "baseline", ("baseline:outperform",), window=("outperformed", "accuracy"))),
        candidate("model", "CNN", "CNN", at(5, "mentioned", ("mentioned:future",), window=("future", "extend"))),
        candidate("model", "candidate/LiteNet", "LiteNet", at(1, extractor="lskg.candidates.v1", confidence=0.6),
                  candidate=True),
        candidate("data", "SBASInSAR", "SBAS-InSAR", at(0, window=("time", "series")), at(1)),
        candidate("data", "InSAR", "InSAR", at(3, window=("trained", "data"))),
        candidate("task", "LandslideDetection", "landslide detection", at(0, extractor="lskg.paraphrases.v1"),
                  at(1, confidence=0.75)),
    ]
    implied = Candidate("landslide_type", BASE + "ReservoirInducedLandslide", "reservoir-induced landslide",
                        sources={"event"})
    implied.events.append((BASE + "event/ThreeGorges", at(1, extractor="lskg.events.v1", window=("gorges",))))
    candidates = {c.key: c for c in [*found, implied]}
    return index, StudyView(document, sentences, candidates, " ".join(t for t, _ in TEXTS))


def weight(name: str) -> float:
    """A fixed, irregular weight per feature name (no learning involved)."""
    return (sum(map(ord, name)) % 17 - 8) / 7


def described() -> dict[str, Any]:
    """Each candidate's features (in their order) and its score and probability under the fixed weights."""
    from lskg.extract.decision import FacetModel
    from lskg.extract.features import features

    index, view = handmade_study()
    out = {}
    for c in view.candidates.values():
        x = features(c, view, index)
        model = FacetModel(threshold=0.5, bias=-0.25, weights={name: weight(name) for name in x})
        out[f"{c.facet} {c.label}"] = {"features": x, "score": model.score(x),
                                       "probability": model.probability(x)}
    return {"candidates": out, "kinds": [[text, title, sorted(kinds(text, title))] for text, title in KIND_CASES]}


def kinds(text: str, title: bool) -> frozenset[str]:
    from lskg.extract.features import sentence_kinds

    return sentence_kinds(text, title)


def test_features_and_scores_of_a_handmade_study_are_pinned() -> None:
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(described()))
    assert got["candidates"].keys() == expected["candidates"].keys()
    for name, pinned in expected["candidates"].items():
        assert list(got["candidates"][name]["features"].items()) == list(pinned["features"].items()), name
        assert got["candidates"][name]["score"] == pinned["score"], name  # bit for bit
        assert got["candidates"][name]["probability"] == pinned["probability"], name


def test_a_concept_is_described_by_itself_and_every_concept_above_it() -> None:
    """A concept rare in the training gold still gets what the concepts above it learnt (U-Net: CNN)."""
    from lskg.extract.features import features

    index, view = handmade_study()
    names = {c.label: set(features(c, view, index)) for c in view.candidates.values()}
    assert {"c:UNet", "c:CNN"} <= names["U-Net"] and "c:UNet" not in names["CNN"]
    assert {"c:SBASInSAR", "c:InSAR"} <= names["SBAS-InSAR"] and "c:SBASInSAR" not in names["InSAR"]


def test_sentence_kinds_are_pinned() -> None:
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))["kinds"]
    assert [[text, title, sorted(kinds(text, title))] for text, title in KIND_CASES] == expected


def test_sentence_kinds_take_the_words_already_read() -> None:
    from lskg.extract.features import sentence_kinds, sentence_words

    for text, title in [*KIND_CASES, *TEXTS]:
        assert sentence_kinds(text, title, sentence_words(text)) == sentence_kinds(text, title)


@pytest.mark.parametrize("first", ["lskg.extract.pipeline", "lskg.extract.decision", "lskg.extract.learn"])
def test_extraction_imports_spacy_without_torch(first: str) -> None:
    """thinc imports torch when it is installed; extraction does not need it, and torch stays importable."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    code = (f"import importlib.util, sys; import {first}; import thinc.compat; "
            "assert 'torch' not in sys.modules and not thinc.compat.has_torch, 'torch was imported'; "
            "assert importlib.util.find_spec('torch') is not None; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(described(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
