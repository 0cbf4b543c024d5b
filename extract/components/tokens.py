"""A Doc's tokens as plain Python lists, read once per Doc and shared by every component.

Indexing or iterating a Doc builds a new ``Token`` object on every access, and the rule components look at each
token many times (profiled: Token construction was the largest single cost of the pipeline). :func:`token_table`
reads the Doc once with ``Doc.to_array`` and takes each word's lexical attributes (text, lower, is_alpha, is_punct,
is_space) from a per-vocabulary cache, so a word is looked up once per process, not once per occurrence.

Sentence boundaries are read on first use (after ``lskg.sentences.v1``, which runs first, has set them; a
component that changed them later would not be seen). The table is valid as long as the Doc is not retokenized
(no lskg component retokenizes).
"""

from __future__ import annotations

import weakref
from bisect import bisect_right

from spacy.attrs import IDX, ORTH, SENT_START, SPACY
from spacy.tokens import Doc
from spacy.vocab import Vocab

MAX_CACHED_WORDS = 1 << 20
"""Distinct words kept per vocabulary (the cache is cleared, not grown, past this)."""
MAX_CACHED_VOCABS = 4
"""Vocabularies (pipelines) with a word cache; the oldest is dropped past this (Vocab takes no weak reference)."""

_lexemes: dict[int, tuple[Vocab, dict[int, tuple[str, str, bool, bool, bool]]]] = {}
_tables: weakref.WeakKeyDictionary[Doc, TokenTable] = weakref.WeakKeyDictionary()


class TokenTable:
    """Per-token attributes of one Doc (index = token index) and its sentences as token ranges."""

    __slots__ = ("text", "lower", "alpha", "punct", "space", "idx", "glued", "doc_text", "_doc", "_sentences",
                 "__weakref__")

    def __init__(self, doc: Doc) -> None:
        lexemes = _words(doc.vocab)
        array = doc.to_array([ORTH, IDX, SPACY]).tolist() if len(doc) else []
        rows = []
        for orth, _, _ in array:
            row = lexemes.get(orth)
            if row is None:
                lex = doc.vocab[orth]
                row = lexemes[orth] = (lex.orth_, lex.lower_, lex.is_alpha, lex.is_punct, lex.is_space)
            rows.append(row)
        self.text: list[str] = [r[0] for r in rows]
        self.lower: list[str] = [r[1] for r in rows]
        self.alpha: list[bool] = [r[2] for r in rows]
        self.punct: list[bool] = [r[3] for r in rows]
        self.space: list[bool] = [r[4] for r in rows]
        self.idx: list[int] = [a[1] for a in array]
        self.glued: list[bool] = [a[2] == 0 for a in array]
        """No whitespace after the token (``Token.whitespace_ == ""``)."""
        self.doc_text: str = "".join([t if g else t + " " for t, g in zip(self.text, self.glued, strict=True)])
        """``Doc.text`` (a token's trailing whitespace is one space), without building a Token per token."""
        self._doc = weakref.ref(doc)
        self._sentences: tuple[list[bool], list[int], list[int]] | None = None

    @property
    def is_start(self) -> list[bool]:
        """Token i starts a sentence."""
        return self._read_sentences()[0]

    @property
    def sent_start(self) -> list[int]:
        """Token index of the first token of each token's sentence."""
        return self._read_sentences()[1]

    @property
    def sent_end(self) -> list[int]:
        """Token index one past the last token of each token's sentence."""
        return self._read_sentences()[2]

    def _read_sentences(self) -> tuple[list[bool], list[int], list[int]]:
        """Sentence boundaries, read on first use (the sentence component reads the text before it sets them)."""
        if self._sentences is None:
            doc = self._doc()
            if doc is None:
                raise RuntimeError("the Doc of this token table is gone")
            n = len(self.text)
            if n and doc.has_annotation("SENT_START") and "sents" not in doc.user_hooks:
                is_start = [i == 0 or flag == 1 for i, flag in enumerate(doc.to_array([SENT_START]).tolist())]
            else:  # no boundaries, or from user hooks: spaCy's own Doc.sents (it raises when they are unset)
                starts = {sent.start for sent in doc.sents} if n else set()
                is_start = [i in starts for i in range(n)]
            sent_start: list[int] = []
            sent_end = [n] * n
            first = 0
            for i in range(n):
                if is_start[i]:
                    sent_end[first:i] = [i] * (i - first)
                    first = i
                sent_start.append(first)
            self._sentences = (is_start, sent_start, sent_end)
        return self._sentences

    def __len__(self) -> int:
        return len(self.text)

    def end_char(self, i: int) -> int:
        """Character offset just after token ``i``."""
        return self.idx[i] + len(self.text[i])

    def span_text(self, start: int, end: int) -> str:
        """``doc[start:end].text`` without building the Span."""
        return self.doc_text[self.idx[start]:self.end_char(end - 1)] if end > start else ""

    def sentences(self) -> list[tuple[int, int]]:
        """(start, end) token ranges of the sentences, in order (``Doc.sents``)."""
        is_start, _, sent_end = self._read_sentences()
        return [(i, sent_end[i]) for i in range(len(self.text)) if is_start[i]]

    def char_span(self, start_char: int, end_char: int) -> tuple[int, int] | None:
        """The token range of ``doc.char_span(start_char, end_char, alignment_mode="expand")``, or None."""
        start = self._token_by_char(start_char)
        if start < 0:
            return None
        end = self._token_by_char(end_char - 1)
        if end < 0:
            return None
        if start_char == self.end_char(start):
            start += 1  # the trailing whitespace of a token is not part of it
        return start, end + 1

    def sentence_text(self, token: int) -> str:
        """The text of the sentence holding token ``token`` (``Span(doc, token, ...).sent.text``)."""
        token = min(token, len(self.text) - 1)
        return self.span_text(self.sent_start[token], self.sent_end[token])

    def _token_by_char(self, char: int) -> int:
        """The token whose text or trailing whitespace holds character ``char``; -1 outside the text."""
        if char < 0 or not self.idx or char >= len(self.doc_text):
            return -1
        return bisect_right(self.idx, char) - 1


def _words(vocab: Vocab) -> dict[int, tuple[str, str, bool, bool, bool]]:
    """The word cache of ``vocab``: orth -> (text, lower, is_alpha, is_punct, is_space)."""
    entry = _lexemes.get(id(vocab))
    if entry is None or entry[0] is not vocab or len(entry[1]) > MAX_CACHED_WORDS:
        while len(_lexemes) >= MAX_CACHED_VOCABS:
            del _lexemes[next(iter(_lexemes))]
        entry = _lexemes[id(vocab)] = (vocab, {})
    return entry[1]


def token_table(doc: Doc) -> TokenTable:
    """The (cached) token table of ``doc``."""
    table = _tables.get(doc)
    if table is None or len(table) != len(doc):
        table = _tables[doc] = TokenTable(doc)
    return table
