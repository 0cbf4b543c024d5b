"""Recall on data sources, landslide types and tasks (issue 10): wordings of the real abstracts that no candidate
reached before — phrasal trigger verbs, trigger thresholds, lists of distance factors, plural setting names, and
synonyms added to the ontology. Examples are written for these tests (not taken from the gold files); extraction is
rules-only so each case tests the candidate generators, not the learned decision."""

from __future__ import annotations

import pytest

from lskg.extract.document import Document
from lskg.extract.events import event_linker
from lskg.records import Study


@pytest.fixture(scope="module")
def rules(index):
    """rules(text) -> {(facet, prefLabel): role} of one study text, decision stage off."""
    from lskg.extract.pipeline import Extractor

    extractor = Extractor(index, decide=False)

    def run(text: str, title: str = "") -> dict[tuple[str, str], str]:
        (facts,) = extractor.run([Document.of_record(Study(id="t", title=title, abstract=text, source="test"))])
        return {(f.facet, f.label): f.role for f in facts.facts}

    return run


def _labels(found: dict[tuple[str, str], str], facet: str) -> set[str]:
    return {label for (f, label), role in found.items() if f == facet and role != "mentioned"}


@pytest.mark.parametrize("text, label", [
    ("Shallow slides set off by intense rain blocked the valley road.", "rainfall-induced landslide"),
    ("Many slope failures were brought on by the earthquake shaking.", "earthquake-induced landslide"),
])
def test_phrasal_trigger_verbs(rules, text: str, label: str) -> None:
    assert label in _labels(rules(text), "landslide_type")


def test_trigger_threshold_names_the_trigger(rules) -> None:
    found = _labels(rules("We derive rainfall thresholds for shallow landslides in an alpine valley."), "landslide_type")
    assert "rainfall-induced landslide" in found


def test_threshold_without_landslides_names_no_trigger(rules) -> None:
    found = _labels(rules("Rainfall thresholds were calibrated for flash-flood warnings."), "landslide_type")
    assert "rainfall-induced landslide" not in found


def test_phrasal_trigger_needs_a_failure_word(rules) -> None:
    found = _labels(rules("An alarm was set off by rain gauges in the catchment."), "landslide_type")
    assert "rainfall-induced landslide" not in found


def test_data_word_after_phrasal_trigger_is_no_data(rules) -> None:
    found = rules("Debris flows set off by heavy rainfall were mapped from drone images.")
    assert "rainfall data" not in _labels(found, "data")


@pytest.mark.parametrize("text, expected", [
    ("Factors included slope, distances to the river and to the road, and lithology.",
     {"distance to river", "distance to road"}),
    ("We computed distance from roads, from drainage networks and from faults for every cell.",
     {"distance to road", "distance to river", "distance to fault"}),
    ("Proximity to streams and roads entered the model as two layers.", {"distance to river", "distance to road"}),
])
def test_distance_factor_lists(rules, text: str, expected: set[str]) -> None:
    assert expected <= _labels(rules(text), "data")


def test_distance_list_stops_at_other_words(rules) -> None:
    found = _labels(rules("The distance to the river was measured and faults were mapped in the field."), "data")
    assert "distance to river" in found and "distance to fault" not in found


@pytest.mark.parametrize("text, name", [
    ("Benches of open-pit mines deform before they fail.", "open-pit mine"),
    ("Monitoring of open pit slopes relies on radar.", "open-pit mine"),
    ("Landslides of the 2016 Kumamoto earthquakes were mapped.", "2016 Kumamoto earthquake"),
])
def test_setting_names_may_be_plural(text: str, name: str) -> None:
    assert [m.event.label for m in event_linker().link(text)] == [name]


def test_plural_does_not_extend_into_a_longer_word() -> None:
    assert not list(event_linker().link("The goafsite dataset was used."))


@pytest.mark.parametrize("facet, text, label", [
    ("landslide_type", "Stability of jointed rock slopes along a highway cut was classified.", "rock landslide"),
    ("landslide_type", "Water infiltration into loess slopes was measured in field tests.", "loess landslide"),
    ("landslide_type", "The reservoir bank shows step-like displacement every summer.", "step-like landslide"),
    ("landslide_type", "Step-type landslides dominate the reservoir banks.", "step-like landslide"),
    ("task", "A detector is proposed for rockfall detection in lidar scans.", "landslide detection"),
    ("task", "The network identifies debris flows in video frames from a torrent camera.", "landslide detection"),
    ("task", "We improve debris flow prediction for burned catchments.", "landslide prediction"),
    ("task", "Landslide hazard modelling with random forests is the aim of the work.", "hazard assessment"),
    ("data", "Inputs were elevation, steepness and land cover.", "slope angle"),
    ("data", "Field data from 40 boreholes were used for validation.", "field survey data"),
    ("data", "Topographic features were derived for each slope unit.", "topographic data"),
])
def test_ontology_synonyms(rules, facet: str, text: str, label: str) -> None:
    assert label in _labels(rules(text), facet)


def test_new_rainfall_events_imply_the_trigger() -> None:
    (found,) = event_linker().link("Slides of the Asakura heavy rain in 2017 were digitised.")
    assert found.event.trigger_type.endswith("RainfallInducedLandslide")


@pytest.mark.parametrize("text, implied", [
    ("Landslide displacement is forecast with an LSTM from SBAS-InSAR measurements of the slope.",
     {"InSAR time series"}),
    ("We predict the displacement of the landslide from PS-InSAR with a GRU.", {"InSAR time series"}),
    ("We predict landslide displacement with an LSTM from GNSS records.", set()),
    ("Landslide displacement prediction with an LSTM.", {"displacement monitoring data"}),
])
def test_forecasting_from_a_technique_implies_its_series(rules, text: str, implied: set[str]) -> None:
    """Predicting displacement from a source of an InSAR technique needs that technique's time series; a source
    with no series concept implies nothing; no source at all implies the quantity's data."""
    found = rules(text)
    assert {label for (facet, label) in found if facet == "data"} & {"InSAR time series", "displacement monitoring data"} \
        == implied


def test_a_technique_without_forecasting_implies_no_series(rules) -> None:
    found = rules("SBAS-InSAR deformation rates were mapped for susceptibility mapping with random forests.")
    assert ("data", "InSAR time series") not in found
