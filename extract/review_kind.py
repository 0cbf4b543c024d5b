"""A review's cited works, re-judged by the decision stage: a landslide study, or a general method reference?

The review reader (:mod:`lskg.extract.readers.review`) splits cited works by one rule: the share of their citation
contexts that speak of landslides. That rule keeps many general references that a review cites in landslide
paragraphs ("In landslide applications, Transformers can ... (Esser et al., 2021)") and drops landslide studies
cited for a general point ("ResNet mitigates vanishing gradients (Qi et al., 2020)"). The decision stage looks at
more of what the review says about the work and asks a small trained model:

* the reader's landslide share, and whether it sat exactly on the reader's threshold;
* the year (a work from before deep learning reached landslide studies explains a method);
* narrative citations, and narrative ones with a "did work" verb ("Feng et al. (2024) achieved ...");
* landslide and domain words in the citation's scope and in its whole sentence;
* generic wording ("is a", "can", "enables", "refers to") against reporting wording (past-tense verbs, numbers);
* how many works are cited together, and whether the work shares a citation with a foundational one.

A work judged a landslide study is read from its citation contexts; one judged a method reference gets no passages
(so no facts), as the reader would have done. The model ships as ``extract/models/review-kind-v1.json`` and is
trained by :func:`train_kind` from a review and its gold lists (``lskg train-extractor --review``).
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.records import StudyKind

WEIGHTS = Path(__file__).resolve().parent / "models" / "review-kind-v1.json"
FOUNDATIONAL_BEFORE = 2018
GENERIC = re.compile(r"\b(?:is|are|can|could|may|enables?|allows?|refers? to|defined|consists?|typically|generally|"
                     r"commonly|widely|often|particularly|well[- ]suited|such as|e\.g\.|has become|have become|"
                     r"represent|provides?)\b", re.IGNORECASE)
REPORTING = re.compile(r"\b(?:proposed|applied|employed|developed|used|built|designed|achieved|enhanced|"
                       r"demonstrated|constructed|combined|incorporated|integrated|analy[sz]ed|found|showed|"
                       r"compared|predicted|detected|identified|established|adopted|utili[sz]ed|presented|mapped|"
                       r"monitored|trained|improved|reached|obtained|reported|investigated|generated|extracted|"
                       r"captured|fused|introduced)\b", re.IGNORECASE)
NUMBER = re.compile(r"\d+(?:\.\d+)?\s?%|\b0\.\d{2,}\b|\b\d{3,}\b")


def work_features(document: Document) -> dict[str, float]:
    """Features of a cited work from its citation contexts (see the module docstring)."""
    from lskg.extract.citations import find_citations
    from lskg.extract.readers.review import DOMAIN_CUE, LANDSLIDE_CUE, STUDY_VERB

    f: dict[str, float] = {"bias": 1.0}
    contexts = document.contexts
    year = document.study.year or 2020
    f["year_before_2015"] = float(year < 2015)
    f["year_2015_2017"] = float(2015 <= year < FOUNDATIONAL_BEFORE)
    f["year_2018_2020"] = float(FOUNDATIONAL_BEFORE <= year <= 2020)
    f["year_after_2020"] = float(year > 2020)
    f["reader_study"] = float(document.study.kind == "landslide_study")
    if not contexts:
        return f
    n = len(contexts)
    f["contexts"] = math.log1p(n)
    narrative = scope_landslide = sentence_landslide = domain = generic = reporting = numbers = did_work = 0.0
    together = foundational = 0.0
    for passage in contexts:
        lo, hi = passage.scope or (0, len(passage.text))
        scope = passage.text[lo:hi]
        groups = find_citations(passage.text)
        own = [g for g in groups if lo <= g.start < hi or lo < g.end <= hi]
        is_narrative = any(g.narrative for g in own)
        narrative += is_narrative
        bare = scope
        for g in sorted(groups, key=lambda g: -g.start):
            if lo <= g.start and g.end <= hi:
                bare = bare[:g.start - lo] + bare[g.end - lo:]
        scope_landslide += bool(LANDSLIDE_CUE.search(bare))
        sentence_landslide += bool(LANDSLIDE_CUE.search(passage.text))
        domain += bool(DOMAIN_CUE.search(bare))
        generic += min(3, len(GENERIC.findall(bare))) / 3
        reporting += min(2, len(REPORTING.findall(bare))) / 2
        numbers += bool(NUMBER.search(bare))
        did_work += is_narrative and bool(STUDY_VERB.match(scope))
        cited = [c for g in own for c in g.citations]
        together += min(4, max(0, len(cited) - 1)) / 4
        foundational += any(c.year < FOUNDATIONAL_BEFORE for c in cited if c.year != year)
    for name, value in (("narrative", narrative), ("scope_landslide", scope_landslide),
                        ("sentence_landslide", sentence_landslide), ("domain", domain), ("generic", generic),
                        ("reporting", reporting), ("numbers", numbers), ("did_work", did_work),
                        ("cited_together", together), ("with_foundational", foundational)):
        f[name] = value / n
    share = scope_landslide / n
    f["share_half"] = float(abs(share - 0.5) < 1e-9)
    f["share_none"] = float(share == 0)
    f["share_all"] = float(share == 1)
    return f


@functools.lru_cache(maxsize=2)
def _model(path: Path = WEIGHTS) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the review-kind model ({exc})", source=str(path),
                         hint="retrain it with `lskg train-extractor --review REVIEW`") from None


def probability(features: dict[str, float], model: dict[str, Any]) -> float:
    z = sum(v * model["weights"].get(k, 0.0) for k, v in features.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def judge(document: Document, model: dict[str, Any] | None = None) -> Document:
    """The document with its kind re-judged (passages from its contexts when it becomes a landslide study)."""
    model = model if model is not None else _model()
    if model is None or not document.contexts:
        return document
    p = probability(work_features(document), model)
    kind: StudyKind = "landslide_study" if p >= model["threshold"] else "method_reference"
    if kind == document.study.kind:
        return document
    study = replace(document.study, kind=kind)
    passages = document.contexts if kind == "landslide_study" else ()
    return replace(document, study=study, passages=passages)


def train_kind(documents: Sequence[Document], labels: dict[str, StudyKind], *, seed: int = 0, c: float = 1.0,
               recall: float = 1.0) -> dict[str, Any]:
    """A logistic model of "landslide study" over :func:`work_features`, with the highest threshold that keeps
    ``recall`` of the labelled landslide studies."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    chosen = [d for d in documents if d.study.id in labels and d.contexts]
    rows = [work_features(d) for d in chosen]
    names = sorted({k for r in rows for k in r})
    x = np.array([[r.get(k, 0.0) for k in names] for r in rows])
    y = np.array([int(labels[d.study.id] == "landslide_study") for d in chosen])
    clf = LogisticRegression(C=c, max_iter=5000, fit_intercept=False, random_state=seed).fit(x, y)
    weights = {k: round(float(w), 6) for k, w in zip(names, clf.coef_[0], strict=True)}
    model = {"name": "lskg.review_kind.v1", "seed": seed, "C": c, "weights": weights, "threshold": 0.5}
    scores = sorted(probability(r, model) for r, label in zip(rows, y, strict=True) if label)
    keep = scores[max(0, int(math.floor((1 - recall) * len(scores))))] if scores else 0.5
    model["threshold"] = round(max(0.01, keep - 1e-6), 6)
    return model


def cross_validate_kind(documents: Sequence[Document], labels: dict[str, StudyKind], *, k: int = 5, seed: int = 0,
                        c: float = 1.0, recall: float = 1.0) -> dict[str, int]:
    """k-fold CV of :func:`train_kind` (threshold from the training folds): landslide studies kept and method
    references kept wrongly, out of fold."""
    chosen = sorted((d for d in documents if d.study.id in labels), key=lambda d: d.study.id)
    order = list(range(len(chosen)))
    random.Random(seed).shuffle(order)
    kept_studies = kept_refs = 0
    for fold in range(k):
        held = {i for j, i in enumerate(order) if j % k == fold}
        model = train_kind([d for i, d in enumerate(chosen) if i not in held], labels, seed=seed, c=c, recall=recall)
        for i in held:
            d = chosen[i]
            judged = judge(d, model).study.kind
            if labels[d.study.id] == "landslide_study":
                kept_studies += judged == "landslide_study"
            else:
                kept_refs += judged == "landslide_study"
    return {"studies": sum(v == "landslide_study" for v in labels.values()), "studies_kept": kept_studies,
            "method_references": sum(v == "method_reference" for v in labels.values()),
            "method_references_kept": kept_refs}


def review_labels(gold_dir: Path) -> dict[str, StudyKind]:
    """The gold lists of a review: ``seed_studies.jsonl`` (its landslide studies) and ``method_references.jsonl``
    (its general method references), by cited-work id."""
    labels: dict[str, StudyKind] = {}
    lists: tuple[tuple[str, StudyKind], ...] = (("seed_studies.jsonl", "landslide_study"),
                                                ("method_references.jsonl", "method_reference"))
    for name, kind in lists:
        path = gold_dir / name
        if not path.exists():
            raise InputError(f"no {name} in the review gold folder", source=str(gold_dir))
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                labels[json.loads(line)["id"]] = kind
    return labels


def train_kind_from_review(review: Path, gold_dir: Path, *, seed: int = 0, c: float = 1.0, recall: float = 0.97
                           ) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    """Train the review-kind model on a review and its gold lists; (model, in-sample counts, 5-fold CV counts)."""
    from lskg.extract.readers.review import review_documents

    documents = list(review_documents(review.read_text(encoding="utf-8"), review.name))
    labels = review_labels(gold_dir)
    model = train_kind(documents, labels, seed=seed, c=c, recall=recall)
    model["trained_on"] = {"review": review.name, "gold": sorted(["seed_studies.jsonl", "method_references.jsonl"]),
                           "recall_target": recall}
    judged = {d.study.id: judge(d, model).study.kind for d in documents}
    in_sample = {"studies": sum(v == "landslide_study" for v in labels.values()),
                 "studies_kept": sum(judged.get(i) == "landslide_study" for i, v in labels.items()
                                     if v == "landslide_study"),
                 "method_references": sum(v == "method_reference" for v in labels.values()),
                 "method_references_kept": sum(judged.get(i) == "landslide_study" for i, v in labels.items()
                                               if v == "method_reference")}
    return model, in_sample, cross_validate_kind(documents, labels, seed=seed, c=c, recall=recall)


def save_kind(model: dict[str, Any], path: Path = WEIGHTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    _model.cache_clear()
