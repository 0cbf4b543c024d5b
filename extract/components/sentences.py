"""``lskg.sentences.v1``: sentence boundaries from :func:`lskg.extract.sentences.sentence_spans`."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.sentences import sentence_spans


class SentenceSplitter:
    """Sets ``Token.is_sent_start`` so that ``et al.``, ``e.g.`` and ``Fig.`` do not end sentences."""

    def __call__(self, doc: Doc) -> Doc:
        starts = {start for start, _ in sentence_spans(doc.text)}
        for token in doc:
            token.is_sent_start = token.i == 0 or token.idx in starts
        return doc


@Language.factory("lskg_sentences_v1")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter()
