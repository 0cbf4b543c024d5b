"""``lskg.paraphrases.v1``: concepts written as clauses rather than as their labels.

Generated from the ontology's labels, not from lists of concepts:

* a task label "<object words> <nominalisation>" ("landslide detection", "displacement forecasting") also matches
  its verbal and prepositional forms: "detect(ed|ing) ... landslides", "landslides were detected", "forecasts
  GNSS displacement", "mapping of landslides" (the verb stem is derived from the nominalisation: -ification ->
  -if, -ation/-ion -> stem, -ing/-ment -> stem);
* a landslide-type label "<trigger>-induced/-triggered landslide" also matches "landslides/slope failures
  triggered by the 2018 Iburi earthquake", "debris flows set off by rain" and, in a sentence about landslides,
  "rainfall thresholds", "precipitation as trigger" and "rainfall-induced" with no head noun after it;
* a data label "distance to <object>" also matches its object as an item of a list after one "distance(s)
  to/from" or "proximity to": "distances to the river and to the road".

Confidence 0.75 (a paraphrase is less certain than a label).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.facet_ruler import VocabularyComponent
from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.mentions import Mention, mentions
from lskg.extract.vocabulary import Vocabulary
from lskg.ontology.labels import fold, singular_forms

NAME = "lskg.paraphrases.v1"
FACTORY = "lskg_paraphrases_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
CONFIDENCE = 0.75
IMPLIED = 0.5
SERIES_HEADS = frozenset({"data", "series"})
SeriesTables = tuple[dict[str, list[tuple[str, str]]], dict[str, set[str]], dict[str, str]]
"""(prediction task -> [(implied data concept, quantity key)], quantity key -> data concepts that measure it,
data source -> the series concept of its technique)."""
WINDOW = 4
FUNCTION_WORDS = frozenset({"of", "the", "a", "an", "and", "or", "for", "in", "on", "by", "with", "to", "based"})
NOMINAL = [("ification", "if"), ("isation", "is"), ("ization", "iz"), ("ation", ""), ("tion", "t"), ("sion", "s"),
           ("ment", ""), ("ing", "")]
MANNER = frozenset({"level", "wise", "by"})
"""Manner words of a modifier ("pixel-level", "pixel-wise"): "pixel-level classification" is also "classify each
pixel"."""
AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "then", "also", "automatically",
                         "accurately", "successfully", "first"})
TRIGGER_LABEL = re.compile(r"^(?P<trigger>.+?)[- ](?:induced|triggered) landslide$", re.IGNORECASE)
TRIGGER_VERB = re.compile(r"^(?:induced|triggered|caused|initiated|activated|reactivated|produced|provoked|generated)$",
                          re.IGNORECASE)
TRIGGER_NOUN = frozenset({"trigger", "triggers"})
"""A trigger word before "as (the main) trigger" in a sentence about landslides ("precipitation as trigger for
shallow landslides") names the trigger."""
HYPHEN_TRIGGER = frozenset({"induced", "triggered"})
"""A trigger word before "-induced"/"-triggered" in a sentence about landslides names the trigger even where no
head noun follows ("in two scenes, one earthquake-induced and one rainfall-induced")."""
PHRASAL_TRIGGER = frozenset({("set", "off"), ("sets", "off"), ("brought", "on")})
"""Two-word trigger verbs before "by" ("debris flows set off by rain")."""
FAILURE_WORD = re.compile(r"^(?:landslid\w*|slides?|failures?|slumps?|collapses?|instability|instabilities|"
                          r"slopes?|movements?|mass|debris|rockfalls?)$", re.IGNORECASE)
LANDSLIDE_HEAD = re.compile(r"^(?:landslides?|slides?|slope failures?|failures?)$", re.IGNORECASE)
"""Head words a landslide-type modifier may attach to ("shallow coseismic slides")."""
AS_TRIGGER = re.compile(r"^(?:(?:was|were|is|are|being)\s+)?(?:(?:reported|identified|considered|named|given|"
                        r"recorded|listed)\s+)?(?:as|was|were|is|are)\s+(?:the\s+|a\s+)?(?:main\s+|primary\s+|dominant\s+|"
                        r"major\s+)?(?:triggers?|causes?)\b(?![- ](?:variables?|factors?|features?|inputs?))", re.IGNORECASE)
"""A data word as the complement of "trigger" ("rainfall was reported as the trigger") names a cause, not data."""
AFTER_TRIGGER = re.compile(r"^(?:after|following|during)$", re.IGNORECASE)
THRESHOLD = frozenset({"threshold", "thresholds"})
"""A trigger word before "threshold" in a sentence about landslides ("rainfall thresholds for landslide
initiation") names the trigger: a threshold is the amount of that trigger at which slopes fail."""
DISTANCE_LABEL = re.compile(r"^(?:distance|proximity) (?:to|from) (?P<object>[a-z]+(?: [a-z]+)?)$")
"""A distance factor label ("distance to river"): its object may be one item of a list after one "distance"."""
DISTANCE_HEAD = frozenset({"distance", "distances", "proximity"})
DISTANCE_PREPOSITION = frozenset({"to", "from"})
LIST_FILLER = frozenset({"the", "a", "an", "nearest", "main"})
VERB_CLASSES: tuple[frozenset[str], ...] = (
    frozenset({"detect", "identif", "recogni", "locali", "locat", "discriminat", "distinguish", "pinpoint", "reveal",
               "discover", "flag"}),
    frozenset({"predict", "forecast", "anticipat"}),
    frozenset({"map", "delineat", "outlin"}),
    frozenset({"compil", "build", "construct", "updat", "produc", "generat", "creat", "deliver", "prepar"}),
    frozenset({"warn", "alert", "alarm"}),
    frozenset({"fus", "fuse", "integrat", "merg"}),
    frozenset({"reconstruct", "restor", "fill", "recover", "complet"}),
    frozenset({"extract", "draw"}),
    frozenset({"augment", "expand", "enlarg", "enrich"}),
)
"""Verb stems that name the same operation: a task label's verb stem also matches its class-mates, with the
label's object words ("identifying landslides" is landslide detection, "forecast deformation" displacement
prediction). A closed list of general verbs, not concept names."""
OBJECT_CLASSES: tuple[frozenset[str], ...] = (
    frozenset({"landslide", "slide", "landsliding", "scar"}),
    frozenset({"displacement", "deformation", "velocity", "movement"}),
    frozenset({"inventory", "inventorie", "catalogue", "catalog"}),
    frozenset({"dem", "elevation", "terrain"}),
    frozenset({"feature", "representation"}),
    frozenset({"anomaly", "anomalie", "anomalous", "anomalou", "abnormal", "outlier"}),  # keys drop a final "s"
    frozenset({"earthquake", "seismic", "seismically", "quake"}),
    frozenset({"rainfall", "rain", "rainstorm", "precipitation"}),
    frozenset({"typhoon", "hurricane", "cyclone"}),
    frozenset({"multimodal", "modality", "modalitie"}),
)
"""Object words that stand for each other in task expressions (canonical: the first sorted)."""
AGENT_NOUN = re.compile(r"i?(?:er|or)s?")
INTENSITY = frozenset({"heavy", "intense", "extreme", "prolonged", "torrential", "strong", "the", "a", "an",
                       "continuous", "short-term", "long-term", "persistent", "antecedent"})
DOMAIN_OBJECTS = frozenset({"landslide", "slope", "image", "body", "extent", "scar"})
"""A one-word task label ("segmentation") written as a verb counts only with one of these as its object."""


def verb_stem(noun: str) -> str | None:
    """``detection`` -> ``detect``, ``mapping`` -> ``map``, ``classification`` -> ``classif``."""
    word = noun.lower()
    for suffix, replacement in NOMINAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:  # "fusion" -> "fus"
            stem = word[: -len(suffix)] + replacement
            if suffix == "ing" and len(stem) > 3 and stem[-1] == stem[-2]:
                stem = stem[:-1]  # mapping -> map
            return stem if len(stem) >= 3 else None
    return None


@dataclass(frozen=True)
class Paraphrase:
    concept: str
    facet: str
    label: str
    stem: str
    objects: tuple[str, ...]


_CANONICAL = {w: min(c) for c in OBJECT_CLASSES for w in c}


@lru_cache(maxsize=1 << 17)
def _word_key(word: str) -> str:
    forms = singular_forms(word)
    key = fold(forms[-1] if forms and not word.lower().endswith("ss") else word)
    return _CANONICAL.get(key, key)


_DOMAIN = frozenset(_CANONICAL.get(w, w) for w in DOMAIN_OBJECTS)


def _trigger_verb_before(tok: TokenTable, by: int, lo: int) -> int | None:
    """Where the trigger verb before the "by" at ``by`` begins ("triggered by", "set off by"), or None."""
    if by - 1 >= lo and TRIGGER_VERB.match(tok.text[by - 1]):
        return by - 1
    if by - 2 >= lo and (tok.lower[by - 2], tok.lower[by - 1]) in PHRASAL_TRIGGER:
        return by - 2
    return None


def _stem_class(stem: str) -> frozenset[str]:
    for cls in VERB_CLASSES:
        if stem in cls:
            return cls
    return frozenset({stem})


def build_paraphrases(vocabulary: Vocabulary) -> tuple[list[Paraphrase], list[Paraphrase]]:
    """(task paraphrases, trigger paraphrases) from the labels of the ontology."""
    tasks: list[Paraphrase] = []
    triggers: list[Paraphrase] = []
    for concept in vocabulary.index.concepts.values():
        for label in concept.labels:
            words = [w for w in re.split(r"[\s-]+", label) if w]
            if concept.facet == "task" and len(words) >= 2 and label.lower() == label:
                stem = verb_stem(words[-1])
                objects = tuple(_word_key(w) for w in words[:-1] if w.lower() not in FUNCTION_WORDS | MANNER)
                if stem and objects:
                    for synonym in sorted(_stem_class(stem)):
                        tasks.append(Paraphrase(concept.iri, "task", concept.pref_label, synonym, objects))
            elif concept.facet == "task" and len(words) == 1 and label.lower() == label:
                stem = verb_stem(words[0])
                if stem and len(stem) >= 5:  # "segmentation" -> "segment ... landslides"
                    tasks.append(Paraphrase(concept.iri, "task", concept.pref_label, stem, ("*domain*",)))
            elif concept.facet == "landslide_type":
                match = TRIGGER_LABEL.match(label)
                if match:
                    trigger = tuple(_word_key(w) for w in re.split(r"[\s-]+", match.group("trigger")))
                    triggers.append(Paraphrase(concept.iri, "landslide_type", concept.pref_label, "", trigger))
    return tasks, triggers


class ParaphraseMatcher(VocabularyComponent):
    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        super().__init__(vocabulary)
        self._built: tuple[list[Paraphrase], list[Paraphrase]] | None = None
        # Tables derived from the vocabulary (or from another table), each kept with what it was built from.
        self._series: tuple[Vocabulary, SeriesTables] | None = None
        self._heads: tuple[Vocabulary, dict[str, list[Paraphrase]]] | None = None
        self._mods: tuple[Vocabulary, list[Paraphrase]] | None = None
        self._distance_objects: tuple[Vocabulary, list[Paraphrase]] | None = None
        self._mod_words: tuple[list[Paraphrase], frozenset[str]] | None = None
        self._stems: tuple[list[Paraphrase], Callable[[str], tuple[Paraphrase, ...]]] | None = None

    def _vocabulary_changed(self) -> None:
        self._built = None

    def _paraphrases(self) -> tuple[list[Paraphrase], list[Paraphrase]]:
        if self._built is None:
            self._built = build_paraphrases(self.vocabulary)
        return self._built

    def __call__(self, doc: Doc) -> Doc:
        tasks, triggers = self._paraphrases()
        found = mentions(doc)
        have = {(m.facet, m.concept) for m in found}
        tok = token_table(doc)
        keys = [_word_key(text) if alpha else "" for text, alpha in zip(tok.text, tok.alpha, strict=True)]
        lower = tok.lower
        stem_hits = self._stem_hits(tasks)
        for s, e in tok.sentences():
            for i in range(s, e):
                if not tok.alpha[i] or len(lower[i]) < 3:
                    continue
                hits: list[tuple[int, int, Paraphrase]] = []
                verb: tuple[int, int | None] | None = None
                near: frozenset[str] = frozenset()
                for p in stem_hits(lower[i]):
                    agent = bool(AGENT_NOUN.fullmatch(lower[i][len(p.stem):]))
                    if agent and p.objects == ("*domain*",):
                        continue  # "classifier", "detector" name a model, not the task ...
                    if verb is None:
                        verb = self._verb_context(tok, i, s)
                        near = self._near_keys(keys, i, s, e, verb, max(len(q.objects) for q in stem_hits(lower[i])))
                    hit = self._objects_near(keys, tok, i, s, e, verb, p.objects) if near.issuperset(p.objects) \
                        else None
                    if agent and (hit is None or hit[1] != i):
                        continue  # ... unless compounded with the task's objects: "an anomaly detector"
                    if hit is not None:
                        hits.append((hit[0], hit[1], p))
                # the head of the object phrase decides: "forecast landslide displacement" is displacement
                # prediction, not landslide prediction (per side of the verb, the object phrase's last word wins)
                # ... unless an "of"/"as" follows an object noun: "the displacement of the landslide" is headed by
                # "displacement" (an "of" right after the verb, "mapping of landslides", only introduces the object)
                if not hits:
                    continue
                hits = self._before_of(lower, i, hits)
                if not hits:
                    continue
                ends = {lo > i: max(hi for lo2, hi, _ in hits if (lo2 > i) == (lo > i)) for lo, _, _ in hits}
                labelled = [m for m in found if m.facet == "task" and m.extractor != NAME]
                for lo0, hi0, p in hits:
                    if hi0 != ends[lo0 > i]:
                        continue
                    if ("task", p.concept) in have:
                        continue
                    lo, hi = min(i, lo0), max(i + 1, hi0)
                    if any(m.start < hi and lo < m.end for m in labelled):
                        continue  # inside a label mention ("landslide susceptibility mapping")
                    found.append(Mention(lo, hi, "task", p.concept, p.label, CONFIDENCE, NAME,
                                         cues=[f"paraphrase:{tok.span_text(lo, hi)}"]))
                    have.add(("task", p.concept))
                    self._consume_types(found, lo, hi, p.objects)
            self._triggers(found, have, keys, tok, triggers, s, e)
            self._modified_heads(found, have, keys, tok, s, e)
        self._inverted_data(tok, found, have, keys)
        self._distance_lists(tok, found, have, keys)
        self._coordinated(tok, found, have)
        self._drop_trigger_data(tok, found)
        self._implied_series(found, have)
        return doc

    def _implied_series(self, found: list[Mention], have: set) -> None:
        """Forecasting a measured quantity needs its observed record: a prediction task whose label's object is
        that quantity ("displacement prediction", "rainfall forecasting") implies the data concept labelled
        "<quantity> data/series" ("displacement data", "rainfall data"), unless the text already names a source
        of that quantity (the concept, a narrower one, or a technique whose definition measures it, or a sibling
        of one: PS-InSAR next to SBAS-InSAR). A named source that belongs to a technique with a series concept
        measuring that quantity (a concept labelled "<technique> time series" under the technique: SBAS-InSAR ->
        "InSAR time series") implies that series instead. Confidence 0.5; the evidence is the task mention."""
        implied, measuring, technique_series = self._series_tables()
        named = {m.concept for m in found if m.facet == "data"}
        index = self.vocabulary.index
        for m in list(found):
            if m.facet != "task":
                continue
            for data_iri, cls in implied.get(m.concept, ()):
                if ("data", data_iri) in have:
                    continue
                sources = measuring.get(cls, set()) | {data_iri}
                measured = [n for n in named if n in sources or index.concepts.get(n) and
                            set(index.concepts[n].broader) & sources or data_iri in index.ancestors(n)]
                if measured:  # a source is named: only its technique's series, where it has one, is implied
                    records = {technique_series[n] for n in measured if n in technique_series} & sources
                else:
                    records = {data_iri}
                for record in sorted(records - named):
                    found.append(Mention(m.start, m.end, "data", record, index.concepts[record].pref_label,
                                         IMPLIED, NAME, cues=[f"implied-by-task:{m.label}"]))
                    have.add(("data", record))

    def _series_tables(self) -> SeriesTables:
        if self._series is None or self._series[0] is not self.vocabulary:
            index = self.vocabulary.index
            series: dict[str, str] = {}  # quantity key -> data concept labelled "<quantity> data|series"
            for concept in index.concepts.values():
                if concept.facet == "data":
                    for label in concept.labels:
                        words = [w for w in re.split(r"[\s-]+", label.lower()) if w]
                        if len(words) == 2 and words[1] in SERIES_HEADS:
                            series.setdefault(_word_key(words[0]), concept.iri)
            predict = _stem_class("predict")
            implied: dict[str, list[tuple[str, str]]] = {}
            for concept in index.concepts.values():
                if concept.facet != "task":
                    continue
                for label in concept.labels:
                    words = [w for w in re.split(r"[\s-]+", label) if w]
                    if len(words) == 2 and label.lower() == label and verb_stem(words[-1]) in predict:
                        key = _word_key(words[0])
                        if key in series and (series[key], key) not in implied.get(concept.iri, []):
                            implied.setdefault(concept.iri, []).append((series[key], key))
            measuring: dict[str, set[str]] = {}
            for key in {k for pairs in implied.values() for _, k in pairs}:
                names = {w for c in OBJECT_CLASSES if key in c for w in c} or {key}
                hits = {c.iri for c in index.concepts.values() if c.facet == "data" and any(
                    _word_key(w) in names for w in re.findall(r"[A-Za-z]+", " ".join([c.definition or "", *c.labels])))}
                # and their parents, unless a parent is a top concept (too general to measure anything)
                measuring[key] = hits | {b for h in hits for b in index.concepts[h].broader
                                         if b in index.concepts and index.concepts[b].broader}
            # a technique's series: "InSAR time series" under "InSAR", for every source at or below the technique
            technique_series: dict[str, str] = {}
            for concept in index.concepts.values():
                for parent in concept.broader if concept.facet == "data" else ():
                    if parent in index.concepts and \
                            concept.pref_label.lower() == f"{index.concepts[parent].pref_label.lower()} time series":
                        technique_series |= {c.iri: concept.iri for c in index.concepts.values() if c.iri != concept.iri
                                             and (c.iri == parent or parent in index.ancestors(c.iri))}
            self._series = (self.vocabulary, (implied, measuring, technique_series))
        return self._series[1]

    @staticmethod
    def _before_of(lower: list[str], i: int, hits: list[tuple[int, int, Paraphrase]]
                   ) -> list[tuple[int, int, Paraphrase]]:
        """Hits after verb i that lie beyond an "of" or "as" following an earlier hit are post-modifiers or
        complements, not heads ("classify each pixel as landslide")."""
        after = [h for h in hits if h[0] > i]
        if len(after) < 2:
            return hits
        first_end = min(hi for _, hi, _ in after)
        cut = next((j for j in range(first_end, max(hi for _, hi, _ in after)) if lower[j] in {"of", "as"}),
                   None)
        if cut is None:
            return hits
        return [h for h in hits if not (h[0] > cut)]

    def _coordinated(self, tok: TokenTable, found: list[Mention], have: set) -> None:
        """Coordination with a shared head: "displacement or rainfall series" also names "displacement series",
        "rainfall- and earthquake-induced landslides" also "rainfall-induced landslide". The conjunct replaces the
        first word of a labelled mention; only data and landslide types."""
        vocab = self.vocabulary
        for m in list(found):
            if m.facet not in {"data", "landslide_type"} or m.end - m.start < 2 or m.extractor == NAME:
                continue
            rest = tok.span_text(m.start + 1, m.end)
            if tok.text[m.start + 1] in {"-", "\u2010"}:
                rest = "-" + tok.span_text(m.start + 2, m.end)
            j = m.start - 1
            while j >= 1:
                if tok.text[j] in {"-", "\u2010"}:
                    j -= 1
                if j < 1 or tok.lower[j] not in {"and", "or", ","}:
                    break
                conjunct = tok.text[j - 1]
                word = conjunct.rstrip("-\u2010")
                if not word.isalpha():
                    break
                phrase = word + ("" if rest.startswith("-") else " ") + rest
                last = tok.text[m.end - 1]
                variants = [phrase] + [phrase[: len(phrase) - len(last)] + f for f in singular_forms(last)]
                entries = next((found_ for v in variants if (found_ := vocab.lookup(v))), [])
                for entry in entries:
                    if entry.concept.facet == m.facet and (m.facet, entry.concept.iri) not in have:
                        if m.facet == "landslide_type":  # "rainfall- and ...-induced": a trigger, not data
                            found[:] = [d for d in found if not (d.facet == "data" and d.start == j - 1)]
                        found.append(Mention(j - 1, m.end, m.facet, entry.concept.iri, entry.concept.pref_label,
                                             CONFIDENCE, NAME, cues=[f"coordination:{conjunct} {rest}"]))
                        have.add((m.facet, entry.concept.iri))
                j -= 2

    def _inverted_data(self, tok: TokenTable, found: list[Mention], have: set, keys: list[str]) -> None:
        """A two-word data label "<modifier> <head>" written as "<head> of <modifier>": "an inventory of 326
        landslides" (landslide inventory), "time series of rainfall" is not needed (a label), "records of
        groundwater level" ... The modifier may be preceded by a number, article or adjective (two tokens)."""
        table = self._data_heads()
        lower = tok.lower
        for i in range(len(tok) - 2):
            if lower[i + 1] != "of" or keys[i] not in table:
                continue
            sent_end = tok.sent_end[i]
            for j in range(i + 2, min(sent_end, i + 5)):
                if tok.punct[j] and tok.text[j] not in {",", "-"} or lower[j] in {"and", "or", "of"}:
                    break
                for p in table[keys[i]]:
                    if keys[j] == p.objects[0] and ("data", p.concept) not in have:
                        found.append(Mention(i, j + 1, "data", p.concept, p.label, CONFIDENCE, NAME,
                                             cues=[f"paraphrase:{tok.span_text(i, j + 1)}"]))
                        have.add(("data", p.concept))

    def _distance_lists(self, tok: TokenTable, found: list[Mention], have: set, keys: list[str]) -> None:
        """Distance factors listed after one head: "distances to the river and to the road", "distance from roads,
        from drainage networks and from faults", "proximity to streams and roads". Each item (an article, the
        object of a "distance to <object>" label, at most one more word: "networks") names that factor."""
        objects = self._distance_table()
        lower, n = tok.lower, len(tok)
        for i in range(n - 2):
            if lower[i] not in DISTANCE_HEAD or lower[i + 1] not in DISTANCE_PREPOSITION:
                continue
            j, end = i + 2, tok.sent_end[i]
            while j < end:
                while j < end and lower[j] in LIST_FILLER:
                    j += 1
                hit = next((p for p in objects if tuple(keys[j:j + len(p.objects)]) == p.objects), None)
                if hit is None:
                    break
                k = j + len(hit.objects)
                if ("data", hit.concept) not in have:
                    found.append(Mention(j, k, "data", hit.concept, hit.label, CONFIDENCE, NAME,
                                         cues=[f"paraphrase:{tok.span_text(i, k)}"]))
                    have.add(("data", hit.concept))
                if k < end and tok.alpha[k] and lower[k] not in {"and", "or"} | DISTANCE_PREPOSITION:
                    k += 1  # "drainage networks", "fault lines"
                if k < end and tok.text[k] == ",":
                    k += 1
                if k < end and lower[k] in {"and", "or"}:
                    k += 1
                if k == j + len(hit.objects) or k >= end:
                    break  # no list separator: the list has ended
                j = k + 1 if lower[k] in DISTANCE_PREPOSITION else k

    def _distance_table(self) -> list[Paraphrase]:
        """The objects of the distance factor labels, longest first."""
        if self._distance_objects is None or self._distance_objects[0] is not self.vocabulary:
            table = []
            for concept in self.vocabulary.index.concepts.values():
                if concept.facet != "data":
                    continue
                for label in concept.labels:
                    match = DISTANCE_LABEL.match(label)
                    if match:
                        table.append(Paraphrase(concept.iri, "data", concept.pref_label, "",
                                                tuple(_word_key(w) for w in match.group("object").split())))
            table.sort(key=lambda p: -len(p.objects))
            self._distance_objects = (self.vocabulary, table)
        return self._distance_objects[1]

    def _data_heads(self) -> dict[str, list[Paraphrase]]:
        if self._heads is None or self._heads[0] is not self.vocabulary:
            table: dict[str, list[Paraphrase]] = {}
            for concept in self.vocabulary.index.concepts.values():
                if concept.facet != "data":
                    continue
                for label in concept.labels:
                    words = [w for w in re.split(r"[\s-]+", label) if w]
                    if len(words) == 2 and label.lower() == label and words[1] not in {"data", "map"}:
                        head, modifier = _word_key(words[1]), _word_key(words[0])
                        table.setdefault(head, []).append(
                            Paraphrase(concept.iri, "data", concept.pref_label, "", (modifier,)))
            self._heads = (self.vocabulary, table)
        return self._heads[1]

    @staticmethod
    def _consume_types(found: list[Mention], lo: int, hi: int, objects: tuple[str, ...]) -> None:
        """A landslide-type mention that only names the object of a task expression whose label already holds
        its words ("identifying potential landslides" = potential landslide identification) is not a type."""
        for m in list(found):
            if m.facet == "landslide_type" and m.start < hi and lo < m.end:
                words = {_word_key(w) for w in re.split(r"[\s-]+", m.label) if w}
                if words and words <= set(objects):
                    found.remove(m)

    def _triggers(self, found: list[Mention], have: set, keys: list[str], tok: TokenTable,
                  triggers: list[Paraphrase], s: int, e: int) -> None:
        """"landslides/slope instability triggered by rainfall or seismic shaking", "landslides after a typhoon",
        "rainfall thresholds for landslides"."""
        texts, lower = tok.text, tok.lower
        # (cue token, first token of the trigger, how many tokens it may span), the same for every trigger
        starts: list[tuple[int, int, int]] | None = None
        for p in triggers:
            if ("landslide_type", p.concept) in have:
                continue
            if starts is None:
                has_failure = any(LANDSLIDE_HEAD.match(texts[j]) or lower[j].startswith("landslid")
                                  for j in range(s, e))
                starts = []
                for i in range(s, e - 1):
                    verb = _trigger_verb_before(tok, i + 1, s) if lower[i + 1] == "by" else None
                    if verb is not None and any(FAILURE_WORD.match(texts[j]) for j in range(max(s, verb - 4), verb)):
                        starts.append((verb, i + 2, 6))
                    elif AFTER_TRIGGER.match(texts[i]) and has_failure:
                        starts.append((i, i + 1, 6))
                    elif lower[i + 1] in THRESHOLD and has_failure:
                        starts.append((i, i, 1))
                    elif has_failure and lower[i] == "as" and TRIGGER_NOUN.intersection(lower[i + 1:i + 4]):
                        starts.append((max(s, i - 3), max(s, i - 3), i - max(s, i - 3)))
                    elif has_failure and i > s and texts[i] in {"-", "\u2010"} and lower[i + 1] in HYPHEN_TRIGGER:
                        starts.append((i - 1, i - 1, 1))
            for i, start, span in starts:
                tail = keys[start:min(e, start + span)]
                if all(k in tail for k in p.objects):
                    end = start + max(tail.index(k) for k in p.objects) + 1
                    found.append(Mention(i, end, "landslide_type", p.concept, p.label, CONFIDENCE, NAME,
                                         cues=[f"paraphrase:{tok.span_text(i, end)}"]))
                    have.add(("landslide_type", p.concept))
                    break

    def _modified_heads(self, found: list[Mention], have: set, keys: list[str], tok: TokenTable,
                        s: int, e: int) -> None:
        """Type labels "<modifiers> landslide" with other modifiers between ("rainfall-induced shallow
        landslides", "shallow coseismic slides", "active slow-moving landslides")."""
        for i in range(s, e):
            if not LANDSLIDE_HEAD.match(tok.text[i]):
                continue
            modifier_words = self._modifier_words()
            lo = i
            while lo - 1 >= s and lo > i - 7 and (keys[lo - 1] in modifier_words or tok.text[lo - 1] == "-"):
                lo -= 1  # only a run of type modifiers ("rainfall-induced shallow"), not "deep-learning"
            words = [(j, keys[j]) for j in range(lo, i) if keys[j]]
            if not words:
                continue
            for p in self._type_modifiers():
                if ("landslide_type", p.concept) in have or len(p.objects) > len(words):
                    continue
                n = len(p.objects)
                for k in range(len(words) - n + 1):
                    if tuple(w for _, w in words[k:k + n]) == p.objects:
                        start = words[k][0]
                        found.append(Mention(start, i + 1, "landslide_type", p.concept, p.label, CONFIDENCE, NAME,
                                             cues=[f"paraphrase:{tok.span_text(start, i + 1)}"]))
                        have.add(("landslide_type", p.concept))
                        break

    def _modifier_words(self) -> frozenset[str]:
        mods = self._type_modifiers()
        if self._mod_words is None or self._mod_words[0] is not mods:
            self._mod_words = (mods, frozenset(w for p in mods for w in p.objects))
        return self._mod_words[1]

    def _type_modifiers(self) -> list[Paraphrase]:
        if self._mods is None or self._mods[0] is not self.vocabulary:
            mods = []
            for concept in self.vocabulary.index.concepts.values():
                if concept.facet != "landslide_type":
                    continue
                for label in concept.labels:
                    words = [w for w in re.split(r"[\s-]+", label) if w]
                    if len(words) >= 2 and words[-1].lower() == "landslide" and label.lower() == label:
                        mods.append(Paraphrase(concept.iri, "landslide_type", concept.pref_label, "",
                                               tuple(_word_key(w) for w in words[:-1])))
            self._mods = (self.vocabulary, mods)
        return self._mods[1]

    @staticmethod
    def _drop_trigger_data(tok: TokenTable, found: list[Mention]) -> None:
        """A data label written as a trigger ("triggered by heavy rainfall", "after intense precipitation") names
        what caused the landslides, not data the study uses."""
        lower = tok.lower
        for m in list(found):
            if m.facet != "data":
                continue
            j = m.start - 1
            while j >= 0 and lower[j] in INTENSITY:
                j -= 1
            if j >= 1 and lower[j] == "by" and _trigger_verb_before(tok, j, 0) is not None or \
                    j >= 0 and lower[j] in {"after", "following"} or \
                    AS_TRIGGER.match(tok.span_text(m.end, min(len(tok), m.end + 9))):
                found.remove(m)

    def _stem_hits(self, tasks: list[Paraphrase]) -> Callable[[str], tuple[Paraphrase, ...]]:
        """word -> the task paraphrases whose verb stem begins the word (shortest stem first), memoized per word."""
        if self._stems is None or self._stems[0] is not tasks:
            table: dict[str, list[Paraphrase]] = {}
            for p in tasks:
                table.setdefault(p.stem, []).append(p)

            @lru_cache(maxsize=1 << 16)
            def hits(word: str) -> tuple[Paraphrase, ...]:
                return tuple(p for k in range(3, len(word) + 1) for p in table.get(word[:k], ()))

            self._stems = (tasks, hits)
        return self._stems[1]

    @staticmethod
    def _verb_context(tok: TokenTable, i: int, s: int) -> tuple[int, int | None]:
        """Where the object phrase before verb i (sentence start s) ends: (the first token of the run of
        auxiliaries and hyphens right before i, the "of"/"to" of a post-modifier before that or None)."""
        # right before the verb, with at most auxiliaries between ("landslides were detected", "landslide-detecting")
        texts, lower, punct = tok.text, tok.lower, tok.punct
        before = i
        while before - 1 >= s and (lower[before - 1] in AUXILIARIES or texts[before - 1] == "-"):
            before -= 1
        # before the verb, a post-modifier ("the inventory of 326 landslides was compiled", "areas of high
        # susceptibility to landslides were identified") is skipped: the head noun, before "of"/"to", must be one
        # of the objects
        pp = next((q for q in range(before - 2, max(s, before - 5) - 1, -1) if lower[q] in {"of", "to"}
                   and not any(punct[k] for k in range(q, before))), None)
        return before, pp

    @staticmethod
    def _near_keys(keys: list[str], i: int, s: int, e: int, verb: tuple[int, int | None],
                   longest: int) -> frozenset[str]:
        """Every word key that :meth:`_objects_near` could look at for objects of up to ``longest`` words (and
        ``*domain*`` when a domain object is among them): a paraphrase with an object outside it cannot match."""
        before, pp = verb
        head_end = pp if pp is not None else before
        near = {*keys[i + 1:min(e, i + 1 + WINDOW + longest)], *keys[max(s, head_end - 3 * longest):before]}
        if not near.isdisjoint(_DOMAIN):
            near.add("*domain*")
        return frozenset(near)

    @staticmethod
    def _objects_near(keys: list[str], tok: TokenTable, i: int, s: int, e: int, verb: tuple[int, int | None],
                      objects: tuple[str, ...]) -> tuple[int, int] | None:
        """The token range holding every object word within WINDOW tokens after token i (sentence s:e), or
        right before it (``verb``: :meth:`_verb_context`), in the same clause (no punctuation other than hyphens
        between)."""
        # after the verb ("detect new landslides", "mapping of landslides") or before it
        texts, punct = tok.text, tok.punct
        before, pp = verb
        head_end = pp if pp is not None else before
        hyphens = texts[max(s, head_end - 2 * len(objects)):head_end].count("-")
        head_lo = max(s, head_end - len(objects) - hyphens)  # "landslide-prone areas": hyphens are not words
        for side, (lo, hi) in enumerate(((i + 1, min(e, i + 1 + WINDOW + len(objects))), (head_lo, before))):
            positions = []
            for obj in objects:
                if obj == "*domain*":
                    pos = next((j for j in range(lo, hi) if keys[j] in _DOMAIN), None)
                elif obj in keys[lo:hi]:
                    pos = keys.index(obj, lo, hi)
                else:
                    break
                if pos is None:
                    break
                positions.append(pos)
            else:
                if side == 1 and pp is not None and min(positions) >= pp:
                    continue  # only the post-modifier holds the objects: not what the verb is about
                a, b = min(positions + [i]), max(positions + [i])
                if not any(punct[j] and texts[j] not in {"-", "%"} for j in range(a, b + 1)):
                    return min(positions), max(positions) + 1
        return None


@Language.factory(FACTORY)
def make_paraphrases(nlp: Language, name: str) -> ParaphraseMatcher:
    return ParaphraseMatcher()
