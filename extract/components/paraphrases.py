"""``lskg.paraphrases.v1``: concepts written as clauses rather than as their labels.

Generated from the ontology's labels, not from lists of concepts:

* a task label "<object words> <nominalisation>" ("landslide detection", "displacement forecasting") also matches
  its verbal and prepositional forms: "detect(ed|ing) ... landslides", "landslides were detected", "forecasts
  GNSS displacement", "mapping of landslides" (the verb stem is derived from the nominalisation: -ification ->
  -if, -ation/-ion -> stem, -ing/-ment -> stem);
* a landslide-type label "<trigger>-induced/-triggered landslide" also matches "landslides/slope failures
  triggered by the 2018 Iburi earthquake".

Confidence 0.75 (a paraphrase is less certain than a label).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.facet_ruler import default_vocabulary
from lskg.extract.mentions import Mention, mentions, register_extensions
from lskg.extract.vocabulary import Vocabulary, fold, singular_forms

NAME = "lskg.paraphrases.v1"
FACTORY = "lskg_paraphrases_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
CONFIDENCE = 0.75
WINDOW = 4
FUNCTION_WORDS = frozenset({"of", "the", "a", "an", "and", "or", "for", "in", "on", "by", "with", "to", "based"})
NOMINAL = [("ification", "if"), ("isation", "is"), ("ization", "iz"), ("ation", ""), ("tion", "t"), ("sion", "s"),
           ("ment", ""), ("ing", "")]
AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "being", "then", "also", "automatically",
                         "accurately", "successfully", "first"})
TRIGGER_LABEL = re.compile(r"^(?P<trigger>.+?)[- ](?:induced|triggered) landslide$", re.IGNORECASE)
TRIGGER_VERB = re.compile(r"^(?:induced|triggered|caused)$", re.IGNORECASE)
FAILURE_WORD = re.compile(r"^(?:landslid\w*|slides?|failures?|slumps?|collapses?)$", re.IGNORECASE)


def verb_stem(noun: str) -> str | None:
    """``detection`` -> ``detect``, ``mapping`` -> ``map``, ``classification`` -> ``classif``."""
    word = noun.lower()
    for suffix, replacement in NOMINAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
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


def _word_key(word: str) -> str:
    forms = singular_forms(word)
    return fold(forms[-1] if forms and not word.lower().endswith("ss") else word)


def build_paraphrases(vocabulary: Vocabulary) -> tuple[list[Paraphrase], list[Paraphrase]]:
    """(task paraphrases, trigger paraphrases) from the labels of the ontology."""
    tasks: list[Paraphrase] = []
    triggers: list[Paraphrase] = []
    for concept in vocabulary.index.concepts.values():
        for label in concept.labels:
            words = [w for w in re.split(r"[\s-]+", label) if w]
            if concept.facet == "task" and len(words) >= 2 and label.lower() == label:
                stem = verb_stem(words[-1])
                objects = tuple(_word_key(w) for w in words[:-1] if w.lower() not in FUNCTION_WORDS)
                if stem and objects:
                    tasks.append(Paraphrase(concept.iri, "task", concept.pref_label, stem, objects))
            elif concept.facet == "landslide_type":
                match = TRIGGER_LABEL.match(label)
                if match:
                    trigger = tuple(_word_key(w) for w in re.split(r"[\s-]+", match.group("trigger")))
                    triggers.append(Paraphrase(concept.iri, "landslide_type", concept.pref_label, "", trigger))
    return tasks, triggers


class ParaphraseMatcher:
    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        register_extensions()
        self._vocabulary = vocabulary
        self._built: tuple[list[Paraphrase], list[Paraphrase]] | None = None

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = default_vocabulary()
        return self._vocabulary

    @vocabulary.setter
    def vocabulary(self, value: Vocabulary) -> None:
        self._vocabulary = value
        self._built = None

    def _paraphrases(self) -> tuple[list[Paraphrase], list[Paraphrase]]:
        if self._built is None:
            self._built = build_paraphrases(self.vocabulary)
        return self._built

    def __call__(self, doc: Doc) -> Doc:
        tasks, triggers = self._paraphrases()
        found = mentions(doc)
        have = {(m.facet, m.concept) for m in found}
        keys = [_word_key(t.text) if t.is_alpha else "" for t in doc]
        lower = [t.lower_ for t in doc]
        by_stem = self._by_stem(tasks)
        for sent in doc.sents:
            s, e = sent.start, sent.end
            for i in range(s, e):
                if not doc[i].is_alpha or len(lower[i]) < 3:
                    continue
                for p in (p for k in range(3, len(lower[i]) + 1) for p in by_stem.get(lower[i][:k], ())):
                    if ("task", p.concept) in have:
                        continue
                    hit = self._objects_near(keys, doc, i, s, e, p.objects)
                    if hit is not None:
                        lo, hi = min(i, hit[0]), max(i + 1, hit[1])
                        if any(m.start < hi and lo < m.end for m in found if m.facet in {"task", "landslide_type"}):
                            continue  # inside a label mention ("landslide susceptibility mapping")
                        found.append(Mention(lo, hi, "task", p.concept, p.label, CONFIDENCE, NAME,
                                             cues=[f"paraphrase:{doc[lo:hi].text}"]))
                        have.add(("task", p.concept))
            for p in triggers:
                if ("landslide_type", p.concept) in have:
                    continue
                for i in range(s, e - 1):
                    if TRIGGER_VERB.match(doc[i].text) and lower[i + 1] == "by" and \
                            any(FAILURE_WORD.match(doc[j].text) for j in range(max(s, i - 4), i)):
                        tail = keys[i + 2:min(e, i + 8)]
                        if all(k in tail for k in p.objects):
                            end = i + 2 + max(tail.index(k) for k in p.objects) + 1
                            found.append(Mention(i, end, "landslide_type", p.concept, p.label, CONFIDENCE, NAME,
                                                 cues=[f"paraphrase:{doc[i:end].text}"]))
                            have.add(("landslide_type", p.concept))
                            break
        return doc

    def _by_stem(self, tasks: list[Paraphrase]) -> dict[str, list[Paraphrase]]:
        if getattr(self, "_stems", None) is None or self._stems[0] is not tasks:
            table: dict[str, list[Paraphrase]] = {}
            for p in tasks:
                table.setdefault(p.stem, []).append(p)
            self._stems = (tasks, table)
        return self._stems[1]

    @staticmethod
    def _objects_near(keys: list[str], doc: Doc, i: int, s: int, e: int,
                      objects: tuple[str, ...]) -> tuple[int, int] | None:
        """The token range holding every object word within WINDOW tokens after (or before) token i, in the
        same clause (no punctuation other than hyphens between)."""
        # after the verb ("detect new landslides", "mapping of landslides"), or right before it, with at most
        # auxiliaries between ("landslides were detected", "landslide-detecting")
        before = i
        while before - 1 >= s and (doc[before - 1].lower_ in AUXILIARIES or doc[before - 1].text == "-"):
            before -= 1
        for lo, hi in ((i + 1, min(e, i + 1 + WINDOW + len(objects))), (max(s, before - len(objects)), before)):
            window = range(lo, hi)
            positions = []
            for obj in objects:
                pos = next((j for j in window if keys[j] == obj), None)
                if pos is None:
                    break
                positions.append(pos)
            else:
                a, b = min(positions + [i]), max(positions + [i])
                if not any(doc[j].is_punct and doc[j].text not in "-" for j in range(a, b + 1)):
                    return min(positions), max(positions) + 1
        return None


@Language.factory(FACTORY)
def make_paraphrases(nlp: Language, name: str) -> ParaphraseMatcher:
    return ParaphraseMatcher()
