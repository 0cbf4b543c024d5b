"""``lskg.sentences.v1``: sentence boundaries from :func:`lskg.extract.sentences.sentence_spans`."""

from __future__ import annotations

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import token_table
from lskg.extract.sentences import sentence_spans


class SentenceSplitter:
    """Sets ``Token.is_sent_start`` so that ``et al.``, ``e.g.`` and ``Fig.`` do not end sentences."""

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        tokens = token_table(doc)  # (iterating the Doc builds a Token object per token)
        starts = {start for start, _ in sentence_spans(tokens.doc_text)}
        # All at once: setting Token.is_sent_start checks the whole Doc for a parse on every call (quadratic).
        flags = [1 if i == 0 or idx in starts else -1 for i, idx in enumerate(tokens.idx)]
        column = numpy.array(flags, dtype=numpy.int64).astype(numpy.uint64).reshape(-1, 1)
        # (spaCy annotates the array as thinc's Ints2d, a class no numpy array is an instance of, for typing only)
        doc.from_array([SENT_START], column)  # type: ignore[arg-type]
        return doc


@Language.factory("lskg_sentences_v1")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter()
