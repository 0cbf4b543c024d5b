"""``lskg.sentences.v1``: sentence boundaries from :func:`lskg.extract.sentences.sentence_spans`."""

from __future__ import annotations

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.sentences import sentence_spans


class SentenceSplitter:
    """Sets ``Token.is_sent_start`` so that ``et al.``, ``e.g.`` and ``Fig.`` do not end sentences."""

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        starts = {start for start, _ in sentence_spans(doc.text)}
        # All at once: setting Token.is_sent_start checks the whole Doc for a parse on every call (quadratic).
        flags = [1 if token.i == 0 or token.idx in starts else -1 for token in doc]
        doc.from_array([SENT_START], numpy.array(flags, dtype=numpy.int64).astype(numpy.uint64).reshape(-1, 1))
        return doc


@Language.factory("lskg_sentences_v1")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter()
