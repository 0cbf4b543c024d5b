"""Knowledge the decision stage uses: named trigger events (ontology/events.ttl, queryable), the method-step
collection, and the review-kind model on the seed review (skips without ../shared/seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lskg.extract.events import EventLinker, event_linker
from lskg.ontology import EVENTS_FILE, collection_members, concept_index, ontology_files, trigger_events
from lskg.ontology.terms import COLLECTION, EVENT, LANDSLIDE, LSKG, TASK

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"


def test_events_are_loaded_with_the_ontology_and_each_names_a_trigger_type() -> None:
    assert EVENTS_FILE in ontology_files()
    index = concept_index()
    events = trigger_events()
    assert len(events) >= 40
    for event in events:
        concept = index.get(event.trigger_type)
        assert "TriggerType" in concept.types, event.iri
        assert event.label and event.iri.startswith(EVENT.iri)
    named = {e.iri.rsplit("/", 1)[-1] for e in events}
    assert {"Wenchuan2008", "Gorkha2015", "Kaikoura2016", "Iburi2018", "Jiuzhaigou2017", "Haiti2021", "Luding2022",
            "Turkiye2023", "Lushan2013", "Ludian2014", "ChiChi1999", "ThreeGorgesReservoir", "BaihetanReservoir",
            "XiluoduReservoir", "XiangjiabaReservoir", "TyphoonMorakot2009", "OpenPitMine"} <= named


def test_events_are_queryable_with_date_and_place() -> None:
    import pyoxigraph

    from lskg.ontology import ontology_quads
    from lskg.ontology.terms import sparql_prefixes

    store = pyoxigraph.Store()
    store.extend(ontology_quads())
    rows = list(store.query(sparql_prefixes() + """
        SELECT ?event ?date ?place WHERE {
          ?event a lskg:TriggerEvent ; lskg:triggerType landslide:EarthquakeInducedLandslide ;
                 skos:altLabel "Wenchuan earthquake"@en ; lskg:eventDate ?date ; lskg:eventPlace ?place .
        }""", use_default_graph_as_union=True))
    assert len(rows) == 1
    assert rows[0]["event"] == EVENT.Wenchuan2008 and rows[0]["date"].value == "2008-05-12"
    assert "Sichuan" in rows[0]["place"].value
    reservoirs = list(store.query(sparql_prefixes() + """
        SELECT (COUNT(?e) AS ?n) WHERE { ?e lskg:triggerType landslide:ReservoirInducedLandslide }""",
                                  use_default_graph_as_union=True))
    assert int(reservoirs[0]["n"].value) >= 5
    assert LSKG.triggerType and LANDSLIDE.ReservoirInducedLandslide  # the terms are in the closed namespace


@pytest.mark.parametrize("text, expected", [
    ("landslides triggered by the 2018 Hokkaido Eastern Iburi earthquake", ["Iburi2018"]),
    ("after the 2021 Haiti earthquake and the 2010 Haiti earthquake", ["Haiti2021", "Haiti2010"]),
    ("the Kaikōura earthquake of 2016", ["Kaikoura2016"]),
    ("bank slopes of the Three Gorges Reservoir area (TGRA)", ["ThreeGorgesReservoir", "ThreeGorgesReservoir"]),
    ("the tgra and a wenchuan-like event", []),  # acronyms only in their own case; no partial names
    ("slopes of the Fushun West Open-pit Mine", ["FushunWestOpenPit"]),
])
def test_event_mentions_are_linked(text: str, expected: list[str]) -> None:
    found = [hit.event.iri.rsplit("/", 1)[-1] for hit in event_linker().link(text)]
    assert found == expected
    for hit in event_linker().link(text):
        assert text[hit.start:hit.end] == hit.text


def test_a_linker_over_other_events() -> None:
    from lskg.ontology import TriggerEvent

    event = TriggerEvent(EVENT["Test"].value, "Test quake", ("Testquake",), LANDSLIDE.EarthquakeInducedLandslide.value)
    assert [h.text for h in EventLinker([event]).link("the Test quake and the testquake")] == ["Test quake",
                                                                                                "testquake"]


def test_method_step_collection() -> None:
    steps = collection_members(COLLECTION["MethodStep"].value)
    assert {TASK.FeatureExtraction.value, TASK.FeatureSelection.value, TASK.DataFusion.value,
            TASK.DimensionalityReduction.value, TASK.DataAugmentation.value} <= steps
    assert TASK.SusceptibilityMapping.value not in steps and TASK.LandslideDetection.value not in steps


@pytest.mark.seed
def test_review_input_keeps_landslide_studies_and_drops_more_method_references(seed_text: Path) -> None:
    from lskg.extract import extract_corpus

    studies = [json.loads(line)["id"] for line in (GOLD / "seed_studies.jsonl").read_text().splitlines()]
    refs = [json.loads(line)["id"] for line in (GOLD / "method_references.jsonl").read_text().splitlines()]
    rules = {item.study.id: item for item in extract_corpus([seed_text], "review")}
    decided = {item.study.id: item for item in extract_corpus([seed_text], "review", decide=True)}

    def counts(items):
        kept = sum(items[i].study.kind == "landslide_study" for i in studies if i in items)
        wrong = sum(items[i].study.kind == "landslide_study" for i in refs if i in items)
        return kept, wrong

    rules_kept, rules_wrong = counts(rules)
    kept, wrong = counts(decided)
    assert kept >= max(rules_kept, 59) and wrong <= min(rules_wrong, 20)
    flipped = [i for i in studies if rules[i].study.kind == "method_reference" and
               decided[i].study.kind == "landslide_study"]
    assert flipped and any(decided[i].facts for i in flipped)  # re-judged studies are read from their contexts
    for item in decided.values():
        if item.study.kind == "method_reference":
            assert item.facts == []
