"""Extraction mechanisms beyond label matching: verb classes and object heads of task expressions, nested task
heads, trigger phrases, stacked type modifiers, trigger words that are not data, background data mentions, and
the most-specific facet lists. Examples are written for these tests (not taken from the gold files)."""

from __future__ import annotations

import pytest

from lskg.extract.document import Document
from lskg.extract.output import study_record
from lskg.records import Study


def _counted(found: dict[tuple[str, str], str], facet: str) -> set[str]:
    return {label for (f, label), role in found.items() if f == facet and role != "mentioned"}


@pytest.mark.parametrize("text, label", [
    # verb classes: a task's verb stem also matches its class-mates, with the label's object words
    ("The network identifies fresh landslides in Sentinel-2 scenes.", "landslide detection"),
    ("A classifier recognises slides on hillshade images.", "landslide detection"),
    ("We forecast the deformation of the slope for the next month.", "displacement prediction"),
    ("The model anticipates surface displacement of the reservoir bank.", "displacement prediction"),
    ("The maps were used to update regional landslide inventories.", "inventory compilation"),
    ("Missing cells were filled to restore the DEM of the valley.", "DEM reconstruction"),
    # a one-word task label ("segmentation") written as a verb, with a landslide-domain object
    ("An encoder-decoder segments landslides in aerial photographs.", "semantic segmentation"),
    ("We segmented landslide bodies with a small network.", "semantic segmentation"),
    # a new concept reached through its verbal form
    ("The model predicts landslide occurrence from daily weather.", "landslide prediction"),
])
def test_task_expressions(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "task")


def test_object_head_decides_between_tasks(read) -> None:
    found = _counted(read("An LSTM forecasts landslide displacement at three GNSS stations."), "task")
    assert "displacement prediction" in found and "landslide prediction" not in found


def test_verb_with_an_unrelated_object_is_not_a_task(read) -> None:
    found = _counted(read("We segment the time series into monthly windows."), "task")
    assert "semantic segmentation" not in found


@pytest.mark.parametrize("text, label", [
    ("Slope units were used for landslide segmentation in the basin.", "semantic segmentation"),
    ("Training data were prepared for landslide segmentation.", "semantic segmentation"),
])
def test_nested_head_names_the_narrower_task(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "task")


def test_nested_head_does_not_imply_a_sibling(read) -> None:
    found = _counted(read("We apply instance segmentation to UAV orthophotos of the scarp."), "task")
    assert "instance segmentation" in found and "semantic segmentation" not in found


@pytest.mark.parametrize("text, label", [
    ("Slope instability caused by seismic shaking was detected from optical images.",
     "earthquake-induced landslide"),
    ("Hundreds of slope failures were initiated by intense precipitation in the valley.",
     "rainfall-induced landslide"),
    ("Thousands of landslides occurred after the typhoon in 2019.", "typhoon-induced landslide"),
    ("Dozens of rainfall-induced shallow landslides were mapped.", "rainfall-induced landslide"),
    ("Dozens of rainfall-induced shallow landslides were mapped.", "shallow landslide"),
    ("The valley hosts active slow-moving landslides.", "active landslide"),
    ("We forecast displacement of a step-like landslide in the reservoir area.", "step-like landslide"),
])
def test_landslide_type_expressions(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "landslide_type")


@pytest.mark.parametrize("text", [
    "A deep-learning landslide detector was trained on optical images.",
    "A very deep convolutional network detects landslides.",
])
def test_deep_learning_is_not_a_deep_seated_landslide(read, text: str) -> None:
    assert "deep-seated landslide" not in _counted(read(text), "landslide_type")


def test_a_task_object_is_not_a_type(read) -> None:
    found = read("Identifying potential landslides along the corridor is the aim.")
    assert "potential landslide identification" in _counted(found, "task")
    assert "potential landslide" not in _counted(found, "landslide_type")


@pytest.mark.parametrize("text", [
    "Slope failures triggered by heavy rainfall were mapped from UAV images.",
    "Many slides occurred after intense precipitation in the county.",
])
def test_trigger_phrase_is_not_a_data_source(read, text: str) -> None:
    assert "rainfall data" not in _counted(read(text), "data")


def test_rainfall_used_as_input_is_data(read) -> None:
    assert "rainfall data" in _counted(read("We trained an LSTM on displacement and precipitation records."), "data")


@pytest.mark.parametrize("text, label", [
    ("InSAR is widely used for deformation monitoring, but it misses fast slides.", "InSAR"),
    ("Traditional methods rely on optical imagery and manual interpretation.", "optical satellite imagery"),
])
def test_background_data_is_mentioned(read, text: str, label: str) -> None:
    found = read(text)
    assert found.get(("data", label)) == "mentioned"


def test_data_in_a_sentence_about_this_study_is_used(read) -> None:
    found = read("Conventional approaches are slow, so we use InSAR time series from Sentinel-1.")
    assert found.get(("data", "Sentinel-1")) == "applied"


@pytest.mark.parametrize("surface", ["multi-temporal images", "multi-temporal imagery", "multitemporal image"])
def test_images_and_imagery_are_one_word(read, surface: str) -> None:
    assert "multi-temporal optical imagery" in _counted(read(f"We compare {surface} of the slope."), "data")


def test_facet_lists_hold_the_most_specific_concepts(extractor, index) -> None:
    study = Study(id="s", title="", abstract="We segment landslides with SBAS-InSAR velocity and InSAR data.",
                  source="test")
    (facts,) = extractor.run([Document.of_record(study)])
    record = study_record(facts, index)
    assert "semantic segmentation" in record["tasks"] and "landslide mapping" not in record["tasks"]
    assert "SBAS-InSAR" in record["data"] and "InSAR" not in record["data"]
    # the broader facts stay in the concepts list (and in the graph)
    assert {"landslide mapping", "InSAR"} <= {c["label"] for c in record["concepts"]}


@pytest.mark.parametrize("text, facet, labels", [
    ("The GRU learns continuous displacement or rainfall series.", "data",
     {"displacement monitoring data", "rainfall data"}),
    ("We map rainfall- and earthquake-induced landslides in the basin.", "landslide_type",
     {"rainfall-induced landslide", "earthquake-induced landslide"}),
])
def test_coordination_with_a_shared_head(read, text: str, facet: str, labels: set[str]) -> None:
    found = read(text)
    assert labels <= _counted(found, facet)
    if facet == "landslide_type":
        assert "rainfall data" not in _counted(found, "data")


def test_inverted_data_label(read) -> None:
    assert "landslide inventory" in _counted(read("The model was trained on an inventory of 812 landslides."), "data")


@pytest.mark.parametrize("text, label", [
    ("The extracted records were merged to produce a landslide inventory for the province.", "landslide inventory"),
    ("A diffusion model generates synthetic images of fresh scars.", "synthetic data"),
])
def test_data_a_study_produces_is_not_input(read, text: str, label: str) -> None:
    assert read(text).get(("data", label)) == "mentioned"


def test_new_concepts_resolve(index) -> None:
    for label, facet in [("ERA5-Land", "data"), ("temperature", "data"), ("snowmelt", "data"),
                         ("hydrological data", "data"), ("landslide prediction", "task"),
                         ("crack detection", "task"), ("precipitation forecasting", "task"),
                         ("step-like landslide", "landslide_type"), ("irrigation-induced landslide", "landslide_type")]:
        assert index.resolve(label, facet).pref_label
