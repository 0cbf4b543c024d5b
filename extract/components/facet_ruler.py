"""``lskg.facet_ruler.v1``: mentions of ontology concepts, matched on folded token n-grams.

Every label, altLabel and notation of every concept is folded (:mod:`lskg.extract.vocabulary`); the ruler folds
token n-grams the same way and looks them up, longest first, so "U-Net", "UNet", "U Net", "U-Nets" all reach
``model:UNet`` and "co-seismic landslides" reaches the co-seismic landslide type. Confidence: 0.95 for a surface
form written exactly as a label, 0.85 for a folded or plural match.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.mentions import Mention, mentions, register_extensions
from lskg.extract.vocabulary import Vocabulary, fold_cased
from lskg.ontology.labels import fold, singular_forms

NAME = "lskg.facet_ruler.v1"
FACTORY = "lskg_facet_ruler_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
EXACT = 0.95
FOLDED = 0.85
MAX_TOKENS = 10
TRIGGER = re.compile(r"^(?:induced|triggered|caused|driven|related|prone)$", re.IGNORECASE)
GENERIC_HEADS = frozenset({"data", "series", "imagery", "image", "images", "record", "records", "map", "maps"})
"""Container heads ("SAR data", "InSAR time series"): a label ending in one does not take over an earlier, more
specific label it overlaps ("ground-based SAR data" stays ground-based SAR)."""
INNER_PUNCT = {"-", "+", "/", ".", "&", "'", "’", "–", "‐"}


_fold = lru_cache(maxsize=1 << 17)(fold)
_fold_cased = lru_cache(maxsize=1 << 17)(fold_cased)
"""Token keys, memoized: the same words recur in every abstract."""


@lru_cache(maxsize=1 << 17)
def _singular_forms(word: str) -> tuple[str, ...]:
    """:func:`~lskg.ontology.labels.singular_forms`, memoized."""
    return tuple(singular_forms(word))


@lru_cache(maxsize=4)
def default_vocabulary() -> Vocabulary:
    from lskg.ontology import concept_index

    return Vocabulary.from_index(concept_index())


class VocabularyComponent:
    """Base of the components that match text against the ontology's vocabulary (built on first use, or given)."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        register_extensions()
        self._vocabulary = vocabulary

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = default_vocabulary()
        return self._vocabulary

    @vocabulary.setter
    def vocabulary(self, value: Vocabulary) -> None:
        self._vocabulary = value
        self._vocabulary_changed()

    def _vocabulary_changed(self) -> None:
        """Hook for components that derive state from the vocabulary."""


class FacetRuler(VocabularyComponent):

    def __call__(self, doc: Doc) -> Doc:
        found = mentions(doc)
        vocab = self.vocabulary
        prefixes, cased_prefixes = vocab.prefixes()
        tokens = token_table(doc)
        texts, punct, space = tokens.text, tokens.punct, tokens.space
        folded = [_fold(t) for t in texts]
        cased = [_fold_cased(t) for t in texts]
        i, n = 0, len(doc)
        while i < n:
            if punct[i] or space[i] or not (
                    folded[i] in prefixes or cased[i] in cased_prefixes
                    or any(_fold(f) in prefixes or _fold_cased(f) in cased_prefixes for f in _singular_forms(texts[i]))):
                i += 1
                continue
            best: tuple[int, list, bool] | None = None
            key = cased_key = ""
            for j in range(i, min(n, i + MAX_TOKENS)):
                if j > i and punct[j] and texts[j] not in INNER_PUNCT:
                    break  # "LSTM) network" is not "LSTM network"
                stem_key, stem_cased = key, cased_key
                key += folded[j]
                cased_key += cased[j]
                if not (punct[j] and texts[j] != "+") and not space[j]:
                    entries = vocab.lookup_keys(key, cased_key)
                    exact = bool(entries) and any(e.label == tokens.span_text(i, j + 1) for e in entries)
                    if not entries:
                        for singular in _singular_forms(texts[j]):
                            entries = vocab.lookup_keys(stem_key + _fold(singular), stem_cased + _fold_cased(singular))
                            if entries:
                                break
                    if entries:
                        best = (j + 1, entries, exact)
                if key not in prefixes and cased_key not in cased_prefixes:
                    break  # (a plural last word was already tried above)
            if best is None:
                i += 1
                continue
            end, entries, exact = best
            if all(e.concept.facet == "data" for e in entries) and end - i >= 2:
                shifted = self._longer_head(tokens, folded, cased, i, end)
                if shifted is not None:  # "airborne LiDAR DEM": a DEM (LiDAR DEM), not a LiDAR point cloud
                    i, (end, entries, exact) = shifted[0], shifted[1:]
            if end + 1 < n and texts[end] in {"-", "\u2010"} and TRIGGER.match(texts[end + 1]):
                entries = [e for e in entries if e.concept.facet != "data"]  # "rainfall-triggered": a trigger
            for entry in entries:
                found.append(Mention(i, end, entry.concept.facet, entry.concept.iri, entry.concept.pref_label,
                                     EXACT if exact else FOLDED, NAME, cues=[f"label:{entry.label}"]))
            if any(e.concept.facet == "task" for e in entries):
                self._nested_heads(tokens, folded, cased, i, end, entries, found)
            i = end
        return doc


    def _longer_head(self, tokens: TokenTable, folded: list[str], cased: list[str], i: int,
                     end: int) -> tuple[int, int, list, bool] | None:
        """The head of an English compound is its last word: when a data label starting inside the match runs
        past its end ("airborne [LiDAR DEM]"), that later label names the thing; the first word(s) modify it.
        Not for container heads (GENERIC_HEADS)."""
        n = len(tokens)
        punct = tokens.punct
        for k in range(i + 1, end):
            if punct[k]:
                continue
            key = cased_key = ""
            found = None
            for j in range(k, min(n, k + MAX_TOKENS)):
                if j > k and punct[j] and tokens.text[j] not in INNER_PUNCT:
                    break
                key += folded[j]
                cased_key += cased[j]
                if j >= end and not punct[j] and tokens.lower[j] not in GENERIC_HEADS:
                    entries = [e for e in self.vocabulary.lookup_keys(key, cased_key) if e.concept.facet == "data"]
                    if not entries:
                        for singular in singular_forms(tokens.text[j]):
                            entries = [e for e in self.vocabulary.lookup_keys(
                                key[: -len(folded[j])] + fold(singular),
                                cased_key[: -len(cased[j])] + fold_cased(singular)) if e.concept.facet == "data"]
                            if entries:
                                break
                    if entries:
                        found = (k, j + 1, entries, False)
                prefixes, cased_prefixes = self.vocabulary.prefixes()
                if key not in prefixes and cased_key not in cased_prefixes:
                    break
            if found is not None:
                return found
        return None

    def _nested_heads(self, tokens: TokenTable, folded: list[str], cased: list[str], i: int, end: int, entries: list,
                      found: list[Mention]) -> None:
        """A task label whose head (a final sub-phrase) is itself the label of a *narrower* task names that task
        too: "landslide segmentation" is landslide mapping done as (semantic) segmentation; the narrower concept
        wins in the facet lists. A sibling is not implied ("instance segmentation" is not semantic
        segmentation)."""
        seen = {e.concept.iri for e in entries}
        outer = {e.concept.iri for e in entries if e.concept.facet == "task"}
        index = self.vocabulary.index
        for k in range(i + 1, end):
            if tokens.punct[k]:
                continue
            key = "".join(folded[k:end])
            cased_key = "".join(cased[k:end])
            for entry in self.vocabulary.lookup_keys(key, cased_key):
                if entry.concept.facet == "task" and entry.concept.iri not in seen and \
                        outer & index.ancestors(entry.concept.iri):
                    seen.add(entry.concept.iri)
                    found.append(Mention(k, end, "task", entry.concept.iri, entry.concept.pref_label, FOLDED, NAME,
                                         cues=[f"label-head:{entry.label}"]))


@Language.factory(FACTORY)
def make_facet_ruler(nlp: Language, name: str) -> FacetRuler:
    return FacetRuler()


__all__ = ["FacetRuler", "default_vocabulary", "fold", "fold_cased"]
