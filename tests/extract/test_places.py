"""The study-area extractor (``lskg.places.v1``): capitalised common words are not places, real names still are."""

from __future__ import annotations

import pytest

from lskg.extract.document import Document
from lskg.records import Study


@pytest.fixture(scope="module")
def place(extractor):
    """place(abstract, title="") -> the study's place, or None."""
    def run(abstract: str, title: str = "") -> str | None:
        (facts,) = extractor.run([Document.of_record(Study(id="p", title=title, abstract=abstract))])
        return facts.place

    return run


@pytest.mark.parametrize("abstract, expected", [
    # a head noun, a country or a known event makes a place, wherever it stands
    ("Slope failures along the Nujiang Valley were inventoried from aerial photographs.", "Nujiang Valley"),
    ("Debris flows of the Minjiang River basin, Sichuan, China, were simulated.", "Minjiang River basin, Sichuan, "
                                                                                   "China"),
    ("Wenchuan earthquake landslides were digitised from imagery taken one week later.", "Wenchuan"),
    ("Rockfalls were logged for the Baihetan Reservoir after its first filling.", "Baihetan Reservoir"),
    ("Our inventory covers the slopes of the Qilian Mountains over two decades.", "Qilian Mountains"),
    ("Field surveys near Kyoto (Japan) supported the labels.", "Kyoto"),
    ("The model was checked on shallow slides in British Columbia, Canada.", "British Columbia, Canada"),
    # a name that the text capitalises mid-sentence, before a lowercase head
    ("Monitoring data of the Tuanjie landslide were gathered by six GNSS stations.", "Tuanjie"),
    ("Tuanjie landslide moved in steps. Displacement of the Tuanjie landslide was recorded monthly.", "Tuanjie"),
    # a direction before a country, a lowercase head after a name
    ("Shallow slides in southwest China were mapped after the monsoon.", "southwest China"),
    ("The inventory lists 900 slides in the Lao Cai area with their triggers.", "Lao Cai area"),
    # "of" after a geographic noun
    ("Slides in the municipality of Portoviejo (Ecuador) were modelled.", "Portoviejo"),
    # known places beyond the country list: the ontology's event places, continents, planets
    ("Scarps were delineated across Hokkaido after the storm.", "Hokkaido"),
    ("Mass wasting features were detected on images of Mars taken from orbit.", "Mars"),
])
def test_real_places_are_kept(place, abstract: str, expected: str) -> None:
    assert place(abstract) == expected


@pytest.mark.parametrize("abstract", [
    # a sentence-initial adjective or verb before a lowercase head
    "Reliable landslide detection needs many labelled scenes.",
    "Forecasting landslide displacement remains hard for step-like slopes.",
    "Autonomous slope inspection by drones is proposed.",
    "Conventional landslide mapping relies on visual interpretation.",
    # a stop word that starts a sentence
    "Because landslide scars are small, the network uses a high resolution.",
    # "of" a capitalised word that is not followed by a geographic head or country
    "Sensors built on the Internet of Things stream tilt data to the model.",
    "The slope was analysed with the Factor of Safety as a target.",
    # acronyms without a head
    "Results from the RS data and the GM model agree.",
    # a term that introduces its acronym
    "Images from the Narrow Angle Camera (NAC) were tiled.",
    # capitalised words the same text writes in lowercase
    "Data from Remote Sensing platforms were fused; remote sensing gives wide coverage.",
    # an organisation ending in a suffix of an abstract noun or adjective
    "Labels were checked at the Geotechnical Center of Excellence by two experts.",
])
def test_capitalised_common_words_are_not_places(place, abstract: str) -> None:
    assert place(abstract) is None


@pytest.mark.parametrize("title, abstract", [
    # a Title-Cased title: its capitals say nothing, and the abstract never capitalises the word mid-sentence
    ("Robust Landslide Segmentation From Noisy Labels", "We train a segmentation network on noisy masks."),
    ("Managing Slope Risk With Graph Networks", "A graph network ranks slopes by risk."),
    ("Predicting Slope Instabilities Using Physics-Guided Learning", "A physics-guided network is trained."),
])
def test_title_case_titles_need_a_confirmed_name(place, title: str, abstract: str) -> None:
    assert place(abstract, title) is None


def test_a_title_word_that_the_abstract_capitalises_mid_sentence_is_a_place(place) -> None:
    title = "Displacement Forecasting of the Tuanjie Landslide With Recurrent Networks"
    assert place("We forecast the motion of the Tuanjie landslide with an LSTM.", title) == "Tuanjie"
