"""``lskg.decision.v1``: rules propose, a learned model decides.

The decision stage runs after the rule components, once per study. For every candidate concept of the study (all
that the rules proposed, in any role, and those implied by knowledge: a landslide type from a named trigger event
of ``ontology/events.ttl``, a landslide inventory from counted landslide samples) it computes the features of
:mod:`lskg.extract.features` and asks a trained model, one per facet, whether the concept is a fact of this study:

* **kept** (probability at or above the facet's threshold, chosen on the dev split): a fact with the rules' role
  (a model the rules found only "mentioned" becomes "applied") and the model's probability as its confidence; a
  landslide type implied by an event gets the event's sentence as evidence (extractor ``lskg.events.v1``);
* **a method step**: a task concept of the ``collection:MethodStep`` collection (feature extraction, feature
  selection, data fusion, data augmentation...) that the study uses (outside background sentences) but the model
  does not judge its aim (below the task facet's ``step_threshold``) is kept with role ``method_step``
  (``lskg:usesMethodStep`` in the graph), apart from its tasks, with confidence 1 - p(aim);
* **dropped** otherwise; so is a "model" whose name is a metric (mIoU, RMSE, AUC-PR), whatever the model says.

For a review's cited works it also re-judges the reader's split into landslide studies and general method
references (:meth:`DecisionStage.prepare`, before the pipeline reads the passages).

The weights ship in the package (``extract/models/decision-v1.json``, plain JSON, loaded without network or
pickle) and are retrained reproducibly with ``lskg train-extractor`` (:mod:`lskg.extract.learn`). Enable the stage
with ``Extractor(index, decide=True)`` (``extract_corpus(..., decide=True)``, ``lskg extract --decide``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lskg.extract import startup  # noqa: F401 - first: spaCy without torch

# isort: split
import spacy
from spacy.tokens import Doc

from lskg.errors import InputError
from lskg.extract.components.metrics import canonical
from lskg.extract.components.tokens import token_table
from lskg.extract.document import Document, Passage
from lskg.extract.events import EventLinker, event_linker
from lskg.extract.features import FACETS, Candidate, Occurrence, StudyView, features, study_view
from lskg.ontology import ConceptIndex, collection_members
from lskg.ontology.terms import COLLECTION
from lskg.records import Evidence, Fact, Role, StudyFacts

NAME = "lskg.decision.v1"
MODELS = Path(__file__).resolve().parent / "models"
WEIGHTS = MODELS / "decision-v1.json"
ROLE_ORDER = {"proposed": 0, "applied": 1, "baseline": 2, "method_step": 3, "mentioned": 4}


@functools.lru_cache(maxsize=4096)
def is_metric_name(name: str) -> bool:
    """A metric's name (mIoU, RMSE, F1-score, AUC-PR) is never a model."""
    if canonical(name):
        return True
    parts = [p for p in re.split(r"[-_/ ]", name) if p]
    return bool(parts) and canonical(parts[0]) is not None and all(len(p) <= 3 or canonical(p) for p in parts[1:])


@dataclass(frozen=True)
class FacetModel:
    """The trained decision of one facet: a linear model over named features, or boosted trees."""

    threshold: float
    kind: str = "linear"
    step_threshold: float | None = None
    """Tasks only: the threshold for a concept of ``collection:MethodStep`` to count as the study's aim (below
    it, a step the study uses is a method step); None: the facet's threshold."""
    bias: float = 0.0
    weights: Mapping[str, float] | None = None
    features: tuple[str, ...] = ()
    trees: tuple[dict[str, list], ...] = ()
    init: float = 0.0
    learning_rate: float = 0.1

    def score(self, x: Mapping[str, float]) -> float:
        """The log-odds that the candidate is a fact."""
        if self.kind == "linear":
            w = self.weights or {}
            return self.bias + sum([v * w[k] for k, v in x.items() if k in w])  # (in the features' order)
        vector = [x.get(name, 0.0) for name in self.features]
        total = self.init
        for tree in self.trees:
            node = 0
            left, right, feature, threshold = tree["left"], tree["right"], tree["feature"], tree["threshold"]
            while left[node] != -1:
                node = left[node] if vector[feature[node]] <= threshold[node] else right[node]
            total += self.learning_rate * tree["value"][node]
        return total

    def probability(self, x: Mapping[str, float]) -> float:
        z = max(-30.0, min(30.0, self.score(x)))
        return 1.0 / (1.0 + math.exp(-z))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "threshold": self.threshold}
        if self.step_threshold is not None:
            data["step_threshold"] = self.step_threshold
        if self.kind == "linear":
            data |= {"bias": self.bias, "weights": dict(sorted((self.weights or {}).items()))}
        else:
            data |= {"features": list(self.features), "init": self.init, "learning_rate": self.learning_rate,
                     "trees": list(self.trees)}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FacetModel:
        step = data.get("step_threshold")
        return cls(threshold=float(data["threshold"]), kind=data.get("kind", "linear"),
                   step_threshold=float(step) if step is not None else None,
                   bias=float(data.get("bias", 0.0)), weights=data.get("weights"),
                   features=tuple(data.get("features", ())), trees=tuple(data.get("trees", ())),
                   init=float(data.get("init", 0.0)), learning_rate=float(data.get("learning_rate", 0.1)))


@dataclass(frozen=True)
class DecisionModel:
    """The trained decision: one :class:`FacetModel` per facet, with where and how it was trained."""

    facets: Mapping[str, FacetModel]
    meta: Mapping[str, Any]

    @property
    def version(self) -> str:
        return str(self.meta.get("version", NAME))

    def as_dict(self) -> dict[str, Any]:
        return {**self.meta, "facets": {k: self.facets[k].as_dict() for k in sorted(self.facets)}}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=1, sort_keys=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> DecisionModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the decision model ({exc})", source=str(path),
                             hint="retrain it with `lskg train-extractor`") from None
        facets = {k: FacetModel.from_dict(v) for k, v in data.pop("facets").items()}
        missing = set(FACETS) - set(facets)
        if missing:
            raise InputError(f"the decision model has no weights for {sorted(missing)}", source=str(path),
                             hint="retrain it with `lskg train-extractor`")
        return cls(facets, data)


class DecisionStage:
    """Decides, per study, which candidate concepts are its facts (see the module docstring)."""

    name = NAME

    def __init__(self, index: ConceptIndex, model: DecisionModel | None = None,
                 linker: EventLinker | None = None) -> None:
        self.index = index
        self.model = model or DecisionModel.load()
        self.linker = linker or event_linker()
        self.method_steps = collection_members(COLLECTION["MethodStep"].value)

    # -- before reading: a review's cited works --------------------------------------------------------------

    def prepare(self, document: Document) -> Document:
        """A cited work of a review, re-judged: landslide study or general method reference."""
        from lskg.extract.review_kind import judge

        return judge(document)

    # -- after the rules: the facts of a study ---------------------------------------------------------------

    def view(self, document: Document, read: Sequence[tuple[Passage, Doc]], facts: StudyFacts) -> StudyView:
        return study_view(document, read, facts.facts, self.index, self.linker)

    def __call__(self, document: Document, read: Sequence[tuple[Passage, Doc]], facts: StudyFacts) -> StudyFacts:
        view = self.view(document, read, facts)
        decided = []
        for c in view.candidates.values():
            fact = self.decide(c, view)
            if fact is not None:
                decided.append(fact)
        facts.facts = sorted(decided, key=lambda f: (f.facet, ROLE_ORDER[f.role], f.label.lower()))
        return facts

    def probability(self, c: Candidate, view: StudyView) -> float:
        if c.facet == "model" and is_metric_name(c.label):
            return 0.0
        return self.model.facets[c.facet].probability(features(c, view, self.index))

    def decide(self, c: Candidate, view: StudyView) -> Fact | None:
        return self.resolve(c, view, self.probability(c, view), self.threshold(c))

    def threshold(self, c: Candidate, thresholds: Mapping[str, float] | None = None) -> float:
        """The threshold a candidate must reach: its facet's, or for a method-step concept on the task facet the
        step threshold (``thresholds`` overrides the model's, keys: facets and ``task:step``)."""
        m = self.model.facets[c.facet]
        if thresholds is None:
            thresholds = {c.facet: m.threshold, "task:step": m.step_threshold if m.step_threshold is not None
                          else m.threshold}
        if c.facet == "task" and c.concept in self.method_steps:
            return thresholds.get("task:step", thresholds[c.facet])
        return thresholds[c.facet]

    def resolve(self, c: Candidate, view: StudyView, p: float, threshold: float) -> Fact | None:
        """The fact a candidate becomes at probability ``p`` (kept, a method step, or None: dropped)."""
        if p >= threshold:
            return self._fact(c, p, self._role(c), view.document.locator)
        used = [o for o in c.occurrences if o.role != "mentioned" and "background" not in o.sentence.kinds]
        if c.facet == "task" and c.concept in self.method_steps and used:
            return self._fact(c, 1.0 - p, "method_step", view.document.locator)
        return None

    @staticmethod
    def _role(c: Candidate) -> Role:
        if c.fact is not None and c.fact.role != "mentioned":
            return c.fact.role
        roles = {o.role for o in c.occurrences} - {"mentioned"}
        preferred: tuple[Role, ...] = ("proposed", "applied", "baseline")
        for role in preferred:
            if role in roles:
                return role
        return "applied"

    def _fact(self, c: Candidate, p: float, role: Role, locator: str) -> Fact:
        confidence = round(min(1.0, max(0.0, p)), 3)
        if c.fact is not None and (role == c.fact.role or c.fact.role == "mentioned" or role == "method_step"):
            return replace(c.fact, role=role, evidence=replace(c.fact.evidence, confidence=confidence))
        occurrence = self._evidence_occurrence(c, role)
        evidence = _evidence(occurrence, locator, confidence)
        broader = c.fact.broader if c.fact is not None else ()
        return Fact(c.facet, c.concept, c.label, evidence, role=role, candidate=c.candidate, broader=broader)

    @staticmethod
    def _evidence_occurrence(c: Candidate, role: str) -> Occurrence:
        ranked = sorted(c.occurrences, key=lambda o: (o.role != role, -o.confidence, o.sentence.index))
        if ranked:
            return ranked[0]
        return sorted((o for _, o in c.events), key=lambda o: ("title" not in o.sentence.kinds, o.sentence.index))[0]


def _evidence(o: Occurrence, locator: str, confidence: float) -> Evidence:
    """Evidence for a fact the decision stage itself adds (an event-implied type, a knowledge-implied concept)."""
    doc, passage = o.doc, o.passage
    text = token_table(doc).doc_text  # (Doc.text builds every token again)
    sentence = o.full_sentence or o.sentence.text
    extractor = o.extractor if o.extractor.startswith("lskg.") else NAME
    return Evidence(document=locator, sentence=sentence, start=passage.doc_offset(o.start_char),
                    end=passage.doc_offset(o.end_char - 1) + 1, span=text[o.start_char:o.end_char],
                    extractor=extractor, confidence=confidence)


@spacy.registry.misc(NAME)
def make_decision_stage(weights: str | None = None) -> DecisionStage:
    """The registered, versioned decision stage (``@misc = "lskg.decision.v1"`` in a config)."""
    from lskg.ontology import concept_index

    return DecisionStage(concept_index(), DecisionModel.load(Path(weights)) if weights else None)
