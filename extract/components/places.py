"""``lskg.places.v1``: the study area — "in the Three Gorges Reservoir area, China", "Wenchuan", "Hokkaido".

A simple, explainable heuristic: a run of capitalised words after a locative preposition ("in", "at", "near",
"across", "from", "of", "around"), or before a geographic head noun ("County", "Province", "Reservoir",
"earthquake"...), scored higher when a country follows or the phrase is itself a country. Concept labels
(``Sentinel-1``, ``Landslide4Sense``), figure/table references and publication names are not places.

Capitalisation is only evidence of a name where lowercase was expected, so a candidate is *vouched for* when a
country follows it, it is a country, it ends in a capitalised geographic head ("Reservoir", "County"), or it names
a known place (an event or setting of ``ontology/events.ttl``, one of their places, a continent). "Followed by a
country" reads ", China", ", Sichuan, China", " (Spain)" and " of southern Brazil". Any other candidate is dropped
when it follows "of" other than after a geographic noun ("Internet of Things", but "the municipality of X"); when
its first word is a spaCy English stop word ("Because", "Whether"); when a word is an acronym, has the suffix of
an adjective, verb form or abstract noun (-ing, -ed, -able, -ive, -ous, -al, -tion...), or is written in lowercase
elsewhere in the text; when it is a term that introduces its acronym ("Narrow Angle Camera (NAC)"); and when its
capitals come from its position alone (one word that starts a sentence, or words of a Title-Cased title) unless
the text also capitalises it mid-sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.events import EventLinker
from lskg.extract.mentions import PlaceMention, mentions, register_extensions
from lskg.ontology import trigger_events
from lskg.ontology.labels import to_ascii

NAME = "lskg.places.v1"
FACTORY = "lskg_places_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
COUNTRIES = (
    "China|Japan|Italy|India|Nepal|Taiwan|Korea|South Korea|Iran|Turkey|Türkiye|Switzerland|Austria|Norway|France|"
    "Germany|Spain|Portugal|Greece|Slovenia|Romania|Poland|United States|USA|U\\.S\\.|Canada|Mexico|Brazil|Peru|"
    "Chile|Colombia|Ecuador|Argentina|Bolivia|Venezuela|Guatemala|Costa Rica|Haiti|Indonesia|Malaysia|Vietnam|"
    "Viet Nam|Thailand|Philippines|Myanmar|Laos|Bangladesh|Bhutan|Pakistan|Afghanistan|Tajikistan|Kyrgyzstan|"
    "Kazakhstan|Uzbekistan|Georgia|Armenia|Russia|Ukraine|Sri Lanka|Australia|New Zealand|Papua New Guinea|Fiji|"
    "Ethiopia|Kenya|Uganda|Rwanda|Burundi|Tanzania|Cameroon|Nigeria|Morocco|Algeria|Egypt|South Africa|Malawi|"
    "Mozambique|Madagascar|Saudi Arabia|Yemen|Oman|Israel|Lebanon|Jordan|United Kingdom|UK|England|Scotland|Wales|"
    "Ireland|Iceland|Sweden|Finland|Denmark|Netherlands|Belgium|Czech Republic|Slovakia|Hungary|Serbia|Croatia|"
    "Bosnia and Herzegovina|Albania|North Macedonia|Bulgaria|Hong Kong|Macau|Singapore|Mongolia|Tibet"
)
COUNTRY = re.compile(rf"^(?:{COUNTRIES})$")
HEADS = ("County|Province|Prefecture|Region|District|City|Town|Village|Reservoir|Basin|Valley|River|Mountains?|"
         "Plateau|Island|Islands|Peninsula|Gorges|Area|Range|Highlands?|Alps|Himalayas?|Creek|Lake|Coast|Canyon|"
         "State|Municipality|Gully|Watershed|Catchment|Massif|Glacier|Gorge|Corridor|Highway|Ridge|Hills|Volcano|"
         "Delta|Bay|Gulf|Sea|earthquake|landslide|landslides|slope|Landslide|Earthquake")
CAP = r"(?:[A-Z][a-z\u00c0-\u024f'’]+(?:-[A-Za-z\u00c0-\u024f'’]+)*|[A-Z]{2,})(?![-\w])"
"""A capitalised word or an acronym, hyphenated parts included ("Sichuan-Tibet", "Chungju-si", "Open-pit")."""
PHRASE = rf"{CAP}(?:\s+(?:of|and|de|del|di)\s+{CAP}|\s+{CAP})*"
DIRECTION = r"(?:(?:north|south)-?(?:east|west)(?:ern)?|(?:north|south|east|west)(?:ern)?|central)"
AFTER_PREP = re.compile(rf"\b(?P<prep>in|at|near|across|around|from|of|within|over|to|along)\s+(?:the\s+)?"
                        rf"(?P<place>(?:{DIRECTION}\s+(?:coastal\s+)?)?{PHRASE}(?:\s+(?:area|region|county|basin|reservoir area))?)"
                        rf"(?:\s*,\s*(?P<country>{CAP}(?:\s+{CAP})?))?")
GEO_HEAD = re.compile(rf"(?:{HEADS})$")
TOPIC_HEADS = {"earthquake", "landslide", "landslides", "slope"}
"""Heads that also name the topic of a study: in a title they are capitalised like any other word."""
BEFORE_HEAD = re.compile(rf"(?:(?:19|20)\d\d\s+)?(?P<place>(?:{CAP}\s+){{0,3}}{CAP})\s+(?P<head>{HEADS})\b")
NOT_PLACES = re.compile(r"^(?:The|This|These|Those|Our|We|In|It|Its|Fig|Figure|Table|Section|Eq|Equation|Deep|"
                        r"Machine|Learning|Network|Networks|Model|Models|Results?|Data|Dataset|Google|Earth|"
                        r"January|February|March|April|May|June|July|August|September|October|November|December|"
                        r"Sentinel|Landsat|Planet|GF|SAR|InSAR|DEM|LiDAR|UAV|CNN|RNN|LSTM|GRU|GAN|"
                        r"AE|VAE|GNN|Transformer|U|Net|Attention|Random|Support|Vector|Gaussian|Bayesian|Monte|"
                        r"Carlo|Markov|Kalman|Fourier|Adam|ImageNet|Python|MATLAB|ArcGIS)\b")


COMPASS = re.compile(rf"^(?:{DIRECTION}|coastal|upper|lower|inner|outer)$", re.IGNORECASE)
"""Words of direction: transparent when a place is judged ("Northern Italy" is judged by "Italy")."""
CONNECTORS = {"of", "and", "de", "del", "di", "the"}
NON_NAME_SUFFIX = re.compile(r"(?:(?<![jq])ing|ed|able|ible|ive|ous|al|ful|less|ics|tion|tions|sion|ment|ments|"
                             r"ness|ism|ized|ised)$")
"""Suffixes of adjectives, verb forms and abstract nouns ("Predicting", "Reliable"); "-jing", "-qing" are Chinese
place names ("Beijing", "Chongqing")."""
REGIONS = ("Europe", "Asia", "Africa", "America", "Oceania", "Arctic", "Antarctic", "Antarctica", "Himalaya",
           "Himalayas", "Andes", "Alps", "Moon", "Mars")
"""Places beyond countries that a study may name as its area (planetary bodies included)."""
GEO_NOUN = re.compile(r"\b(?:municipality|province|prefecture|region|district|county|city|town|village|area|part|"
                      r"state|island|basin|valley|watershed|catchment|(?:north|south)(?:east|west)?|east|west)"
                      r"\s+of\s+(?:the\s+)?$", re.IGNORECASE)
"""A geographic noun or direction before "of": "the municipality of X", "southeast of X"."""
THEN_COUNTRY = re.compile(rf"(?:\s*,\s*{CAP}(?:\s+{CAP})?){{0,2}}\s*(?:,|\(|\bof\b)\s*(?:the\s+)?"
                          rf"(?:[A-Za-z]*(?:[Nn]orth|[Ss]outh|[Ee]ast|[Ww]est)[a-z]*\s+|[Cc]entral\s+)?"
                          rf"(?P<country>{CAP}(?:\s+{CAP})?)")
"""What follows a place before its country: ", Sichuan, China", " (Spain)", " of southern Brazil"."""
ACRONYM_AFTER = re.compile(r"^\s*\(([A-Z]{2,})s?\)")
"""An acronym in brackets just after a phrase: the phrase is a term being defined, unless a head makes it a place."""
LOWER_HEADS = {"area", "region", "county", "basin", "reservoir"}
"""Lowercase heads that AFTER_PREP keeps with a place ("the Lao Cai area")."""
THEN_HEAD = re.compile(rf"^\s+(?:{HEADS})\b", re.IGNORECASE)


def _known_places() -> frozenset[str]:
    """Folded names of the places of the ontology's events and settings ("Hokkaido", "Jinsha River")."""
    names = set()
    for event in trigger_events():
        for part in re.split(r"[,;]|\band\b", event.place or ""):
            if part.strip() and part.strip()[0].isupper():
                names.add(_fold(part))
    return frozenset(names | {_fold(r) for r in REGIONS})


def _fold(name: str) -> str:
    return " ".join(to_ascii(name).lower().split())


@dataclass(frozen=True)
class Context:
    """What a Doc says about the capitals of its words."""

    tokens: TokenTable
    by_position: frozenset[int]
    """Tokens capitalised by their position: the first word of a sentence, or any word of a Title-Cased title."""
    vouched: frozenset[str]
    """Words the text capitalises where lowercase was expected."""
    lowercase: frozenset[str]
    """Words the text writes in lowercase."""
    events: tuple[tuple[int, int], ...]
    """Character ranges of the names of known events and settings."""

    @classmethod
    def of(cls, doc: Doc, tokens: TokenTable, linker: EventLinker) -> Context:
        title_end = doc._.lskg_title_end or 0
        title = [i for i in range(len(tokens)) if tokens.idx[i] < title_end and tokens.alpha[i]]
        content = [i for i in title if len(tokens.text[i]) > 3]
        title_case = len(content) >= 3 and sum(tokens.text[i][0].isupper() for i in content) >= 0.6 * len(content)
        position = set(title) if title_case else set()
        first = True
        for i, starts in enumerate(tokens.is_start):
            first = first or starts
            if first and tokens.alpha[i]:
                position.add(i)
                first = False
        vouched = {tokens.text[i] for i in range(len(tokens)) if i not in position and tokens.text[i][:1].isupper()}
        lowercase = {tokens.text[i] for i in range(len(tokens)) if tokens.text[i].islower()}
        events = tuple((e.start, e.end) for e in linker.link(tokens.doc_text))
        return cls(tokens, frozenset(position), frozenset(vouched), frozenset(lowercase), events)


class PlaceFinder:
    def __init__(self) -> None:
        register_extensions()
        self.linker = EventLinker()
        self.known = _known_places()

    def __call__(self, doc: Doc) -> Doc:
        tokens = token_table(doc)
        concept_chars = [(tokens.idx[m.start], tokens.end_char(m.end - 1)) for m in mentions(doc)
                         if m.cues and m.cues[0].startswith("label:")]  # concept labels are not places
        context = Context.of(doc, tokens, self.linker)
        places: list[PlaceMention] = []
        text = tokens.doc_text
        for match in AFTER_PREP.finditer(text):
            place = match.group("place").strip()
            country = match.group("country")
            score = 0.5
            has_country = bool(country and COUNTRY.match(country))
            chain = THEN_COUNTRY.match(text, match.end("place"))
            if not has_country and chain and chain.group(0).lstrip().startswith(",") and COUNTRY.match(
                    chain.group("country")):  # "X, Sichuan, China"
                has_country = True
                score, end = 0.9, chain.end()
                place_text = place + chain.group(0)
            elif has_country:
                score, end = 0.9, match.end("country")
                place_text = f"{place}, {country}"
            else:
                end = match.end("place")
                place_text = place
            if COUNTRY.match(place):
                score = max(score, 0.7)
            elif COUNTRY.match(re.sub(rf"^{DIRECTION}\s+(?:coastal\s+)?", "", place)):
                score = max(score, 0.72)  # "southwest China" says more than "China"
            elif place.split()[-1] in LOWER_HEADS:
                score = max(score, 0.75)  # "the Lao Cai area", like a capitalised head
            after_of = match.group("prep") == "of" and not GEO_NOUN.search(text, 0, match.start("place"))
            if self._plausible(context, match.start("place"), match.end("place"), place, has_country,
                               after_of=after_of):
                self._add(places, text, match.start("place"), end, place_text, score, concept_chars)
        for match in BEFORE_HEAD.finditer(text):
            head = match.group("head")
            place = match.group("place").strip()
            score = 0.75 if head[0].isupper() else 0.6
            name = f"{place} {head}" if head[0].isupper() and head.lower() not in TOPIC_HEADS else place
            end = match.end("place") if name == place else match.end()
            if self._plausible(context, match.start("place"), end, name, False, after_of=False):
                self._add(places, text, match.start("place"), end, name, score, concept_chars)
        doc._.lskg_places = places
        return doc

    def _plausible(self, context: Context, start: int, end: int, name: str, has_country: bool, *,
                   after_of: bool) -> bool:
        """Is the capitalised phrase at ``start:end`` (``name``, the part judged) a place name? See the module."""
        words = [w for w in re.split(r"[\s,]+", name) if w and w not in CONNECTORS]
        after = context.tokens.doc_text[end:end + 80]
        then = THEN_COUNTRY.match(after)
        then_head = THEN_HEAD.match(after)
        if has_country or COUNTRY.match(name) or (then and COUNTRY.match(then.group("country"))):
            return True  # a country, or followed by one
        if (then_head and then_head.group(0).strip().lower() not in TOPIC_HEADS) or (words and (
                words[-1] in LOWER_HEADS or GEO_HEAD.match(words[-1]) and words[-1].lower() not in TOPIC_HEADS)):
            return True  # ends in, or is followed by, a geographic head
        if any(s < end and start < e for s, e in context.events):
            return True
        core = [w for w in words if not COMPASS.match(w)]
        if not core:
            return False
        if COUNTRY.match(" ".join(core)) or _fold(" ".join(core)) in self.known or _fold(core[0]) in self.known:
            return True
        if after_of or core[0].lower() in STOP_WORDS:
            return False
        parts = [p for w in core for p in w.split("-") if p]
        if any(re.fullmatch(r"[A-Z]{2,}", p) or NON_NAME_SUFFIX.search(p) or p.lower() in context.lowercase
               for p in parts):
            return False
        acronym = ACRONYM_AFTER.match(after)
        if acronym and acronym.group(1) == "".join(w[0] for w in words).upper():
            return False  # a term introducing its acronym: "Narrow Angle Camera (NAC)"
        span = context.tokens.char_span(start, end)
        if span is None:
            return False
        named = [i for i in range(*span) if context.tokens.alpha[i] and context.tokens.text[i][:1].isupper()
                 and not COMPASS.match(context.tokens.text[i])]
        if all(i in context.by_position for i in named):  # capitalised by position alone: vouched elsewhere?
            return all(context.tokens.text[i] in context.vouched for i in named)
        return True

    @staticmethod
    def _add(places: list[PlaceMention], text: str, start: int, end: int, name: str, score: float,
             concepts: list[tuple[int, int]]) -> None:
        name = re.sub(r"\s+", " ", name).strip(" ,")
        first = name.split()[0] if name else ""
        if not name or NOT_PLACES.match(first) and not COUNTRY.match(name):
            return
        if any(s < end and start < e for s, e in concepts):
            return
        places.append(PlaceMention(start, end, name, round(score, 2), NAME))


@Language.factory(FACTORY)
def make_places(nlp: Language, name: str) -> PlaceFinder:
    return PlaceFinder()
