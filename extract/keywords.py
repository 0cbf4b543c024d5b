"""The keyword baseline: every ontology label found in the text, with nothing else.

It is the yardstick the extractor must beat in ``lskg evaluate extraction``: a concept is predicted when one of
its labels (prefLabel, altLabel, notation) occurs in the text as a whole word, case-insensitively (labels of
three letters or fewer, such as "RF" or "GRU", only in their own case). No roles, no context, no inference.
"""

from __future__ import annotations

import functools
import re

from lskg.ontology import ConceptIndex


@functools.lru_cache(maxsize=4)
def _patterns(index: ConceptIndex) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for concept in index.concepts.values():
        for label in {*concept.labels, concept.notation or ""} - {""}:
            flags = 0 if len(label) <= 3 else re.IGNORECASE
            out.append((re.compile(rf"(?<![\w-]){re.escape(label)}(?:e?s)?(?![\w-])", flags), concept.iri))
    return out


def keyword_concepts(text: str, index: ConceptIndex) -> set[str]:
    """IRIs of every concept one of whose labels occurs in ``text``."""
    return {iri for pattern, iri in _patterns(index) if pattern.search(text)}
