"""What a reader hands to the pipeline: a study and the passages of source text that describe it.

A record format (JSONL, CSV, BibTeX, RIS, PDF, text) gives one passage per study: its title and abstract. A review
gives, for every study it cites, the passages (parts of sentences) that cite it. Passages carry their character
offsets in the source document, so that evidence can point back into it:

* ``Evidence.document`` is the locator of the source document (``corpus.bib#key``, ``review.txt``);
* ``Evidence.start``/``end`` are character offsets of the matched span in that document's text (for a record
  format, the document text is ``Study.text``: title, ". ", abstract);
* ``Evidence.sentence`` is the sentence that contains the span (cleaned of markup).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lskg.records import Study


@dataclass(frozen=True)
class Passage:
    """A stretch of source text read for one study.

    ``text`` is the whole sentence (or whole record text) the pipeline reads; ``start`` is its offset in the
    source document. ``scope`` optionally narrows what counts for this study to ``text[scope[0]:scope[1]]``
    (a review sentence that cites two studies for two different clauses).
    """

    text: str
    start: int = 0
    scope: tuple[int, int] | None = None
    offsets: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    """Source-document offset of each character of ``text`` when markup was removed (None: contiguous)."""

    def doc_offset(self, char: int) -> int:
        """The source-document offset of character ``char`` of ``text``."""
        if self.offsets is None:
            return self.start + char
        if not self.offsets:
            return self.start
        return self.offsets[min(char, len(self.offsets) - 1)] + (1 if char >= len(self.offsets) else 0)

    def in_scope(self, start: int, end: int) -> bool:
        return self.scope is None or (start >= self.scope[0] and end <= self.scope[1])


@dataclass(frozen=True)
class Document:
    """A study and the passages that describe it, with the locator of the source document."""

    study: Study
    locator: str
    passages: tuple[Passage, ...]
    contexts: tuple[Passage, ...] = ()
    """A review's cited work: every sentence that cites it (scoped to the citation), also for a work the reader
    judged a general method reference and gave no passages. Not read for facts; the decision stage
    (``lskg.extract.review_kind``) may re-judge the work from them."""

    @classmethod
    def of_record(cls, study: Study) -> Document:
        """A bibliographic record: the study's own title and abstract are its single passage."""
        return cls(study, study.source, (Passage(study.text),) if study.text.strip() else ())
