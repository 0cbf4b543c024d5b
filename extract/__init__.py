"""Extraction: corpus files -> Study records -> facts with provenance.

Minimal first version (JSONL input, whole-word label matching), to be replaced by the spaCy pipeline.
The interface the build relies on is ``extract_corpus(sources, fmt=..., problems=...)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from lskg.errors import InputError
from lskg.ontology import concept_index
from lskg.records import Evidence, Fact, Study, StudyFacts

EXTRACTOR = "label-matcher-v0"


def read_jsonl(path: Path, problems: list[InputError]) -> Iterator[Study]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            yield Study(id=str(rec.get("id") or n), title=rec["title"], year=rec.get("year"),
                        authors=tuple(rec.get("authors") or ()), doi=rec.get("doi"), venue=rec.get("venue"),
                        abstract=rec.get("abstract") or rec.get("text") or "", source=f"{path.name}#{rec.get('id') or n}")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(InputError(f"line {n}: {exc}", source=str(path)))


def match(study: Study) -> StudyFacts:
    index = concept_index()
    text = study.text
    facts = []
    for concept in index.concepts.values():
        for label in concept.labels:
            m = re.search(rf"(?<![\w-]){re.escape(label)}s?(?![\w-])", text, re.IGNORECASE)
            if m:
                ev = Evidence(study.source, text, m.start(), m.end(), m.group(0), EXTRACTOR, 0.5)
                facts.append(Fact(concept.facet, concept.iri, concept.pref_label, ev))
                break
    return StudyFacts(study, facts)


def extract_corpus(sources: Sequence[Path], fmt: str = "auto",
                   problems: list[InputError] | None = None) -> Iterator[StudyFacts]:
    problems = problems if problems is not None else []
    for path in sources:
        for study in read_jsonl(Path(path), problems):
            yield match(study)
