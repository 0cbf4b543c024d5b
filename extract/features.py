"""What the decision stage knows about each candidate concept of a study: candidates and their features.

The rule components propose; this module gathers, per study, every concept they proposed on the four facets
(with every mention, in every role), adds the candidates that come from knowledge rather than from a label in the
text (a landslide type implied by a named trigger event of ``ontology/events.ttl``; a landslide inventory implied
by counted landslide samples; a factor named by a bare word in an enumeration of factors, mapped through the
ontology's own labels; the classical machine-learning family implied by a classical learner's name), and describes
each candidate by:

* **where** it is written: in the title, in an aim sentence ("we propose", "this study"), a method, result,
  background/motivation or outlook sentence; its first and last position; how many mentions and sentences;
* the **role** the rules gave each mention (proposed, applied, baseline, mentioned) and their cues (background,
  output, negation, future), which component found it and how confidently;
* **cue words** around the mentions (a window of words, as ``w:<word>`` features);
* the **concept** itself (``c:<name>``, so a learner can learn that "feature extraction" is rarely a study's task),
  its depth in the hierarchy, and whether a narrower or broader candidate of the same facet is also present;
* the **other concepts** of the study (``co:<facet>:<name>``);
* **gazetteer** hits: a linked trigger event implying the type, the event in the title, the driver of a reservoir
  (a water-level series) written beside it.

Features are a sparse ``dict[str, float]``; :mod:`lskg.extract.decision` turns them into a decision with weights
trained by :mod:`lskg.extract.learn`. Nothing here changes what the rules found.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lskg.extract import startup  # noqa: F401 - first: spaCy without torch

# isort: split
from spacy.tokens import Doc

from lskg.extract.components.tokens import token_table
from lskg.extract.document import Document, Passage
from lskg.extract.events import EventLinker
from lskg.extract.mentions import mentions
from lskg.ontology import ConceptIndex
from lskg.ontology.labels import singular_forms
from lskg.records import Facet, Fact, Role

FACETS = ("model", "data", "landslide_type", "task")

# sentence kinds: closed lists of function words and discourse cues (never concept names), matched as word sets and
# phrases (a set lookup per sentence is far cheaper than a pattern per kind)
THIS_STUDY_WORDS = frozenset({"we", "our", "here", "herein", "authors", "author"})
THIS_STUDY_PHRASES = ("this study", "this paper", "this work", "this article", "this research", "this letter",
                      "the present study", "the current study", "in this study", "the proposed method",
                      "the proposed model", "the proposed approach")
AIM_PREFIXES = ("propos", "present", "develop", "introduc", "design", "build", "construct", "aim", "investigat",
                "explor", "appl", "employ", "evaluat", "assess", "examin", "use", "util", "focus", "address",
                "tackl", "creat", "establish", "test")
AIM_WORDS = frozenset({"objective", "objectives", "purpose", "goal", "goals"})
AIM_PHRASES = ("aims to", "aim to", "aims at", "aimed to", "aimed at", "is proposed", "are proposed", "was proposed",
               "were proposed", "put forward", "puts forward")
METHOD_WORDS = frozenset({"using", "used", "input", "inputs", "trained", "training", "train", "dataset", "datasets",
                          "collected", "derived", "extracted", "fed", "feed", "feeds", "firstly", "first", "then",
                          "next", "finally", "subsequently", "step", "steps", "module", "framework", "architecture",
                          "layer", "layers", "encoder", "decoder"})
METHOD_PREFIXES = ("consist", "compris", "combin", "integrat", "employ", "adopt", "implement")
METHOD_PHRASES = ("based on", "data were", "data was", "data are", "data is")
RESULT_WORDS = frozenset({"result", "results", "show", "shows", "showed", "shown", "accuracy", "precision", "recall",
                          "f1", "auc", "rmse", "mae", "higher", "lower", "better", "best", "superior", "percent"})
RESULT_PREFIXES = ("indicat", "demonstrat", "reveal", "achiev", "outperform", "reach", "improv", "exceed")
BACKGROUND_WORDS = frozenset({"however", "although", "though", "traditional", "conventional", "existing", "previous",
                              "previously", "widely", "commonly", "often", "usually", "recently", "increasingly",
                              "pose", "poses", "posed", "serious", "severe", "important", "crucial", "critical",
                              "essential", "difficult", "limited", "limitation", "limitations", "still", "costly",
                              "damage", "losses", "lives"})
BACKGROUND_PREFIXES = ("challeng", "threat", "lack", "remain", "casualt")
BACKGROUND_PHRASES = ("has been", "have been", "in recent years", "time-consuming", "labour-intensive",
                      "labor-intensive", "hazard to", "hazards to")
OUTLOOK_WORDS = frozenset({"future", "could", "may", "might", "would", "useful", "valuable", "promising",
                           "conclude", "concluded", "conclusion", "conclusions"})
OUTLOOK_PHRASES = ("can be", "can provide", "can support", "can help", "can serve", "potential for", "potential to",
                   "a reference", "a basis", "provides support", "provide support")
KINDS = ("title", "aim", "method", "result", "background", "outlook")
FRONT_KINDS = frozenset({"title", "aim"})
KIND_FEATURES = tuple((kind, f"kind:{kind}", f"share:{kind}") for kind in KINDS)
WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")
STOP = frozenset("""a an the of and or to in on for with by from as at is are was were be been being this that these
those it its their there which who whom whose into than then also such can could may might will would has have had
not no but if so we our they them via per each both more most other""".split())
WINDOW = 5
ROLES = ("proposed", "applied", "baseline", "mentioned")
ROLE_FEATURES = tuple((role, f"role:{role}", f"role_share:{role}") for role in ROLES)
COMPONENTS = ("facet_ruler", "paraphrases", "abbreviations", "candidates")

# knowledge-implied candidates
INVENTORY_CUE = re.compile(
    r"\b(?:\d[\d,.\s]*\d|\d+|hundreds?|thousands?|several|many)\s+(?:(?:historical|recorded|mapped|documented|past|"
    r"known|existing|interpreted|identified|observed|shallow|large|small|rainfall[- ]induced|earthquake[- ]"
    r"(?:induced|triggered)|co-?seismic|landslide)\s+){0,3}(?:landslides?|landslide (?:events?|points?|samples?|"
    r"locations?|polygons?|sites?|scars?|records?|cases?|occurrences?)|slope failures?|debris flows?|mudslides?|"
    r"rockfalls?)\b"
    r"|\b(?:landslide|historical) (?:samples?|points?|locations?|occurrences?|records?|polygons?|events? (?:data|"
    r"records?))\b|\b(?:past|historical|previous(?:ly)? (?:recorded|mapped)) (?:landslides?|landslide occurrences?|"
    r"slope failures?)\b|\binventor(?:y|ies)\b", re.IGNORECASE)
INVENTORY_IRI_NAME = "LandslideInventory"
CLASSICAL_CUE = re.compile(
    r"\b(?:(?:random|rotation|decision|functional|regression|boosted|pruning|model|logistic model|alternating "
    r"decision) trees?|(?:random|rotation|isolation) forests?|(?:logistic|linear|kernel|ridge|lasso|polynomial|"
    r"multivariate adaptive) regression|S?ARIMA|Bayesian (?:network|model|classifier)s?|k-?means|DBSCAN|"
    r"k-?nearest neighbou?rs?|kNN|support vector (?:machine|regression)s?|SVR|RVM|relevance vector machines?|"
    r"naive Bayes|gradient boosting|AdaBoost|LightGBM|CatBoost|bagging|dagging|stacking ensemble|super learner|"
    r"generali[sz]ed additive models?|conditional random fields?|(?:BP|back-?propagation|shallow|feed-?forward) "
    r"neural networks?|extreme learning machines?|Gaussian process(?:es| regression)?|certainty factor|"
    r"frequency ratio|information value|weights of evidence|analytic hierarchy process|multi-criteria)\b",
    re.IGNORECASE)

"""Words of classical (non-deep) learners that the ontology may not name: a family candidate, decided by the
model (the annotation guideline counts every learner a study runs, including classical ones)."""
CLASSICAL_FAMILY = "ClassicalML"
CLASSICAL_ANCHORS = tuple(frozenset(words.split()) for words in (
    "tree", "trees", "forest", "forests", "regression", "arima", "sarima", "bayesian", "kmeans", "k means", "dbscan",
    "nearest", "knn", "vector", "svr", "rvm", "naive", "boosting", "adaboost", "lightgbm", "catboost", "bagging",
    "dagging", "stacking", "learner", "additive", "random field", "random fields", "bp neural", "backpropagation",
    "back propagation", "shallow neural", "feed forward", "feedforward", "extreme learning", "gaussian",
    "certainty", "frequency ratio", "information value", "weights evidence", "analytic", "criteria"))
"""Word sets one of which a text must contain for the classical-learner pattern to be worth running."""
FACTOR_SENTENCE = re.compile(r"\b(?:factors?|variables?|parameters?|indicators?|layers?|predictors?|conditions?|"
                             r"attributes?|indices|inputs?)\b", re.IGNORECASE)
FACTOR_ROOTS = ("ConditioningFactor", "TopographicData")
"""Concepts under these are the factors a factor list names by a bare word ("slope, aspect, distance to roads")."""
FACTOR_LIST_MIN = 3
"""An enumeration naming this many distinct factors is a factor list even without a word such as "factors"."""
LETTERS = re.compile(r"[A-Za-z]+")
LIST_ITEM = re.compile(r"[^,;:()]+")
LIST_CONJUNCTION = re.compile(r"\s(?:and|or|as well as)\s", re.IGNORECASE)
LIST_LEAD = re.compile(r"^\s*(?:including|such as|e\.g\.|the)\s+", re.IGNORECASE)
GENERAL_WORDS = frozenset({"map", "data", "index", "factor", "unit", "model", "distance", "proximity", "record",
                           "layer", "value", "type", "class", "landslide", "digital", "multi", "high", "local",
                           "relative", "mean", "average", "annual", "satellite", "source", "terrain", "normalized",
                           "normalised", "plan", "profile", "compound", "derived", "conditioning", "influencing",
                           "environmental", "evaluation", "causative", "predisposing", "engineering", "geological",
                           "surface", "group", "fractional", "hill", "shade", "shaded"})
DRIVER_CUE = {
    "ReservoirInducedLandslide": re.compile(r"\b(?:reservoir (?:water )?levels?|water[- ]levels?|impoundment|"
                                            r"drawdown|reservoir operation|fluctuat\w*)\b", re.IGNORECASE),
    "EarthquakeInducedLandslide": re.compile(r"\b(?:earthquakes?|co-?seismic|seismic\w*|post-?seismic)\b",
                                             re.IGNORECASE),
    "TyphoonInducedLandslide": re.compile(r"\b(?:typhoons?|hurricanes?|cyclones?|storms?)\b", re.IGNORECASE),
    "RainfallInducedLandslide": re.compile(r"\b(?:rain\w*|precipitation|storms?|floods?)\b", re.IGNORECASE),
    "MiningInducedLandslide": re.compile(r"\b(?:min(?:e|es|ing)|open[- ]pit|excavat\w*|goaf|blasting)\b",
                                         re.IGNORECASE),
}


@dataclass(frozen=True)
class Sentence:
    """One sentence a study was read from: its order, text and kinds."""

    index: int
    text: str
    kinds: frozenset[str]
    words: frozenset[str] = frozenset()


@dataclass
class Occurrence:
    """One mention of a candidate concept."""

    sentence: Sentence
    role: Role
    cues: tuple[str, ...]
    extractor: str
    confidence: float
    window: tuple[str, ...]
    passage: Passage
    doc: Doc
    start_char: int
    end_char: int
    full_sentence: str = ""
    """The whole sentence of the Doc around the mention (for Evidence; a review's scope may be narrower)."""


@dataclass
class Candidate:
    """A concept proposed for a study on one facet, with everything known about it."""

    facet: Facet
    concept: str
    label: str
    candidate: bool = False
    broader: tuple[str, ...] = ()
    occurrences: list[Occurrence] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    """What proposed it: ``rules``, ``event`` (a linked trigger event), ``inventory`` (counted landslides)."""
    fact: Fact | None = None
    """The rules' merged fact (strongest role, best evidence), when the rules proposed it."""
    events: list[tuple[str, Occurrence]] = field(default_factory=list)
    """(event IRI, its mention) for the trigger events that imply this landslide type."""

    @property
    def key(self) -> tuple[str, str]:
        return self.facet, self.concept


@dataclass
class StudyView:
    """A study as the decision stage sees it: its sentences and candidates."""

    document: Document
    sentences: list[Sentence]
    candidates: dict[tuple[str, str], Candidate]
    text: str
    _shared: dict[str, Any] | None = field(default=None, repr=False)

    def shared(self, index: ConceptIndex) -> dict[str, Any]:
        """What every candidate's features share, computed once per study: the other concepts the study uses
        (``co:`` feature names by candidate), candidates per facet, the title in lower case, and per facet the
        candidate concepts of the ontology and how many of them each concept is above (an ancestor of)."""
        if self._shared is None:
            co = {}
            for k in self.candidates.values():
                if not k.candidate and k.concept in index.concepts and (
                        not k.occurrences or any(o.role != "mentioned" for o in k.occurrences)):
                    co[k.key] = f"co:{k.facet}:{_local(k.concept)}"
            per_facet: dict[str, int] = {}
            for k in self.candidates.values():
                per_facet[k.facet] = per_facet.get(k.facet, 0) + 1
            concepts: dict[str, set[str]] = {f: set() for f in per_facet}
            narrower_count: dict[str, Counter[str]] = {f: Counter() for f in per_facet}
            for k in self.candidates.values():
                if k.concept in index.concepts:
                    concepts[k.facet].add(k.concept)
                    narrower_count[k.facet].update(_ancestors(index, k.concept))
            title = self.sentences[0].text if self.sentences and "title" in self.sentences[0].kinds else ""
            self._shared = {"co": co, "per_facet": {f: _log(n) for f, n in per_facet.items()}, "title": title,
                            "title_lower": title.lower(), "concepts": concepts, "narrower_count": narrower_count}
        return self._shared


def _phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """Any of ``phrases`` as a substring: one search instead of a test per phrase."""
    return re.compile("|".join(map(re.escape, phrases)))


def _prefixes(prefixes: Iterable[str]) -> re.Pattern[str]:
    """A word starting with one of ``prefixes``, searched in the words joined by spaces after a space."""
    return re.compile(" (?:" + "|".join(map(re.escape, prefixes)) + ")")


THIS_STUDY = _phrases(THIS_STUDY_PHRASES)
AIM = _phrases(AIM_PHRASES)
METHOD = _phrases(METHOD_PHRASES)
BACKGROUND = _phrases(BACKGROUND_PHRASES)
OUTLOOK = _phrases(OUTLOOK_PHRASES)
AIM_PREFIX = _prefixes(AIM_PREFIXES)
METHOD_PREFIX = _prefixes(METHOD_PREFIXES)
RESULT_PREFIX = _prefixes(RESULT_PREFIXES)
BACKGROUND_PREFIX = _prefixes(BACKGROUND_PREFIXES)


def sentence_words(text: str) -> frozenset[str]:
    """The lower-cased words of a sentence (``Sentence.words``; what its kinds are judged on)."""
    return frozenset(WORD.findall(text.lower()))


def sentence_kinds(text: str, is_title: bool, words: frozenset[str] | None = None) -> frozenset[str]:
    """The discourse kinds of a sentence (``words``: its :func:`sentence_words`, when already at hand)."""
    lower = text.lower()
    if words is None:
        words = sentence_words(text)
    joined = " " + " ".join(words)  # a word starts after each space: one search per prefix list
    this_study = not words.isdisjoint(THIS_STUDY_WORDS) or THIS_STUDY.search(lower) is not None
    kinds = set()
    if is_title:
        kinds.add("title")
    if (this_study and AIM_PREFIX.search(joined)) or not words.isdisjoint(AIM_WORDS) or AIM.search(lower):
        kinds.add("aim")
    if not words.isdisjoint(METHOD_WORDS) or METHOD_PREFIX.search(joined) or METHOD.search(lower):
        kinds.add("method")
    if not words.isdisjoint(RESULT_WORDS) or "%" in text or RESULT_PREFIX.search(joined):
        kinds.add("result")
    if not this_study and (not words.isdisjoint(BACKGROUND_WORDS) or BACKGROUND_PREFIX.search(joined)
                           or BACKGROUND.search(lower)):
        kinds.add("background")
    if not words.isdisjoint(OUTLOOK_WORDS) or OUTLOOK.search(lower):
        kinds.add("outlook")
    return frozenset(kinds)


class _Reading:
    """One passage's Doc with its tokens' offsets and sentences as plain lists, read once (``Doc.sents``,
    ``Doc.text`` and token objects are costly to make again and again)."""

    def __init__(self, passage: Passage, doc: Doc) -> None:
        self.passage = passage
        self.doc = doc
        self.tokens = token_table(doc)  # (read by the rule components already)
        self.text = self.tokens.doc_text
        self.idx: list[int] = self.tokens.idx
        self.end_char = self.tokens.end_char
        self.spans = [(a, b, self.idx[a], self.end_char(b - 1)) for a, b in self.tokens.sentences()]
        self.token_starts = [a for a, _, _, _ in self.spans]
        self.by_start: dict[int, Sentence] = {}
        self._words: set[str] | None = None
        self._lower: str | None = None

    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def words(self) -> set[str]:
        """The lower-cased words of the passage (for cheap checks before a costly pattern)."""
        if self._words is None:
            self._words = set(re.findall(r"[a-z]+", self.lower()))
        return self._words

    def sentence_of_token(self, i: int) -> tuple[int, int, int, int]:
        return self.spans[max(0, bisect.bisect_right(self.token_starts, i) - 1)]

    def sentence_text(self, token: int) -> str:
        _, _, start_char, end_char = self.sentence_of_token(token)
        return self.text[start_char:end_char]

    def window(self, start: int, end: int) -> tuple[str, ...]:
        """Content words among the ``WINDOW`` tokens either side of tokens ``start:end``, in its sentence."""
        sent_start, sent_end, _, _ = self.sentence_of_token(start)
        lo = self.idx[max(sent_start, start - WINDOW)]
        hi = self.end_char(min(sent_end, end + WINDOW) - 1)
        around = self.text[lo:self.idx[start]] + " " + self.text[self.end_char(end - 1):hi]
        return tuple(w for w in WORD.findall(around.lower()) if w not in STOP and not w[0].isdigit())

    def occurrence_at(self, start: int, end: int, extractor: str) -> Occurrence | None:
        """An occurrence at characters ``start:end`` (a knowledge-implied candidate's mention)."""
        if not self.passage.in_scope(start, end) or not self.idx:
            return None
        first = max(0, bisect.bisect_right(self.idx, start) - 1)
        last = max(first + 1, bisect.bisect_left(self.idx, end))
        sentence = self.by_start.get(self.sentence_of_token(first)[0])
        if sentence is None:
            return None
        return Occurrence(sentence, "applied", (), extractor, 0.5, self.window(first, last), self.passage, self.doc,
                          start, end, self.sentence_text(first))


def _lowered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern over lower-cased text, without IGNORECASE (several times faster on long alternations):
    letters are lower-cased except right after a backslash (``\\b``, ``\\d`` keep their meaning)."""
    source = re.sub(r"(?<!\\)[A-Z]", lambda m: m.group(0).lower(), pattern.pattern)
    return re.compile(source, pattern.flags & ~re.IGNORECASE)


def _finditer(pattern: re.Pattern[str], reading: _Reading) -> Iterator[re.Match[str]]:
    """``pattern.finditer`` over the passage, on its lower-cased text when that keeps every offset."""
    lower = reading.lower()
    if len(lower) != len(reading.text):
        return pattern.finditer(reading.text)
    return _LOWERED.setdefault(pattern, _lowered(pattern)).finditer(lower)


_LOWERED: dict[re.Pattern[str], re.Pattern[str]] = {}


def study_view(document: Document, read: Sequence[tuple[Passage, Doc]], merged: Sequence[Fact],
               index: ConceptIndex, linker: EventLinker | None = None) -> StudyView:
    """The sentences and candidates of one study: every in-scope mention the rules made in the passages read
    (``merged``: the rules' facts, one per concept), plus knowledge-implied candidates."""
    sentences: list[Sentence] = []
    candidates: dict[tuple[str, str], Candidate] = {}
    best: dict[tuple[str, str], Fact] = {(f.facet, f.concept): f for f in merged}
    texts = []
    for passage, doc in read:
        reading = _Reading(passage, doc)
        title_end = doc._.lskg_title_end
        for sent_start, _, start_char, end_char in reading.spans:
            if passage.scope is not None and (end_char <= passage.scope[0] or start_char >= passage.scope[1]):
                continue
            lo, hi = (start_char, end_char) if passage.scope is None else (max(start_char, passage.scope[0]),
                                                                          min(end_char, passage.scope[1]))
            text = reading.text[lo:hi].strip()
            is_title = title_end is not None and start_char == 0 and end_char <= title_end
            words = sentence_words(text)
            s = Sentence(len(sentences), text, sentence_kinds(text, is_title, words), words)
            sentences.append(s)
            reading.by_start[sent_start] = s
            texts.append(text)
        for m in mentions(doc):
            start_char, end_char = reading.idx[m.start], reading.end_char(m.end - 1)
            if not passage.in_scope(start_char, end_char):
                continue
            sentence = reading.by_start.get(reading.sentence_of_token(m.start)[0])
            if sentence is None:
                continue
            c = candidates.get((m.facet, m.concept))
            if c is None:
                c = candidates[(m.facet, m.concept)] = Candidate(m.facet, m.concept, m.label, m.candidate,
                                                                 tuple(m.broader), fact=best.get((m.facet, m.concept)))
            c.sources.add("rules")
            c.occurrences.append(Occurrence(sentence, m.role, tuple(m.cues), m.extractor, m.confidence,
                                            reading.window(m.start, m.end), passage, doc, start_char, end_char))
        if linker is not None:
            _link_events(reading, linker, index, candidates)
        _inventory(reading, index, candidates)
        _factor_lists(reading, index, candidates)
        _family_cues(reading, index, candidates)
    return StudyView(document, sentences, candidates, " ".join(texts))


def _implied(candidates: dict[tuple[str, str], Candidate], facet: Facet, iri: str, index: ConceptIndex, source: str,
             occurrence: Occurrence) -> None:
    c = candidates.get((facet, iri))
    if c is None:
        c = candidates[(facet, iri)] = Candidate(facet, iri, index.label(iri))
    c.sources.add(source)
    c.events.append((source, occurrence))


def _link_events(reading: _Reading, linker: EventLinker, index: ConceptIndex,
                 candidates: dict[tuple[str, str], Candidate]) -> None:
    from lskg.extract.events import NAME

    for hit in linker.link(reading.text):
        occurrence = reading.occurrence_at(hit.start, hit.end, NAME)
        iri = hit.event.trigger_type
        if occurrence is None or iri not in index.concepts:
            continue
        c = candidates.get(("landslide_type", iri))
        if c is None:
            c = candidates[("landslide_type", iri)] = Candidate("landslide_type", iri, index.label(iri))
        c.sources.add("event")
        c.events.append((hit.event.iri, occurrence))


@functools.lru_cache(maxsize=16)
def _concept_named(index: ConceptIndex, facet: Facet, local_name: str) -> str | None:
    return next((c.iri for c in index.facet(facet) if c.local_name == local_name), None)


def _inventory(reading: _Reading, index: ConceptIndex, candidates: dict[tuple[str, str], Candidate]) -> None:
    iri = _concept_named(index, "data", INVENTORY_IRI_NAME)
    if iri is None:
        return
    for m in _finditer(INVENTORY_CUE, reading):
        occurrence = reading.occurrence_at(m.start(), m.end(), "lskg.decision.v1")
        if occurrence is not None:
            _implied(candidates, "data", iri, index, "inventory", occurrence)


@functools.lru_cache(maxsize=4)
def factor_words(index: ConceptIndex) -> dict[str, str]:
    """Bare words of factor lists -> the factor concept whose labels use the word most ("slope" -> slope angle,
    "aspect" -> slope aspect, "roads" -> distance to road): derived from the ontology's labels, not listed."""
    roots = {c.iri for c in index.concepts.values() if c.local_name in FACTOR_ROOTS}
    factors = [c for c in index.facet("data") if c.iri in roots or index.ancestors(c.iri) & roots]
    counts: dict[str, dict[str, int]] = {}
    for concept in factors:
        for label in concept.labels:
            words = re.findall(r"[a-z]+", label.lower())
            if not 1 <= len(words) <= 3:
                continue
            for word in {words[0], words[-1]} - GENERAL_WORDS:
                if len(word) > 3:
                    counts.setdefault(word, {}).setdefault(concept.iri, 0)
                    counts[word][concept.iri] += 1
    out = {}
    for word, by_concept in counts.items():
        ranked = sorted(by_concept.items(), key=lambda kv: -kv[1])
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            out[word] = ranked[0][0]
    return out


@functools.lru_cache(maxsize=65536)
def _factor_of(index: ConceptIndex, word: str) -> str | None:
    """The factor concept a bare word (lower case) names, itself or as a plural (:func:`factor_words`)."""
    words = factor_words(index)
    return next((words[f] for f in (word, *singular_forms(word)) if f in words), None)


def _factor_lists(reading: _Reading, index: ConceptIndex, candidates: dict[tuple[str, str], Candidate]) -> None:
    """Factors named by a bare word in an enumeration of a sentence about factors or variables, or in an
    enumeration of at least ``FACTOR_LIST_MIN`` distinct factors ("elevation, slope, aspect and lithology")."""
    text_all = reading.text
    for _, _, sent_start, sent_end in reading.spans:
        text = text_all[sent_start:sent_end]
        if text.count(",") < 2:
            continue
        # where the sentence's words that name a factor start: a list item without one yields no hit
        named = [m.start() for m in LETTERS.finditer(text) if _factor_of(index, m.group(0).lower())]
        if not named:
            continue
        hits: list[tuple[str, int, int]] = []
        for item in LIST_ITEM.finditer(text):
            if not _any_between(named, item.start(), item.end()):
                continue
            for piece_start, piece, place in _list_pieces(item.group(0), first_item=item.start() == 0):
                tokens = LETTERS.findall(LIST_LEAD.sub("", piece.strip()))
                if len(tokens) > 3 and place == "lead-in":
                    tokens = tokens[-1:]  # the list's first item ends its lead-in ("factors considered were slope")
                elif len(tokens) > 3 and place == "last":
                    tokens = tokens[:1]  # the last item starts the clause after the list ("and lithology were used")
                if not 1 <= len(tokens) <= 3:
                    continue
                for token in tokens:
                    iri = _factor_of(index, token.lower())
                    if iri is None:
                        continue
                    start = sent_start + item.start() + piece_start + piece.find(token)
                    hits.append((iri, start, start + len(token)))
        if not FACTOR_SENTENCE.search(text) and len({iri for iri, _, _ in hits}) < FACTOR_LIST_MIN:
            continue
        for iri, start, end in hits:
            occurrence = reading.occurrence_at(start, end, "lskg.decision.v1")
            if occurrence is not None:
                _implied(candidates, "data", iri, index, "factor_list", occurrence)


def _any_between(sorted_offsets: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(sorted_offsets, start)
    return i < len(sorted_offsets) and sorted_offsets[i] < end


def _list_pieces(item: str, *, first_item: bool) -> list[tuple[int, str, str]]:
    """An enumeration item split at "and"/"or": (offset, text, place), place ``lead-in`` for the first piece of the
    sentence's first item, ``last`` for a piece after a conjunction, ``item`` otherwise."""
    pieces: list[tuple[int, str, str]] = []
    pos = 0
    for m in LIST_CONJUNCTION.finditer(item):
        pieces.append((pos, item[pos:m.start()], "lead-in" if first_item and not pieces else "item"))
        pos = m.end()
    pieces.append((pos, item[pos:], "last" if pieces else ("lead-in" if first_item else "item")))
    return pieces


def _family_cues(reading: _Reading, index: ConceptIndex, candidates: dict[tuple[str, str], Candidate]) -> None:
    iri = _concept_named(index, "model", CLASSICAL_FAMILY)
    if iri is None:
        return
    words = reading.words()
    if not any(anchor <= words for anchor in CLASSICAL_ANCHORS):
        return
    for m in _finditer(CLASSICAL_CUE, reading):
        occurrence = reading.occurrence_at(m.start(), m.end(), "lskg.decision.v1")
        if occurrence is not None:
            _implied(candidates, "model", iri, index, "family_cue", occurrence)


def _log(n: float) -> float:
    return math.log1p(n) / math.log(10)


def features(c: Candidate, view: StudyView, index: ConceptIndex) -> dict[str, float]:
    """The sparse feature vector of one candidate (names -> values; the order of the names is part of it, as a
    linear score sums the weights in that order)."""
    f: dict[str, float] = {"bias": 1.0}
    n_sent = max(1, len(view.sentences))
    occ = c.occurrences
    hits = occ + [o for _, o in c.events] if c.events else occ
    f["n_mentions"] = _log(len(occ))
    f["n_sentences"] = _log(len({o.sentence.index for o in occ}))
    f["rules"] = float("rules" in c.sources)
    f["only_knowledge"] = float("rules" not in c.sources)
    if hits:
        positions = [o.sentence.index for o in hits]
        first, last = min(positions), max(positions)
        f["first_pos"] = first / n_sent
        f["last_pos"] = last / n_sent
        f["in_first_sentences"] = float(first <= 1)
        f["in_last_sentence"] = float(last == n_sent - 1)
        kinds = [o.sentence.kinds for o in hits]
        for kind, name, share in KIND_FEATURES:
            n = sum([kind in k for k in kinds])
            if n:
                f[name] = 1.0
                f[share] = n / len(hits)
        if all("background" in k and not (k & FRONT_KINDS) for k in kinds):
            f["only_background"] = 1.0
    roles: list[str] = [o.role for o in occ]
    for role, name, share in ROLE_FEATURES:
        n = roles.count(role)
        if n:
            f[name] = 1.0
            f[share] = n / len(occ)
    if occ and roles.count("mentioned") == len(occ):
        f["all_mentioned"] = 1.0
    for o in occ:
        for cue in o.cues:
            f[_cue_feature(cue)] = 1.0
        component = _component(o.extractor)
        if component in COMPONENTS:
            f[f"by:{component}"] = 1.0
    if occ:
        f["max_confidence"] = max(o.confidence for o in occ)
    f.update(dict.fromkeys([f"w:{w}" for o in hits for w in o.window], 1.0))
    shared = view.shared(index)
    # the concept and its place in the hierarchy
    if c.candidate:
        f["candidate"] = 1.0
        f["c:candidate"] = 1.0
    elif c.concept in index.concepts:
        concept = index.get(c.concept)
        ancestors = _ancestors(index, c.concept)
        # the concept and every concept above it: a concept rare in the training gold inherits what its kin learnt
        f.update(dict.fromkeys([f"c:{_local(a)}" for a in (c.concept, *sorted(ancestors))], 1.0))
        f["depth"] = min(3, _depth(index, c.concept)) / 3
        below = shared["narrower_count"][c.facet].get(c.concept, 0) - (c.concept in ancestors)
        if below > 0:
            f["has_narrower"] = 1.0
        above = ancestors & shared["concepts"][c.facet]
        if above and (len(above) > 1 or c.concept not in above):
            f["has_broader"] = 1.0
        title, title_lower = shared["title"], shared["title_lower"]
        f["title_label"] = float(bool(title) and any(lower in title_lower and _folded_in(label, title)
                                                     for label, lower in _labels(index, c.concept)))
        f["definition_overlap"] = _overlap(_definition_words(concept.definition), [o.sentence.words for o in hits])
    f["n_facet_candidates"] = shared["per_facet"][c.facet]
    own = c.key
    f.update({name: 1.0 for key, name in shared["co"].items() if key != own})
    # gazetteer and knowledge-implied candidates
    if c.events:
        f["event"] = 1.0
        f["n_events"] = _log(len(c.events))
        f["event_in_title"] = float(any("title" in o.sentence.kinds for _, o in c.events))
        f["event_in_aim"] = float(any("aim" in o.sentence.kinds for _, o in c.events))
        f["source:" + "+".join(sorted(c.sources))] = 1.0
    if c.concept in index.concepts:
        driver = DRIVER_CUE.get(index.get(c.concept).local_name)
        if driver is not None:
            f["driver_in_text"] = float(bool(driver.search(view.text)))
            f["driver_in_event_sentences"] = float(any(driver.search(o.sentence.text) for _, o in c.events))
    return f


@functools.lru_cache(maxsize=8192)
def _labels(index: ConceptIndex, iri: str) -> tuple[tuple[str, str], ...]:
    """A concept's labels, each with its lower-case form."""
    return tuple((label, label.lower()) for label in index.get(iri).labels)


@functools.lru_cache(maxsize=1024)
def _cue_feature(cue: str) -> str:
    """``cue:<role>:<first word of the cue>`` (``baseline:outperform ...`` -> ``cue:baseline:outperform``)."""
    kind = cue.split(":", 1)[-1].split(" ", 1)[0]
    return f"cue:{cue.split(':', 1)[0]}:{kind}"


@functools.lru_cache(maxsize=64)
def _component(extractor: str) -> str:
    """The component of an extractor name (``lskg.facet_ruler.v1`` -> ``facet_ruler``)."""
    return extractor.split(".")[1] if extractor.count(".") >= 2 else extractor


@functools.lru_cache(maxsize=8192)
def _ancestors(index: ConceptIndex, iri: str) -> frozenset[str]:
    return frozenset(index.ancestors(iri))


@functools.lru_cache(maxsize=8192)
def _depth(index: ConceptIndex, iri: str) -> int:
    return index.depth(iri)


@functools.lru_cache(maxsize=4096)
def _label_pattern(label: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])", re.IGNORECASE)


def _folded_in(label: str, text: str) -> bool:
    return bool(_label_pattern(label).search(text))


@functools.lru_cache(maxsize=4096)
def _definition_words(definition: str) -> frozenset[str]:
    return frozenset(w for w in WORD.findall(definition.lower()) if w not in STOP and len(w) > 3)


@functools.lru_cache(maxsize=8192)
def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _overlap(definition: frozenset[str], sentences: Iterable[frozenset[str]]) -> float:
    """The share of a definition's content words found in the mention sentences."""
    if not definition:
        return 0.0
    return len(definition & frozenset().union(*sentences)) / len(definition)
