"""``lskg.places.v1``: the study area — "in the Three Gorges Reservoir area, China", "Wenchuan", "Hokkaido".

A simple, explainable heuristic: a run of capitalised words after a locative preposition ("in", "at", "near",
"across", "from", "of", "around"), or before a geographic head noun ("County", "Province", "Reservoir",
"earthquake"...), scored higher when a country follows or the phrase is itself a country. Concept labels
(``Sentinel-1``, ``Landslide4Sense``), figure/table references and publication names are not places.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import token_table
from lskg.extract.mentions import PlaceMention, mentions, register_extensions

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
         "State|Municipality|earthquake|landslide|landslides|slope|Landslide|Earthquake")
CAP = r"(?:[A-Z][a-z\u00c0-\u024f'’-]+|[A-Z]{2,})"
PHRASE = rf"{CAP}(?:\s+(?:of|and|de|del|di)\s+{CAP}|\s+{CAP})*"
AFTER_PREP = re.compile(rf"\b(?:in|at|near|across|around|from|of|within|over|to|along)\s+(?:the\s+)?"
                        rf"(?P<place>{PHRASE}(?:\s+(?:area|region|county|basin|reservoir area))?)"
                        rf"(?:\s*,\s*(?P<country>{CAP}(?:\s+{CAP})?))?")
BEFORE_HEAD = re.compile(rf"(?:(?:19|20)\d\d\s+)?(?P<place>(?:{CAP}\s+){{0,3}}{CAP})\s+(?P<head>{HEADS})\b")
NOT_PLACES = re.compile(r"^(?:The|This|These|Those|Our|We|In|It|Its|Fig|Figure|Table|Section|Eq|Equation|Deep|"
                        r"Machine|Learning|Network|Networks|Model|Models|Results?|Data|Dataset|Google|Earth|"
                        r"January|February|March|April|May|June|July|August|September|October|November|December|"
                        r"Sentinel|Landsat|Planet|GF|SAR|InSAR|DEM|LiDAR|UAV|CNN|RNN|LSTM|GRU|GAN|"
                        r"AE|VAE|GNN|Transformer|U|Net|Attention|Random|Support|Vector|Gaussian|Bayesian|Monte|"
                        r"Carlo|Markov|Kalman|Fourier|Adam|ImageNet|Python|MATLAB|ArcGIS)\b")


class PlaceFinder:
    def __init__(self) -> None:
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        tokens = token_table(doc)
        concept_chars = [(tokens.idx[m.start], tokens.end_char(m.end - 1)) for m in mentions(doc)
                         if m.cues and m.cues[0].startswith("label:")]  # concept labels are not places
        places: list[PlaceMention] = []
        text = tokens.doc_text
        for match in AFTER_PREP.finditer(text):
            place = match.group("place").strip()
            country = match.group("country")
            score = 0.5
            if country and COUNTRY.match(country):
                score, end = 0.9, match.end("country")
                place_text = f"{place}, {country}"
            else:
                end = match.end("place")
                place_text = place
            if COUNTRY.match(place):
                score = max(score, 0.7)
            self._add(places, text, match.start("place"), end, place_text, score, concept_chars)
        for match in BEFORE_HEAD.finditer(text):
            head = match.group("head")
            place = match.group("place").strip()
            score = 0.75 if head[0].isupper() else 0.6
            name = f"{place} {head}" if head[0].isupper() and head.lower() not in {"earthquake", "landslide",
                                                                                       "landslides", "slope"} else place
            self._add(places, text, match.start("place"), match.end("place") if name == place else match.end(),
                      name, score, concept_chars)
        doc._.lskg_places = places
        return doc

    @staticmethod
    def _add(places: list[PlaceMention], text: str, start: int, end: int, name: str, score: float,
             concepts: list[tuple[int, int]]) -> None:
        name = re.sub(r"\s+", " ", name).strip(" ,")
        first = name.split()[0] if name else ""
        if not name or NOT_PLACES.match(first) and not COUNTRY.match(name):
            return
        if any(s < end and start < e for s, e in concepts):
            return
        if re.fullmatch(r"[A-Z]{2,}", first) and not COUNTRY.match(name):
            score -= 0.2  # acronyms are rarely places
        places.append(PlaceMention(start, end, name, round(score, 2), NAME))


@Language.factory(FACTORY)
def make_places(nlp: Language, name: str) -> PlaceFinder:
    return PlaceFinder()
