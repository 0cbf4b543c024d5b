"""The JSON shape of ``lskg extract``: one object per study.

    {"id", "title", "year", "kind", "families", "models", "data", "landslide_types", "tasks", "metrics", "place",
     "concepts": [{"iri", "label", "facet", "role", "span", "sentence", "confidence", "start", "end",
                   "document", "extractor", "candidate", "broader"}]}

``families`` are the family names (CNN, RNN, Transformer, GAN, AE, GNN, DiffusionModel, ClassicalML) of the model
facts a study proposes, applies or compares against (baselines count: a study that compares against a random
forest uses classical ML too); facts with role ``mentioned`` count nowhere. The other lists hold prefLabels (a
candidate architecture's surface name).
"""

from __future__ import annotations

from typing import Any

from lskg.ontology import ConceptIndex
from lskg.records import Fact, StudyFacts

FACET_KEYS = {"model": "models", "data": "data", "landslide_type": "landslide_types", "task": "tasks"}
COUNTED_ROLES = frozenset({"proposed", "applied", "baseline"})


def counted(facts: list[Fact], facet: str) -> list[Fact]:
    """The facts of a facet that count as what the study uses (not those only mentioned)."""
    return [f for f in facts if f.facet == facet and f.role in COUNTED_ROLES]


def most_specific(facts: list[Fact], facet: str, index: ConceptIndex) -> list[Fact]:
    """The counted facts of a facet, less those subsumed by another counted fact of the same facet: a study that
    does "semantic segmentation" of landslides does landslide mapping too (skos:broader), so the facet list names
    the most specific concepts only; the broader facts stay in ``concepts`` (and in the graph)."""
    kept = counted(facts, facet)
    if facet == "model":
        return kept
    iris = {f.concept for f in kept if not f.candidate}
    return [f for f in kept if f.candidate or not any(
        other != f.concept and f.concept in index.ancestors(other) for other in iris)]


def families(facts: list[Fact], index: ConceptIndex) -> list[str]:
    names: set[str] = set()
    for fact in counted(facts, "model"):
        names.update(index.families(fact.concept, fact.broader))
    return sorted(names)


def study_record(item: StudyFacts, index: ConceptIndex) -> dict[str, Any]:
    s = item.study
    record: dict[str, Any] = {"id": s.id, "title": s.title, "year": s.year, "kind": s.kind,
                              "families": families(item.facts, index)}
    for facet, key in FACET_KEYS.items():
        record[key] = sorted({f.label for f in most_specific(item.facts, facet, index)}, key=str.lower)
    record["metrics"] = [{"name": m.name, "value": m.value, "unit": m.unit, "span": m.evidence.span}
                         for m in item.metrics]
    record["place"] = item.place
    record["concepts"] = [{
        "iri": f.concept, "label": f.label, "facet": f.facet, "role": f.role, "span": f.evidence.span,
        "sentence": f.evidence.sentence, "confidence": f.evidence.confidence, "start": f.evidence.start,
        "end": f.evidence.end, "document": f.evidence.document, "extractor": f.evidence.extractor,
        "candidate": f.candidate, "broader": list(f.broader)} for f in item.facts]
    return record
