"""Linking mentions of named trigger events and settings (``ontology/events.ttl``) in a study's text.

    linker = EventLinker()                      # the packaged events
    for hit in linker.link("Landslides triggered by the 2018 Hokkaido Eastern Iburi earthquake ..."):
        hit.event.trigger_type                  # .../landslide/EarthquakeInducedLandslide

Names are matched as whole words, case- and accent-insensitively (an all-capital name such as ``TGR`` only in its
own case), longest name first, so "the 2021 Haiti earthquake" links the 2021 event, not the 2010 one. A year
written just before a name that several events share picks the event of that year. The knowledge (names, trigger
types, dates, places) is in the Turtle file; this module only finds names in text. The decision stage
(:mod:`lskg.extract.decision`) turns links into candidate landslide types and decides whether they are facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lskg.ontology import TriggerEvent, trigger_events
from lskg.ontology.labels import to_ascii

NAME = "lskg.events.v1"
"""The versioned extractor name in the Evidence of a landslide type inferred from a linked event."""


@dataclass(frozen=True)
class EventMention:
    """A linked event: characters ``start:end`` of the text name ``event``."""

    start: int
    end: int
    event: TriggerEvent
    text: str


def _name_pattern(name: str) -> str:
    """A name as a regex: spaces and hyphens between its words are interchangeable; the last word may be plural
    ("open-pit mines")."""
    words = re.split(r"[\s\-\u2010-\u2015]+", to_ascii(name).strip())
    return r"[\s\-]+".join(re.escape(w) for w in words if w) + "s?"


class EventLinker:
    """Finds the names of trigger events in text (one compiled pattern for all names)."""

    def __init__(self, events: Sequence[TriggerEvent] | None = None) -> None:
        self.events = tuple(events if events is not None else trigger_events())
        by_name: dict[str, list[TriggerEvent]] = {}
        exact: dict[str, list[TriggerEvent]] = {}
        for event in self.events:
            for label in event.labels:
                key = to_ascii(label).strip()
                if re.fullmatch(r"[A-Z0-9]{2,5}", key):
                    exact.setdefault(key, []).append(event)
                else:
                    by_name.setdefault(_fold_name(key), []).append(event)
        self._by_name = by_name
        self._exact = exact
        names = sorted(by_name, key=len, reverse=True)
        grouped: dict[str, list[str]] = {}
        for name in names:
            grouped.setdefault(_anchor(name), []).append(name)
        # one small pattern per anchor word: only the names whose anchor occurs in a text are tried on it
        self._patterns = {anchor: re.compile(r"(?<![\w-])(?:" + "|".join(_name_pattern(n) for n in group) +
                                             r")(?![\w-])", re.IGNORECASE) for anchor, group in grouped.items()}
        self._acronyms = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, sorted(exact, key=len, reverse=True)))
                                    + r")(?![\w-])") if exact else None
        self._acronym_set = frozenset(exact)

    def link(self, text: str) -> Iterator[EventMention]:
        """Every event name in ``text``, in order of position (overlapping names: the longest)."""
        ascii_text = to_ascii(text)
        if len(ascii_text) != len(text):  # accents dropped unevenly: fold character by character (an ASCII
            # character folds to itself, so only the others are looked up)
            table = {ord(ch): to_ascii(ch) or "?" for ch in set(text) if not ch.isascii()}
            ascii_text = text.translate(table)
            ascii_text = ascii_text if len(ascii_text) == len(text) else text
        hits: list[tuple[int, int, list[TriggerEvent]]] = []
        words = set(re.findall(r"[a-z0-9]+", ascii_text.lower()))
        words |= {w[:-1] for w in words if w.endswith("s")}
        for anchor in words.intersection(self._patterns):
            for m in self._patterns[anchor].finditer(ascii_text):
                name = _fold_name(m.group(0))
                events = self._by_name.get(name)
                if events is None and name.endswith("s"):
                    events = self._by_name.get(name[:-1])
                if events:
                    hits.append((m.start(), m.end(), events))
        if self._acronyms is not None and not set(re.findall(r"[A-Z0-9]{2,5}", ascii_text)).isdisjoint(
                self._acronym_set):
            for m in self._acronyms.finditer(ascii_text):
                hits.append((m.start(), m.end(), self._exact[m.group(0)]))
        ordered = sorted(set((a, b, tuple(e)) for a, b, e in hits), key=lambda h: (h[0], -(h[1] - h[0])))
        last_end = -1
        for start, end, found in ordered:
            if start < last_end:
                continue
            last_end = end
            yield EventMention(start, end, _by_year(list(found), text[max(0, start - 12):start]), text[start:end])


GENERIC = frozenset({"earthquake", "earthquakes", "reservoir", "area", "region", "dam", "hydropower", "station",
                     "typhoon", "super", "hurricane", "cyclone", "tropical", "storm", "rain", "heavy", "rainstorm",
                     "floods", "flood", "event", "great", "the", "of", "in", "and", "seismic", "eastern", "western",
                     "july", "may", "ms", "mw", "mine", "mining", "open", "pit", "coal", "field", "basin", "slide",
                     "peninsula", "japan"})


COMMON = frozenset({"open", "slope", "surface", "area", "the", "of", "and", "in"})
"""Words too common in landslide abstracts to stand for a name even when the name has nothing better."""


def _anchor(name: str) -> str:
    """The word of a (folded) name that any match must contain: its longest distinctive word."""
    words = [w for w in re.findall(r"[a-z0-9]+", name) if not w.isdigit()]
    distinctive = ([w for w in words if w not in GENERIC and w not in COMMON] or
                   [w for w in words if w not in COMMON] or words)
    return max(distinctive, key=len) if distinctive else name


def _fold_name(name: str) -> str:
    return re.sub(r"[\s\-]+", " ", to_ascii(name).lower()).strip()


def _by_year(events: list[TriggerEvent], before: str) -> TriggerEvent:
    """The event whose year is written just before its name; else the first (events are in IRI order)."""
    if len(events) > 1:
        year = re.search(r"\b(1[89]\d\d|20\d\d)\b\W*$", before)
        if year:
            for event in events:
                if event.date and event.date.startswith(year.group(1)):
                    return event
    return events[0]


@functools.lru_cache(maxsize=1)
def event_linker() -> EventLinker:
    """The linker of the packaged events (built once per process)."""
    return EventLinker()
