"""Extraction quality against the gold standard (``lskg evaluate extraction``), and inter-annotator agreement.

Comparison is per study and per facet, at concept level, honouring the ontology's hierarchy:

* a prediction at the gold concept or *narrower* is right (predicting ``SBAS-InSAR`` for gold ``InSAR``: the
  text does say InSAR);
* a prediction *broader* than a gold concept is **vague**: counted apart, neither right nor wrong (predicting
  ``SAR imagery`` for gold ``Sentinel-1`` says less than the gold);
* anything else is wrong (a false positive); a gold concept that no right prediction covers is missed.

Facets: ``families`` (family names), ``data``, ``landslide_types``, ``tasks`` and ``models`` (concept IRIs; unknown
model names compared by folded name), ``metrics`` (canonical metric names) and ``place`` (study areas; a place
matches when they share a name word). The first four are the scored facets; the others are reported. Gold labels
that name no ontology concept are kept as concepts of their own (so they count as misses) and listed.

Micro precision, recall and F1 pool the counts over studies; the 95% confidence interval of micro F1 comes from a
bootstrap over studies (1,000 resamples, fixed seed). The keyword baseline (:mod:`lskg.extract.keywords`) is
scored in the same run on the same studies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lskg.errors import UnknownConceptError
from lskg.extract import gold as gold_data
from lskg.extract.components.metrics import canonical
from lskg.extract.document import Document
from lskg.extract.keywords import keyword_concepts
from lskg.extract.output import families, most_specific
from lskg.ontology import ConceptIndex, concept_index
from lskg.ontology.labels import fold, to_ascii
from lskg.records import Facet, Study, StudyFacts

SCORED = ("families", "data", "landslide_types", "tasks")
REPORTED = (*SCORED, "models", "metrics", "place")
FACET_OF: dict[str, Facet] = {"data": "data", "landslide_types": "landslide_type", "tasks": "task", "models": "model"}
BOOTSTRAP = 1000

Sets = dict[str, set[str]]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    vague: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.tp, self.fp, self.fn, self.vague = (self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                                                 self.vague + other.vague)
        return self

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
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "vague": self.vague}


@dataclass
class StudyResult:
    id: str
    counts: dict[str, Counts]
    missed: dict[str, list[str]]
    spurious: dict[str, list[str]]
    vague: dict[str, list[str]]

    @property
    def errors(self) -> int:
        return sum(c.fp + c.fn for k, c in self.counts.items() if k in SCORED)


@dataclass
class ExtractionReport:
    gold: str
    system: str
    studies: int
    micro: dict[str, Counts]
    macro: dict[str, float]
    ci: dict[str, tuple[float, float]]
    per_study: list[StudyResult]
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    baseline: ExtractionReport | None = None
    """The keyword baseline on the same studies, when it was run."""

    def worst(self, n: int = 5) -> list[StudyResult]:
        return sorted((s for s in self.per_study if s.errors), key=lambda s: (-s.errors, s.id))[:n]

    def facet_dict(self, key: str) -> dict[str, Any]:
        lo, hi = self.ci[key]
        return {**self.micro[key].as_dict(), "f1_ci95": [round(lo, 4), round(hi, 4)],
                "macro_f1": round(self.macro[key], 4)}

    def to_dict(self, worst: int = 10) -> dict[str, Any]:
        data: dict[str, Any] = {
            "gold": self.gold, "system": self.system, "studies": self.studies,
            "facets": {k: self.facet_dict(k) for k in REPORTED},
            "micro_f1_all": round(_pooled(self.micro[k] for k in SCORED).f1, 4),
            "macro_f1_all": round(sum(self.macro[k] for k in SCORED) / len(SCORED), 4),
            "unresolved_gold_labels": self.unresolved,
            "worst_studies": [{"id": s.id, "errors": s.errors, "missed": s.missed, "spurious": s.spurious,
                               "vague": s.vague} for s in self.worst(worst)],
        }
        if self.baseline is not None:
            data["baseline"] = {"system": self.baseline.system,
                                "facets": {k: self.baseline.facet_dict(k) for k in REPORTED}}
        return data


def _pooled(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for c in counts:
        total += c
    return total


class Labels:
    """Turns plain labels (gold or a second annotator's) into comparable sets, per facet."""

    def __init__(self, index: ConceptIndex) -> None:
        self.index = index
        self.unresolved: dict[str, set[str]] = {}

    def _concept(self, key: str, label: str) -> str:
        try:
            return self.index.resolve(label, FACET_OF[key]).iri
        except UnknownConceptError:
            if key != "models":
                self.unresolved.setdefault(key, set()).add(label)
            return "label:" + fold(label)

    def _family(self, label: str) -> set[str]:
        try:
            concept = self.index.resolve(label, "model")
        except UnknownConceptError:
            self.unresolved.setdefault("families", set()).add(label)
            return {label}
        return set(self.index.families(concept.iri)) or {label}

    def sets(self, labels: Mapping[str, Sequence[str]]) -> Sets:
        out: Sets = {}
        for key in REPORTED:
            values = list(labels.get(key) or ())
            if key == "families":
                out[key] = {name for v in values for name in self._family(v)}
            elif key == "metrics":
                out[key] = {canonical(v) or fold(v) for v in values}
            elif key == "place":
                out[key] = set(values)
            else:
                out[key] = {self._concept(key, v) for v in values}
        return out


def predicted_sets(item: StudyFacts, index: ConceptIndex) -> Sets:
    """What the extractor says of a study, as comparable sets."""
    sets: Sets = {"families": set(families(item.facts, index))}
    for key, facet in FACET_OF.items():
        sets[key] = {("label:" + fold(f.label)) if f.candidate else f.concept
                     for f in most_specific(item.facts, facet, index)}
    sets["metrics"] = {m.name for m in item.metrics}
    sets["place"] = {item.place} if item.place else set()
    return sets


def keyword_sets(text: str, index: ConceptIndex) -> Sets:
    """What the keyword baseline says of a study (families from the models it found)."""
    found = keyword_concepts(text, index)
    sets: Sets = {key: {i for i in found if index.get(i).facet == facet} for key, facet in FACET_OF.items()}
    sets["families"] = {name for iri in sets["models"] for name in index.families(iri)}
    sets["metrics"], sets["place"] = set(), set()
    return sets


def _place_words(place: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", to_ascii(place).lower()) if len(w) >= 4} - {"area", "region", "china",
                                                                                          "province", "county"}


def compare(key: str, gold: set[str], predicted: set[str], index: ConceptIndex, hierarchical: bool = True
            ) -> tuple[set[str], set[str], set[str], set[str]]:
    """(matched gold, missed gold, wrong predictions, vague predictions) of one facet of one study."""
    if key == "place":
        def covers(g: str, p: str) -> bool:
            return bool(_place_words(g) & _place_words(p)) or fold(g) == fold(p)

        def broader(g: str, p: str) -> bool:
            return False
    else:
        def covers(g: str, p: str) -> bool:
            return g == p or (hierarchical and p in index.concepts and g in index.ancestors(p))

        def broader(g: str, p: str) -> bool:
            return hierarchical and g in index.concepts and p in index.ancestors(g)

    matched = {g for g in gold if any(covers(g, p) for p in predicted)}
    right = {p for p in predicted if any(covers(g, p) for g in gold)}
    vague = {p for p in predicted - right if any(broader(g, p) for g in gold)}
    return matched, gold - matched, predicted - right - vague, vague


def bootstrap_ci(per_study: Sequence[Counts], *, rounds: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of pooled F1 over studies resampled with replacement."""
    if not per_study:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(per_study)
    scores = sorted(_pooled(per_study[rng.randrange(n)] for _ in range(n)).f1 for _ in range(rounds))
    return scores[int(0.025 * rounds)], scores[min(rounds - 1, int(0.975 * rounds))]


def score(gold: Sequence[tuple[str, Sets]], predicted: Sequence[Sets], index: ConceptIndex, *, system: str,
          source: str, hierarchical: bool = True, unresolved: dict[str, set[str]] | None = None) -> ExtractionReport:
    """Score predictions against gold sets (same order), per facet."""
    micro = {k: Counts() for k in REPORTED}
    per_facet: dict[str, list[Counts]] = {k: [] for k in REPORTED}
    per_study_f1: dict[str, list[float]] = {k: [] for k in REPORTED}
    results = []

    def name(i: str) -> str:
        return index.label(i) if i in index.concepts else i.removeprefix("label:")

    for (ident, expected), got in zip(gold, predicted, strict=True):
        counts: dict[str, Counts] = {}
        missed: dict[str, list[str]] = {}
        spurious: dict[str, list[str]] = {}
        vague: dict[str, list[str]] = {}
        for key in REPORTED:
            hit, miss, wrong, vag = compare(key, expected[key], got[key], index,
                                            hierarchical and key not in ("families", "metrics"))
            c = Counts(len(hit), len(wrong), len(miss), len(vag))
            counts[key] = c
            micro[key] += c
            per_facet[key].append(c)
            if expected[key] or got[key]:
                per_study_f1[key].append(c.f1)
            for store, values in ((missed, miss), (spurious, wrong), (vague, vag)):
                if values:
                    store[key] = sorted(map(name, values))
        results.append(StudyResult(ident, counts, missed, spurious, vague))
    macro = {k: (sum(v) / len(v) if v else 1.0) for k, v in per_study_f1.items()}
    ci = {k: bootstrap_ci(per_facet[k]) for k in REPORTED}
    return ExtractionReport(source, system, len(gold), micro, macro, ci, results,
                            {k: sorted(v) for k, v in (unresolved or {}).items()})


def evaluate_extraction(gold_path: Path, *, split: str | None = None, corpus: Path | None = None,
                        index: ConceptIndex | None = None, extractor: Any = None, hierarchical: bool = True,
                        baseline: bool = True, progress: Callable[[str, int, int | None], None] | None = None
                        ) -> ExtractionReport:
    """Run extraction on the gold texts (a gold file, or a split of a gold folder) and score it, with the keyword
    baseline on the same studies."""
    from lskg.extract.pipeline import Extractor

    index = index or concept_index()
    extractor = extractor or Extractor(index)
    studies = gold_data.load(gold_path, split, corpus)
    labels = Labels(index)
    gold = [(s.id, labels.sets(s.labels)) for s in studies]
    documents = [Document.of_record(Study(id=s.id, title=s.title, abstract=s.text.removeprefix(s.title).lstrip(". "),
                                          year=s.year, source=f"{gold_path.name}#{s.id}")) for s in studies]
    predicted = []
    for n, item in enumerate(extractor.run(documents), 1):
        predicted.append(predicted_sets(item, index))
        if progress:
            progress("extract", n, len(documents))
    source = f"{gold_path}" + (f" ({split} split)" if split else "")
    report = score(gold, predicted, index, system="lskg", source=source, hierarchical=hierarchical,
                   unresolved=labels.unresolved)
    if baseline:
        report.baseline = score(gold, [keyword_sets(s.text, index) for s in studies], index, system="keywords",
                                source=source, hierarchical=hierarchical)
    return report


def agreement(folder: Path, *, corpus: Path | None = None, index: ConceptIndex | None = None) -> ExtractionReport:
    """Inter-annotator agreement: the second annotation (group B) scored against the primary one (group A) on the
    studies both annotated, with the same hierarchy rules. Micro F1 is symmetric up to the vague count."""
    index = index or concept_index()
    primary = gold_data.assemble(folder, corpus or _corpus())
    second = gold_data.read_annotations(folder, "B")
    common = sorted(set(primary) & set(second))
    labels = Labels(index)
    gold = [(i, labels.sets(primary[i].labels)) for i in common]
    other = [labels.sets(gold_data._labels(second[i])) for i in common]
    return score(gold, other, index, system="annotator B", source=f"{folder} (A vs B)")


def _corpus() -> Path:
    from lskg.data import CORPUS

    return CORPUS
