"""Training and measuring the decision stage (``lskg train-extractor``, ``lskg evaluate extraction --decide``).

    studies = gold.load(Path("tests/data/gold/real"), "train")
    data = collect(studies)                       # the rules run once; candidates, features and labels kept
    model = train(data, learner="logistic", seed=0)
    model = tune_thresholds(model, collect(gold.load(folder, "dev")))   # per facet, on dev
    model.save(WEIGHTS)

A candidate is labelled a fact when it is the gold concept of its facet or narrower (the hierarchy rule of
:mod:`lskg.extract.evaluate`), a model when one of its families is a gold family; a candidate broader than a gold
concept (vague: neither right nor wrong in scoring) is left out of training. Scoring always goes through the
extractor's own output path (decided facts -> facet lists -> :func:`lskg.extract.evaluate.score`), so the numbers
here are the numbers ``lskg evaluate extraction`` prints.

Learners (scikit-learn at training time only; the shipped JSON needs none at run time):
``logistic`` (L2 logistic regression over the sparse features) and ``boosting`` (gradient-boosted trees).
:func:`cross_validate` compares them, and rules-only and the keyword baseline, in k-fold cross-validation by
study with a bootstrap CI.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lskg.extract import startup  # noqa: F401 - first: spaCy without torch

# isort: split
from spacy.tokens import Doc

from lskg.extract.decision import NAME, DecisionModel, DecisionStage, FacetModel, is_metric_name
from lskg.extract.document import Document, Passage
from lskg.extract.evaluate import (
    SCORED,
    Counts,
    ExtractionReport,
    Labels,
    Sets,
    bootstrap_ci,
    compare,
    keyword_sets,
    predicted_sets,
    score,
)
from lskg.extract.features import FACETS, Candidate, StudyView, features
from lskg.extract.gold import GoldStudy
from lskg.ontology import ConceptIndex, concept_index
from lskg.records import Study, StudyFacts

LEARNERS = ("logistic", "boosting")
MIN_FEATURE_COUNT = 2
"""A feature seen in fewer training candidates than this is left out (noise, and a smaller weights file)."""
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 19))
FACET_KEY = {"model": "families", "data": "data", "landslide_type": "landslide_types", "task": "tasks"}
Progress = Callable[[str, int, int | None], None]


@dataclass
class StudyData:
    """One gold study after the rules: its view (candidates), features, labels and gold sets."""

    study: GoldStudy
    view: StudyView
    facts: StudyFacts
    gold: Sets
    features: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    labels: dict[tuple[str, str], int | None] = field(default_factory=dict)


class _Recorder(DecisionStage):
    """A decision stage that decides nothing: it keeps each study's view for training."""

    def __init__(self, index: ConceptIndex) -> None:
        super().__init__(index, model=DecisionModel({}, {}))
        self.views: dict[str, tuple[StudyView, StudyFacts]] = {}

    def prepare(self, document: Document) -> Document:
        return document

    def __call__(self, document: Document, read: Sequence[tuple[Passage, Doc]], facts: StudyFacts) -> StudyFacts:
        self.views[document.study.id] = (self.view(document, read, facts), facts)
        return facts


def documents(studies: Iterable[GoldStudy], source: str = "gold") -> list[Document]:
    return [Document.of_record(Study(id=s.id, title=s.title, abstract=s.text.removeprefix(s.title).lstrip(". "),
                                     year=s.year, source=f"{source}#{s.id}")) for s in studies]


def collect(studies: Sequence[GoldStudy], index: ConceptIndex | None = None, *, nlp: Any = None,
            progress: Progress | None = None, labels: Labels | None = None) -> list[StudyData]:
    """Run the rules over the studies once and keep every candidate with its features and label."""
    from lskg.extract.pipeline import Extractor

    index = index or concept_index()
    recorder = _Recorder(index)
    extractor = Extractor(index, nlp=nlp, decide=recorder)
    for n, _ in enumerate(extractor.run(documents(studies)), 1):
        if progress:
            progress("extract", n, len(studies))
    labels = labels or Labels(index)
    out = []
    for s in studies:
        view, facts = recorder.views[s.id]
        gold = labels.sets(s.labels)
        data = StudyData(s, view, facts, gold)
        for key, c in view.candidates.items():
            if c.facet == "model" and is_metric_name(c.label):
                continue
            data.features[key] = features(c, view, index)
            data.labels[key] = label(c, gold, index)
        out.append(data)
    return out


def label(c: Candidate, gold: Sets, index: ConceptIndex) -> int | None:
    """1: a fact of the study by the gold; 0: not; None: vague (broader than a gold concept)."""
    if c.facet == "model":
        return int(bool(set(index.families(c.concept, c.broader)) & gold["families"]))
    expected = gold[FACET_KEY[c.facet]]
    if c.concept in expected or any(g in index.ancestors(c.concept) for g in expected):
        return 1
    if c.concept in index.concepts and any(c.concept in index.ancestors(g) for g in expected if g in index.concepts):
        return None
    return 0


# -- fitting -----------------------------------------------------------------------------------------------------


def _vocabulary(rows: Sequence[dict[str, float]]) -> list[str]:
    counts: dict[str, int] = {}
    for row in rows:
        for k in row:
            counts[k] = counts.get(k, 0) + 1
    return sorted(k for k, n in counts.items() if n >= MIN_FEATURE_COUNT or k == "bias")


def _rows(data: Sequence[StudyData], facet: str) -> tuple[list[dict[str, float]], list[int]]:
    rows, ys = [], []
    for d in data:
        for key, x in d.features.items():
            y = d.labels[key]
            if key[0] == facet and y is not None:
                rows.append(x)
                ys.append(y)
    return rows, ys


def fit_facet(rows: Sequence[dict[str, float]], ys: Sequence[int], learner: str, seed: int,
              threshold: float = 0.5, **params: Any) -> FacetModel:
    """One facet's model from feature rows and 0/1 labels (scikit-learn, deterministic for a seed)."""
    import numpy as np

    vocab = _vocabulary(rows)
    position = {k: i for i, k in enumerate(vocab)}
    x = np.zeros((len(rows), len(vocab)))
    for i, row in enumerate(rows):
        for k, v in row.items():
            j = position.get(k)
            if j is not None:
                x[i, j] = v
    y = np.asarray(ys)
    if len(set(ys)) < 2:  # nothing to learn: a constant decision
        constant = 10.0 if ys and ys[0] else -10.0
        return FacetModel(threshold=threshold, bias=constant, weights={})
    if learner == "logistic":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=params.get("C", 0.5), max_iter=5000, fit_intercept=False, random_state=seed)
        clf.fit(x, y)
        weights = {k: round(float(w), 6) for k, w in zip(vocab, clf.coef_[0], strict=True) if abs(w) > 1e-6}
        return FacetModel(threshold=threshold, kind="linear", bias=0.0, weights=weights)
    if learner == "boosting":
        from sklearn.ensemble import GradientBoostingClassifier

        clf = GradientBoostingClassifier(n_estimators=params.get("n_estimators", 150), max_depth=params.get(
            "max_depth", 3), learning_rate=params.get("learning_rate", 0.05), subsample=0.8, random_state=seed,
            min_samples_leaf=params.get("min_samples_leaf", 5))
        clf.fit(x, y)
        used = sorted({int(f) for est in clf.estimators_[:, 0] for f in est.tree_.feature if f >= 0})
        remap = {old: new for new, old in enumerate(used)}
        trees: list[dict[str, list[float]]] = []
        for est in clf.estimators_[:, 0]:
            t = est.tree_
            trees.append({"left": [int(v) for v in t.children_left], "right": [int(v) for v in t.children_right],
                          "feature": [remap.get(int(f), 0) for f in t.feature],
                          "threshold": [round(float(v), 6) for v in t.threshold],
                          "value": [round(float(v), 6) for v in t.value[:, 0, 0]]})
        prior = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        init = float(np.log(prior / (1 - prior)))
        return FacetModel(threshold=threshold, kind="trees", features=tuple(vocab[i] for i in used), trees=tuple(
            trees), init=init, learning_rate=float(clf.learning_rate))
    raise ValueError(f"unknown learner {learner!r} (use one of {', '.join(LEARNERS)})")


def train(data: Sequence[StudyData], *, learner: str = "logistic", seed: int = 0,
          thresholds: dict[str, float] | None = None, meta: dict[str, Any] | None = None,
          **params: Any) -> DecisionModel:
    """A decision model trained on the candidates of ``data`` (thresholds 0.5 unless given)."""
    facets = {}
    for facet in FACETS:
        rows, ys = _rows(data, facet)
        facets[facet] = fit_facet(rows, ys, learner, seed, (thresholds or {}).get(facet, 0.5), **params)
    info = {"name": NAME, "version": f"{NAME}+{learner}", "learner": learner, "seed": seed,
            "params": params, **(meta or {})}
    return DecisionModel(facets, info)


# -- deciding and scoring ----------------------------------------------------------------------------------------


def decided_sets(data: Sequence[StudyData], model: DecisionModel | None, index: ConceptIndex) -> list[Sets]:
    """What the extractor outputs for each study, as comparable sets: with the decision (``model``) or
    rules-only (``None``)."""
    if model is None:
        return [predicted_sets(d.facts, index) for d in data]
    return _Decided(data, model, index).sets(thresholds_of(model))


def thresholds_of(model: DecisionModel) -> dict[str, float]:
    """The thresholds of a model by facet, with ``task:step`` for method-step concepts on the task facet."""
    out = {f: m.threshold for f, m in model.facets.items()}
    step = model.facets["task"].step_threshold if "task" in model.facets else None
    out["task:step"] = step if step is not None else out.get("task", 0.5)
    return out


class _Decided:
    """Probabilities of every candidate of every study under one model, computed once; sets at any thresholds."""

    def __init__(self, data: Sequence[StudyData], model: DecisionModel, index: ConceptIndex) -> None:
        self.data = data
        self.index = index
        self.stage = DecisionStage(index, model=model)
        facets = model.facets
        self.p = [[(c, facets[c.facet].probability(d.features[key]) if key in d.features else 0.0)
                   for key, c in d.view.candidates.items()] for d in data]

    def sets(self, thresholds: dict[str, float]) -> list[Sets]:
        out = []
        for d, scored in zip(self.data, self.p, strict=True):
            facts = StudyFacts(d.facts.study)
            facts.facts = [f for c, p in scored if (f := self.stage.resolve(
                c, d.view, p, self.stage.threshold(c, thresholds))) is not None]
            facts.metrics, facts.place = d.facts.metrics, d.facts.place
            out.append(predicted_sets(facts, self.index))
        return out


def report(data: Sequence[StudyData], predicted: Sequence[Sets], index: ConceptIndex, system: str,
           source: str) -> ExtractionReport:
    return score([(d.study.id, d.gold) for d in data], predicted, index, system=system, source=source)


def micro(data: Sequence[StudyData], predicted: Sequence[Sets], index: ConceptIndex, key: str) -> Counts:
    """Pooled counts of one facet (the scorer's rules, without the bootstrap: for tuning loops)."""
    total = Counts()
    for d, p in zip(data, predicted, strict=True):
        hit, miss, wrong, vague = compare(key, d.gold[key], p[key], index, key != "families")
        total += Counts(len(hit), len(wrong), len(miss), len(vague))
    return total


def _best_thresholds(pieces: Sequence[_Decided], grid: Sequence[float]) -> dict[str, float]:
    """Per facet, the threshold with the best pooled micro F1 over ``pieces`` (others held at 0.5); then, on the
    task facet, the threshold for method-step concepts (``task:step``), at or above the task threshold."""
    chosen: dict[str, float] = {f: 0.5 for f in FACETS} | {"task:step": 0.5}

    def best_of(name: str, key: str, values: Sequence[float]) -> float:
        best = (-1.0, 0.5)
        for t in values:
            trial = {**chosen, name: t}
            if name == "task":
                trial["task:step"] = t
            total = Counts()
            for piece in pieces:
                total += micro(piece.data, piece.sets(trial), piece.index, key)
            if total.f1 > best[0] + 1e-9:
                best = (total.f1, t)
        return best[1]

    for facet in FACETS:
        chosen[facet] = best_of(facet, FACET_KEY[facet], grid)
        if facet == "task":
            chosen["task:step"] = chosen["task"]
    # highest first: on a tie, the guideline's reading (a step is a task only when it is clearly the aim) wins
    chosen["task:step"] = best_of("task:step", "tasks", sorted({t for t in (*grid, 0.95) if t >= chosen["task"]},
                                                               reverse=True))
    return chosen


def tune_thresholds(model: DecisionModel, data: Sequence[StudyData], index: ConceptIndex | None = None,
                    grid: Sequence[float] = THRESHOLDS) -> DecisionModel:
    """Per facet, the threshold with the best micro F1 on ``data`` (the dev split), through the real scorer."""
    chosen = _best_thresholds([_Decided(data, model, index or concept_index())], grid)
    return with_thresholds(model, chosen)


def with_thresholds(model: DecisionModel, thresholds: dict[str, float]) -> DecisionModel:
    return DecisionModel({f: _with_threshold(m, thresholds.get(f, m.threshold),
                                             thresholds.get("task:step") if f == "task" else None)
                          for f, m in model.facets.items()}, model.meta)


def _with_threshold(m: FacetModel, t: float, step: float | None = None) -> FacetModel:
    return FacetModel(threshold=t, kind=m.kind, step_threshold=step, bias=m.bias, weights=m.weights,
                      features=m.features, trees=m.trees, init=m.init, learning_rate=m.learning_rate)


# -- cross-validation --------------------------------------------------------------------------------------------


@dataclass
class CrossValidation:
    """Out-of-fold reports over all studies: each system, and the paired bootstrap of learned - rules."""

    folds: int
    seed: int
    reports: dict[str, ExtractionReport]
    difference: dict[str, dict[str, tuple[float, float, float]]]
    """system -> facet -> (F1 difference to rules-only, 95% CI low, high)."""

    def to_dict(self) -> dict[str, Any]:
        return {"folds": self.folds, "seed": self.seed,
                "systems": {name: {k: r.facet_dict(k) for k in SCORED} for name, r in self.reports.items()},
                "difference_to_rules": {name: {k: [round(v, 4) for v in d[k]] for k in SCORED}
                                        for name, d in self.difference.items()}}


def folds_of(ids: Sequence[str], k: int, seed: int) -> list[set[str]]:
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return [set(order[i::k]) for i in range(k)]


def cross_validate(data: Sequence[StudyData], *, k: int = 5, seed: int = 0, learners: Sequence[str] = LEARNERS,
                   index: ConceptIndex | None = None, inner: int = 3, params: dict[str, dict] | None = None
                   ) -> CrossValidation:
    """k-fold CV by study: in each fold every learner is trained on the other folds, with per-facet thresholds
    chosen by an inner CV on those folds only; out-of-fold outputs of all folds are pooled and scored with a
    bootstrap CI, beside rules-only and the keyword baseline on the same studies."""
    index = index or concept_index()
    by_id = {d.study.id: d for d in data}
    order = [d.study.id for d in data]
    predicted: dict[str, dict[str, Sets]] = {name: {} for name in learners}
    for fold in folds_of(order, k, seed):
        training = [by_id[i] for i in order if i not in fold]
        held = [by_id[i] for i in order if i in fold]
        for name in learners:
            model = _fit_with_inner_thresholds(training, name, seed, index, inner, (params or {}).get(name, {}))
            for d, sets in zip(held, decided_sets(held, model, index), strict=True):
                predicted[name][d.study.id] = sets
    source = f"{k}-fold CV"
    reports = {"rules": report(data, decided_sets(data, None, index), index, "rules-only", source),
               "keywords": score([(d.study.id, d.gold) for d in data],
                                 [keyword_sets(d.study.text, index) for d in data], index, system="keywords",
                                 source=source)}
    for name in learners:
        reports[name] = report(data, [predicted[name][i] for i in order], index, name, source)
    difference = {name: {key: paired_difference(reports[name], reports["rules"], key) for key in SCORED}
                  for name in [*learners, "keywords"]}
    return CrossValidation(k, seed, reports, difference)


def _fit_with_inner_thresholds(training: Sequence[StudyData], learner: str, seed: int, index: ConceptIndex,
                               inner: int, params: dict) -> DecisionModel:
    """Train on ``training``; thresholds from out-of-fold decisions of an inner CV (never from held-out data)."""
    model = train(training, learner=learner, seed=seed, **params)
    if inner < 2:
        return model
    ids = [d.study.id for d in training]
    by_id = {d.study.id: d for d in training}
    pieces = []
    for fold in folds_of(ids, inner, seed + 1):
        part = [by_id[i] for i in ids if i not in fold]
        held = [by_id[i] for i in ids if i in fold]
        pieces.append(_Decided(held, train(part, learner=learner, seed=seed, **params), index))
    return with_thresholds(model, _best_thresholds(pieces, THRESHOLDS))


def paired_difference(a: ExtractionReport, b: ExtractionReport, key: str, *, rounds: int = 1000,
                      seed: int = 0) -> tuple[float, float, float]:
    """F1(a) - F1(b) on one facet, with a 95% paired bootstrap interval over studies."""
    ca = [s.counts[key] for s in a.per_study]
    cb = [s.counts[key] for s in b.per_study]
    n = len(ca)

    def f1(counts: Iterable) -> float:
        tp = fp = fn = 0
        for c in counts:
            tp, fp, fn = tp + c.tp, fp + c.fp, fn + c.fn
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        sample = [rng.randrange(n) for _ in range(n)]
        diffs.append(f1(ca[i] for i in sample) - f1(cb[i] for i in sample))
    diffs.sort()
    return f1(ca) - f1(cb), diffs[int(0.025 * rounds)], diffs[min(rounds - 1, int(0.975 * rounds))]


def gold_digest(studies: Iterable[GoldStudy]) -> str:
    """SHA-256 of the studies a model was trained on (ids, texts, annotations): the provenance in the JSON."""
    body = "\n".join(sorted(str(sorted(s.record().items())) for s in studies))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# -- training from a gold folder (`lskg train-extractor`) -------------------------------------------------------


@dataclass
class Trained:
    model: DecisionModel
    dev_rules: ExtractionReport
    dev_learned: ExtractionReport
    train_studies: int
    dev_studies: int


def train_from_gold(gold_path: Path, *, learner: str = "logistic", seed: int = 0, corpus: Path | None = None,
                    index: ConceptIndex | None = None, progress: Progress | None = None, **params: Any) -> Trained:
    """Train the decision on the gold's train split (fixed ``seed``), choose each facet's threshold on the dev
    split, and report rules-only and learned on dev. The same gold and seed give the same model, byte for byte."""
    from lskg.extract import gold as gold_data

    index = index or concept_index()
    train_studies = gold_data.load(gold_path, "train", corpus)
    dev_studies = gold_data.load(gold_path, "dev", corpus)
    train_data = collect(train_studies, index, progress=progress)
    dev_data = collect(dev_studies, index, progress=progress)
    meta = {"trained_on": {"gold": gold_path.name, "split": "train", "studies": len(train_studies),
                           "sha256": gold_digest(train_studies)},
            "thresholds_from": {"gold": gold_path.name, "split": "dev", "studies": len(dev_studies)}}
    model = train(train_data, learner=learner, seed=seed, meta=meta, **params)
    model = tune_thresholds(model, dev_data, index)
    source = f"{gold_path} (dev split)"
    return Trained(model, report(dev_data, decided_sets(dev_data, None, index), index, "rules-only", source),
                   report(dev_data, decided_sets(dev_data, model, index), index, model.version, source),
                   len(train_studies), len(dev_studies))


# -- the side-by-side evaluation of `lskg evaluate extraction --decide` ----------------------------------------


@dataclass
class SideBySide:
    """Rules-only and learned extraction on the same gold studies, with the keyword baseline and the
    inter-annotator agreement on the studies of the split that were annotated twice."""

    rules: ExtractionReport
    learned: ExtractionReport
    keywords: ExtractionReport
    agreement: ExtractionReport | None
    model: str

    def to_dict(self, worst: int = 10) -> dict[str, Any]:
        return {"model": self.model, "rules_only": self.rules.to_dict(worst), "learned": self.learned.to_dict(worst),
                "keywords": {k: self.keywords.facet_dict(k) for k in SCORED},
                "difference_to_rules": {k: [round(v, 4) for v in paired_difference(self.learned, self.rules, k)]
                                        for k in SCORED},
                "agreement": ({"studies": self.agreement.studies,
                               "facets": {k: self.agreement.facet_dict(k) for k in SCORED}}
                              if self.agreement is not None else None)}


def evaluate_side_by_side(gold_path: Path, *, split: str | None = None, corpus: Path | None = None,
                          index: ConceptIndex | None = None, model: DecisionModel | None = None,
                          hierarchical: bool = True, progress: Progress | None = None) -> SideBySide:
    """Extract the gold studies once with the rules, then score rules-only and the decision (``model``, default
    the packaged one) on the same candidates, beside keywords and the annotators' agreement."""
    from lskg.extract import gold as gold_data

    index = index or concept_index()
    model = model or DecisionModel.load()
    studies = gold_data.load(gold_path, split, corpus)
    labels = Labels(index)
    data = collect(studies, index, progress=progress, labels=labels)
    source = f"{gold_path}" + (f" ({split} split)" if split else "")
    gold = [(d.study.id, d.gold) for d in data]
    unresolved = {k: set(v) for k, v in labels.unresolved.items()}

    def run(predicted: Sequence[Sets], system: str) -> ExtractionReport:
        return score(gold, predicted, index, system=system, source=source, hierarchical=hierarchical,
                     unresolved=unresolved)

    rules = run(decided_sets(data, None, index), "rules-only")
    learned = run(decided_sets(data, model, index), model.version)
    keywords = run([keyword_sets(d.study.text, index) for d in data], "keywords")
    return SideBySide(rules, learned, keywords, split_agreement(gold_path, data, index, hierarchical), model.version)


def split_agreement(gold_path: Path, data: Sequence[StudyData], index: ConceptIndex, hierarchical: bool = True
                    ) -> ExtractionReport | None:
    """The second annotation (group B) against the primary one on the studies of ``data`` annotated twice (only
    those: other splits are not read)."""
    from lskg.extract import gold as gold_data

    if not gold_path.is_dir():
        return None
    second = gold_data.read_annotations(gold_path, "B")
    common = [d for d in data if d.study.id in second]
    if not common:
        return None
    labels = Labels(index)
    other = [labels.sets(gold_data._labels(second[d.study.id])) for d in common]
    return score([(d.study.id, d.gold) for d in common], other, index, system="annotator B",
                 source=f"{gold_path} (A vs B)", hierarchical=hierarchical)


__all__ = ["LEARNERS", "CrossValidation", "SideBySide", "StudyData", "bootstrap_ci", "collect", "cross_validate",
           "decided_sets", "evaluate_side_by_side", "label", "paired_difference", "report", "train",
           "train_from_gold", "tune_thresholds"]
