"""What the pipeline components write on a Doc: concept mentions, metric mentions and place mentions.

They are kept in Doc extensions (``doc._.lskg_mentions``, ``doc._.lskg_metrics``, ``doc._.lskg_places``) as small
picklable records (so ``nlp.pipe(n_process=N)`` can ship them back), and mirrored as span groups
(``doc.spans["lskg_concepts"]`` with label = facet and kb_id = concept IRI) for displaCy and debugging.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import srsly
from spacy.tokens import Doc, Span

from lskg.records import Facet, Role


@dataclass
class Mention:
    """A concept mentioned in a sentence: tokens ``start:end`` of the Doc."""

    start: int
    end: int
    facet: Facet
    concept: str
    label: str
    """The concept's prefLabel (or, for a candidate, its surface name)."""
    confidence: float
    extractor: str
    role: Role = "applied"
    candidate: bool = False
    broader: tuple[str, ...] = ()
    cues: list[str] = field(default_factory=list)
    """Why the role or confidence was set (``baseline:outperform``); for explanations and tests."""


@dataclass(frozen=True)
class MetricMention:
    start_char: int
    end_char: int
    name: str
    value: float
    unit: str | None
    extractor: str


@dataclass(frozen=True)
class PlaceMention:
    start_char: int
    end_char: int
    name: str
    score: float
    extractor: str


def register_extensions() -> None:
    for name in ("lskg_mentions", "lskg_metrics", "lskg_places"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Doc.has_extension("lskg_abbreviations"):
        Doc.set_extension("lskg_abbreviations", default=None)
    if not Doc.has_extension("lskg_title_end"):
        Doc.set_extension("lskg_title_end", default=None)
        """Character offset where the title ends (set by the caller when the text starts with a title)."""


def mentions(doc: Doc) -> list[Mention]:
    if doc._.lskg_mentions is None:
        doc._.lskg_mentions = []
    return doc._.lskg_mentions


def mirror_spans(doc: Doc) -> None:
    """Refresh ``doc.spans["lskg_concepts"]`` from the mentions."""
    doc.spans["lskg_concepts"] = [Span(doc, m.start, m.end, label=m.facet, kb_id=m.concept) for m in mentions(doc)]


_RECORD_TYPES = (Mention, MetricMention, PlaceMention)
_RECORDS = {cls.__name__: cls for cls in _RECORD_TYPES}
_TAG = "__lskg_record__"


@srsly.msgpack_encoders("lskg_mentions")
def _encode(obj: Any, chain: Any = None) -> Any:
    """Mentions travel inside ``Doc.to_bytes`` (``nlp.pipe(n_process=N)``) as tagged dicts."""
    if type(obj).__name__ in _RECORDS and isinstance(obj, _RECORD_TYPES):
        data = asdict(obj)
        data[_TAG] = type(obj).__name__
        return data
    return obj if chain is None else chain(obj)


@srsly.msgpack_decoders("lskg_mentions")
def _decode(obj: Any, chain: Any = None) -> Any:
    if isinstance(obj, dict) and _TAG in obj:
        data = dict(obj)
        cls = _RECORDS[data.pop(_TAG)]
        for key in ("broader",):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)
    return obj if chain is None else chain(obj)
