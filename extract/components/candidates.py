"""``lskg.candidates.v1``: architectures the ontology does not know ("LiteTransNet", "GNN-CF", "L-Unet",
"LSTM-TCN", "CNN-BiGRU") become candidate concepts, assigned to families by evidence.

A word is a candidate name when it is CamelCase with an inner capital (``SegFormer``, ``RockYOLO``) or a hyphenated
compound of capitalised parts (``GNN-CF``, ``MSA-UNet``), is not itself an ontology label, and is not a generic
suffix compound ("U-Net-based"). Its families come from:

1. its parts: each part that is a model label (``GRU``), or a prefix/suffix of one (``Trans``, ``Former``,
   ``Diff``), contributes that label's families; a hybrid gets every family it combines;
2. otherwise its context: the families of the model mentions in the same sentence, when the name is introduced
   as a model ("we propose X", "X, a Transformer-based network", "the X model").

A name with no model evidence (``PlanetScope``, ``Landslide4Sense``) is not a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.facet_ruler import VocabularyComponent
from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.mentions import Mention, mentions
from lskg.extract.vocabulary import Vocabulary

NAME = "lskg.candidates.v1"
FACTORY = "lskg_candidates_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
BY_PARTS = 0.7
BY_CONTEXT = 0.55
CAMEL = re.compile(r"^(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z])[A-Za-z][A-Za-z0-9]{3,}$"
                   r"|^[A-Z][a-z]+[A-Z][A-Za-z0-9]+$")
COMPOUND = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$")
GENERIC_TAIL = re.compile(r"-(?:based|like|driven|derived|type|style|assisted|guided|enhanced|aware|free|only|"
                          r"level|wise|scale|specific|related|induced|inspired|oriented|integrated|"
                          r"supported|powered|dependent|shaped)$", re.IGNORECASE)
PART = re.compile(r"[A-Z]+[0-9]*(?=[A-Z][a-z]|$|-)|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
MODEL_NOUN = re.compile(r"^(?:model|network|net|framework|architecture|method|approach|algorithm|classifier|"
                        r"detector|segmenter|module)s?$", re.IGNORECASE)
INTRO_BEFORE = re.compile(r"\b(?:propose[ds]?|proposing|called|named|termed|dubbed|introduce[ds]?|present(?:s|ed)?|"
                          r"develop(?:s|ed)?|design(?:s|ed)?|build|built)\s+(?:a|an|the|our|novel|new|\s)*$",
                          re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def name_shaped(word: str) -> str | None:
    """``word`` without a generic suffix ("-based") when it is shaped like an architecture name (CamelCase, or a
    hyphenated compound with two capitals that is not just title-cased words), else None; memoized per word."""
    name = GENERIC_TAIL.sub("", word)
    if not (CAMEL.match(name) or (COMPOUND.match(name) and sum(c.isupper() for c in name) >= 2)):
        return None
    if "-" in name and all(re.fullmatch(r"[A-Z][a-z]{3,}", p) for p in name.split("-")):
        return None  # "Terrain-Feature": title-cased words, not a model name
    return name


def name_parts(name: str) -> list[str]:
    """``LiteTransNet`` -> [Lite, Trans, Net]; ``GNN-CF`` -> [GNN, CF]; ``CNN-BiGRU`` -> [CNN, BiGRU, Bi, GRU]."""
    parts: list[str] = []
    for piece in name.split("-"):
        if not piece:
            continue
        parts.append(piece)
        sub = PART.findall(piece)
        if len(sub) > 1:
            parts.extend(sub)
    return parts


def families_from_parts(name: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    families: set[str] = set()
    pieces = [p for p in name.split("-") if p]
    for piece in pieces:
        whole = vocabulary.part_families(piece) if len(pieces) > 1 or piece != name else ()
        if whole:
            families.update(whole)
            continue
        for sub in PART.findall(piece):
            if sub != piece:
                families.update(vocabulary.part_families(sub))
    return tuple(sorted(families))


class CandidateFinder(VocabularyComponent):

    @staticmethod
    def _words(tokens: TokenTable) -> Iterator[tuple[int, int, str]]:
        """Whitespace-delimited words as (start token, end token, text), trailing punctuation dropped."""
        glued, space, punct, texts = tokens.glued, tokens.space, tokens.punct, tokens.text
        i, n = 0, len(tokens)
        while i < n:
            j = i
            while j < n - 1 and glued[j] and not space[j + 1]:
                j += 1
            start, end = i, j + 1
            while end > start and punct[end - 1] and texts[end - 1] not in "+":
                end -= 1
            while start < end and punct[start]:
                start += 1
            if end > start:
                yield start, end, tokens.span_text(start, end)
            i = j + 1

    def __call__(self, doc: Doc) -> Doc:
        from lskg.ontology import candidate_iri

        found = mentions(doc)
        vocab = self.vocabulary
        tokens = token_table(doc)
        for start, end, text in list(self._words(tokens)):
            name = name_shaped(text)
            if name is None:
                continue
            if name != text:
                span = tokens.char_span(tokens.idx[start], tokens.idx[start] + len(name))
                end = start + (span[1] - span[0] if span else 0)
                if end <= start:
                    continue
            if vocab.lookup(name) or any(m.start <= start and m.end >= end for m in found):
                continue  # a known concept (or inside one)
            families = families_from_parts(name, vocab)
            confidence = BY_PARTS
            if not families:
                families = self._families_from_context(tokens, start, end, found)
                confidence = BY_CONTEXT
            if not families:
                continue
            found.append(Mention(start, end, "model", candidate_iri(name), name, confidence, NAME, candidate=True,
                                 broader=families, cues=["candidate:parts" if confidence == BY_PARTS
                                                         else "candidate:context"]))
        return doc

    def _families_from_context(self, tokens: TokenTable, start: int, end: int,
                               found: list[Mention]) -> tuple[str, ...]:
        sent_start, sent_end = tokens.sent_start[start], tokens.sent_end[start]
        after = tokens.text[end:min(sent_end, end + 2)]
        before = tokens.span_text(sent_start, start)
        introduced = (any(MODEL_NOUN.match(t) for t in after) or INTRO_BEFORE.search(before)
                      or (end < sent_end and tokens.text[end] in {",", ":", "("}))
        if not introduced:
            return ()
        near = [m for m in found if m.facet == "model" and not m.candidate and sent_start <= m.start < sent_end
                and abs(m.start - end) <= 15]
        index = self.vocabulary.index
        families: set[str] = set()
        for m in near:
            families.update(f for f in {m.concept, *index.ancestors(m.concept)}
                            if f in index.concepts and "ModelFamily" in index.concepts[f].types)
        return tuple(sorted(families))


@Language.factory(FACTORY)
def make_candidates(nlp: Language, name: str) -> CandidateFinder:
    return CandidateFinder()
