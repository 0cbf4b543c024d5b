"""The matching vocabulary, generated from the ontology: every prefLabel, altLabel and notation of every concept,
folded so that matching survives case, hyphens, spaces, plurals and British/American spelling.

    fold("U-Net") == fold("UNet") == fold("U Net") == "unet"

Acronym-like labels (``AE``, ``RF``, ``DEM``, ``SVM``) match case-sensitively, so that ordinary words ("ae", "dem")
are not read as concepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lskg.ontology import Concept, ConceptIndex
from lskg.ontology.labels import fold, to_ascii

NON_KEY_CASED = re.compile(r"[^A-Za-z0-9+]")


def fold_cased(text: str) -> str:
    """The hyphen- and space-insensitive, case-preserving key (for acronyms)."""
    return NON_KEY_CASED.sub("", to_ascii(text))


def is_acronym(label: str) -> bool:
    """``AE``, ``SVM``, ``GF-2``, ``DEM``, ``RF``: short, upper-case; matched case-sensitively."""
    letters = re.sub(r"[^A-Za-z]", "", label)
    return bool(letters) and letters.isupper() and len(letters) <= 6 and " " not in label.strip()


@dataclass(frozen=True)
class Entry:
    """What a folded key stands for."""

    concept: Concept
    label: str
    exact_kind: str
    """``pref`` (the prefLabel) or ``alt`` (an altLabel or the notation)."""


@dataclass
class Vocabulary:
    """Folded keys -> concept entries, per facet; built once per ontology."""

    index: ConceptIndex
    keys: dict[str, list[Entry]] = field(default_factory=dict)
    cased: dict[str, list[Entry]] = field(default_factory=dict)
    model_parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Folded model label -> family IRIs (to assign candidate architectures by their name parts)."""
    name_labels: set[str] = field(default_factory=set)
    """Folded one-word model labels (``transformer``, ``segformer``, ``graphsage``): name parts may abbreviate them."""
    _part_cache: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _prefixes: tuple[set[str], set[str]] | None = field(default=None, repr=False)

    @classmethod
    def from_index(cls, index: ConceptIndex) -> Vocabulary:
        vocab = cls(index)
        for concept in sorted(index.concepts.values(), key=lambda c: c.iri):
            labels = [(concept.pref_label, "pref")] + [(a, "alt") for a in concept.alt_labels]
            if concept.notation:
                labels.append((concept.notation, "alt"))
            for label, kind in labels:
                entry = Entry(concept, label, kind)
                if is_acronym(label):
                    vocab._add(vocab.cased, fold_cased(label), entry)
                else:
                    vocab._add(vocab.keys, fold(label), entry)
                if concept.facet == "model":
                    families = tuple(sorted(_family_iris(index, concept.iri)))
                    key = fold(label)
                    if key and families:
                        vocab.model_parts[key] = tuple(sorted({*vocab.model_parts.get(key, ()), *families}))
                        if " " not in label.strip():
                            vocab.name_labels.add(key)
        return vocab

    def prefixes(self) -> tuple[set[str], set[str]]:
        """Every prefix of every key (folded, cased): n-gram matching stops as soon as it leaves them."""
        if not self._prefixes:
            self._prefixes = ({k[:i] for k in self.keys for i in range(1, len(k) + 1)},
                              {k[:i] for k in self.cased for i in range(1, len(k) + 1)})
        return self._prefixes

    @staticmethod
    def _add(table: dict[str, list[Entry]], key: str, entry: Entry) -> None:
        if not key:
            return
        entries = table.setdefault(key, [])
        if all(e.concept.iri != entry.concept.iri for e in entries):
            entries.append(entry)

    def lookup(self, text: str) -> list[Entry]:
        """Concepts whose label ``text`` is (folded; acronyms by case); one per facet, prefLabel matches first."""
        return self.lookup_keys(fold(text), fold_cased(text))

    def lookup_keys(self, key: str, cased_key: str) -> list[Entry]:
        found = self.cased.get(cased_key, []) or self.keys.get(key, [])
        if not found:
            return []
        by_facet: dict[str, Entry] = {}
        for entry in sorted(found, key=lambda e: (e.exact_kind != "pref", e.concept.iri)):
            by_facet.setdefault(entry.concept.facet, entry)
        return list(by_facet.values())

    def part_families(self, part: str) -> tuple[str, ...]:
        """Families a name part points to: ``GRU`` -> RNN; ``Trans``/``Former`` -> Transformer (a prefix or suffix
        of a model label); ``Net`` -> nothing (too short to say)."""
        key = fold(part)
        if key in self.model_parts:
            return self.model_parts[key]
        if len(key) < 4:
            return ()
        if key in self._part_cache:
            return self._part_cache[key]
        common: set[str] | None = None
        labels = 0
        for label_key, families in self.model_parts.items():
            if label_key in self.name_labels and len(label_key) > len(key) and (label_key.startswith(key) or (len(key) >= 5 and label_key.endswith(key))):
                common = set(families) if common is None else common & set(families)
                labels += 1
        # the families every label starting (or ending) with this part agrees on: "trans" -> Transformer
        # even though TransUNet is also a CNN; one label is no pattern ("light" is only LightGBM's start)
        result = tuple(sorted(common or ())) if labels >= 2 else ()
        self._part_cache[key] = result
        return result


def _family_iris(index: ConceptIndex, iri: str) -> set[str]:
    roots = {iri} | index.ancestors(iri)
    return {r for r in roots if r in index.concepts and "ModelFamily" in index.concepts[r].types}
