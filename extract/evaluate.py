"""Extraction quality against gold annotations (``lskg evaluate extraction --gold GOLD.jsonl``).

GOLD: one study per line, ``{"id", "text", "title"?, "year"?, "families": [...], "data": [...],
"landslide_types": [...], "tasks": [...], "models"?: [...]}`` with plain labels. Gold labels are resolved through
the ontology's labels (``ConceptIndex.resolve``); labels that do not resolve are reported and left out of the
scores. The gold texts are read with the ``jsonl`` reader and extracted by the same pipeline as any corpus.

Comparison is at concept level, per study, per facet:

* ``families``: family names;
* ``data``, ``landslide_types``, ``tasks``: concept IRIs. A predicted concept that is *narrower* than a gold
  concept (predicted ``SBAS-InSAR`` for gold ``InSAR``) counts as a match for it (the text does say InSAR);
  a broader prediction for a narrower gold label does not (it says less than the gold);
* ``models`` (reported, not a target): concept IRIs, candidates compared by folded name.

Precision, recall and F1 are given micro-averaged (pooled over studies) and macro-averaged (the mean of the
per-study F1 over studies that have gold or predictions in that facet). "Worst studies" are those with the most
false positives plus false negatives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lskg.errors import InputError, UnknownConceptError
from lskg.extract.document import Document
from lskg.extract.output import families, most_specific
from lskg.extract.readers.jsonl import study_from_record
from lskg.ontology import ConceptIndex, concept_index
from lskg.ontology.labels import fold
from lskg.records import StudyFacts

SCORED = ("families", "data", "landslide_types", "tasks")
REPORTED = (*SCORED, "models")
FACET_OF = {"data": "data", "landslide_types": "landslide_type", "tasks": "task", "models": "model"}


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class StudyResult:
    id: str
    counts: dict[str, Counts]
    missed: dict[str, list[str]]
    spurious: dict[str, list[str]]

    @property
    def errors(self) -> int:
        return sum(c.fp + c.fn for k, c in self.counts.items() if k in SCORED)


@dataclass
class ExtractionReport:
    gold: str
    studies: int
    micro: dict[str, Counts]
    macro: dict[str, float]
    per_study: list[StudyResult]
    unresolved: dict[str, list[str]] = field(default_factory=dict)

    def worst(self, n: int = 5) -> list[StudyResult]:
        return sorted((s for s in self.per_study if s.errors), key=lambda s: (-s.errors, s.id))[:n]

    def to_dict(self, worst: int = 10) -> dict[str, Any]:
        return {
            "gold": self.gold, "studies": self.studies,
            "facets": {k: {**self.micro[k].as_dict(), "macro_f1": round(self.macro[k], 4)} for k in REPORTED},
            "micro_f1_all": round(_pooled([self.micro[k] for k in SCORED]).f1, 4),
            "macro_f1_all": round(sum(self.macro[k] for k in SCORED) / len(SCORED), 4),
            "unresolved_gold_labels": self.unresolved,
            "worst_studies": [{"id": s.id, "errors": s.errors, "missed": s.missed, "spurious": s.spurious}
                              for s in self.worst(worst)],
        }


def _pooled(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for c in counts:
        total.tp += c.tp
        total.fp += c.fp
        total.fn += c.fn
    return total


def load_gold(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the gold file ({exc})", source=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", source=str(path), record=f"line {n}") from None
        if not isinstance(rec, dict) or not (rec.get("text") or rec.get("abstract")):
            raise InputError("a gold record needs an object with a 'text'", source=str(path), record=f"line {n}")
        records.append(rec)
    if not records:
        raise InputError("the gold file has no records", source=str(path))
    return records


class _Resolver:
    def __init__(self, index: ConceptIndex) -> None:
        self.index = index
        self.unresolved: dict[str, set[str]] = {}

    def gold_set(self, key: str, labels: list[str]) -> set[str]:
        if key == "families":
            return set(labels)
        out = set()
        for label in labels:
            try:
                out.add(self.index.resolve(label, FACET_OF[key]).iri)
            except UnknownConceptError:
                if key == "models":
                    out.add("candidate:" + fold(label))
                else:
                    self.unresolved.setdefault(key, set()).add(label)
        return out


def predicted_sets(item: StudyFacts, index: ConceptIndex) -> dict[str, set[str]]:
    sets: dict[str, set[str]] = {"families": set(families(item.facts, index))}
    for key, facet in FACET_OF.items():
        sets[key] = {("candidate:" + fold(f.label)) if f.candidate else f.concept for f in most_specific(item.facts, facet, index)}
    return sets


def compare(gold: set[str], predicted: set[str], index: ConceptIndex, hierarchical: bool) -> tuple[set, set, set]:
    """(matched gold, missed gold, spurious predictions); a narrower prediction matches a broader gold concept."""
    def covers(g: str, p: str) -> bool:
        return g == p or (hierarchical and p in index.concepts and g in index.ancestors(p))

    matched = {g for g in gold if any(covers(g, p) for p in predicted)}
    spurious = {p for p in predicted if not any(covers(g, p) for g in gold)}
    return matched, gold - matched, spurious


def evaluate_extraction(gold_path: Path, *, index: ConceptIndex | None = None, extractor: Any = None,
                        hierarchical: bool = True) -> ExtractionReport:
    """Run extraction on the gold texts and score it (see the module docstring)."""
    from lskg.extract.pipeline import Extractor

    index = index or concept_index()
    extractor = extractor or Extractor(index)
    gold = load_gold(gold_path)
    resolver = _Resolver(index)
    documents = [Document.of_record(study_from_record(rec, gold_path.name, f"gold-{n}"))
                 for n, rec in enumerate(gold, 1)]
    results: list[StudyResult] = []
    micro = {k: Counts() for k in REPORTED}
    per_study_f1: dict[str, list[float]] = {k: [] for k in REPORTED}
    for rec, item in zip(gold, extractor.run(documents), strict=True):
        predicted = predicted_sets(item, index)
        counts, missed, spurious = {}, {}, {}
        for key in REPORTED:
            if key == "models" and "models" not in rec:
                continue
            expected = resolver.gold_set(key, list(rec.get(key) or []))
            hit, miss, extra = compare(expected, predicted[key], index, hierarchical and key != "families")
            c = Counts(len(hit), len(extra), len(miss))
            counts[key] = c
            micro[key].tp += c.tp
            micro[key].fp += c.fp
            micro[key].fn += c.fn
            if expected or predicted[key]:
                per_study_f1[key].append(c.f1)
            if miss:
                missed[key] = sorted(index.label(m) if m in index.concepts else m for m in miss)
            if extra:
                spurious[key] = sorted(index.label(p) if p in index.concepts else p for p in extra)
        results.append(StudyResult(str(rec.get("id") or item.study.id), counts, missed, spurious))
    macro = {k: (sum(v) / len(v) if v else 1.0) for k, v in per_study_f1.items()}
    return ExtractionReport(str(gold_path), len(gold), micro, macro, results,
                            {k: sorted(v) for k, v in resolver.unresolved.items()})
