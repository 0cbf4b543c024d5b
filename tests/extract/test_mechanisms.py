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


# --- purposes and results, object heads, implied series, compound heads -------------------------------------

@pytest.mark.parametrize("text, label", [
    # a post-modifier before the verb is skipped: the head noun decides
    ("A catalogue of 734 slides was compiled for the county.", "inventory compilation"),
    ("The deformation of the Baishuihe landslide was forecast for 30 days.", "displacement prediction"),
    # a task label's agent noun compounded with its objects names the task
    ("We build a displacement predictor from a stacked GRU.", "displacement prediction"),
    ("An anomaly detector screens the velocity maps of the plateau.", "anomaly detection"),
    # "fusion" has a short stem
    ("Self-attention is used to fuse multi-source inputs of the basin.", "data fusion"),
    # manner words of a modifier: "pixel-level classification" is "classify each pixel"
    ("The decoder classifies each pixel as scar or background.", "semantic segmentation"),
    ("A small network maps debris flows at the pixel level.", "semantic segmentation"),
    # detect-class verbs
    ("The model locates fresh landslides in post-event scenes.", "landslide detection"),
    ("Time-series analysis revealed 19 slow landslides along the river.", "landslide detection"),
    # susceptibility written as a noun phrase or a product
    ("Zones of very high susceptibility to landslides were found near the faults.", "susceptibility mapping"),
    ("A convolutional network for landslide susceptibility in the Alps.", "susceptibility mapping"),
    ("The final susceptibility map was validated with 120 events.", "susceptibility mapping"),
    ("Landslide-prone areas were outlined with gradient boosting.", "susceptibility mapping"),
    ("How transferable are the models? A cross-domain evaluation on four regions.", "cross-domain prediction"),
    ("Spatial prediction of landslides with a hybrid ensemble in the Himalaya.", "susceptibility mapping"),
    ("The autoencoder flagged anomalous tilt readings at two boreholes.", "anomaly detection"),
    # quantities inside the object phrase, modalities, alarm systems, uncertainty maps
    ("The network detected 64% of the slides in the test tiles.", "landslide detection"),
    ("A gated module fuses both modalities of the slope.", "data fusion"),
    ("Forecasts feed the alarm system of the village.", "early warning"),
    ("Monte Carlo dropout yields an uncertainty map for every tile.", "uncertainty quantification"),
])
def test_purpose_and_result_expressions(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "task")


@pytest.mark.parametrize("text, absent", [
    ("The displacement of the Baishuihe landslide was forecast for 30 days.", "landslide prediction"),
    ("We predict the velocity of the slide from rainfall.", "landslide prediction"),
    ("Areas of high susceptibility to landslides were identified.", "landslide detection"),
    ("The LSTM used monthly rainfall to forecast the deformation.", "precipitation forecasting"),
    ("A landslide classifier was trained on 500 patches.", "landslide detection"),
    ("Spatial prediction of landslides with a hybrid ensemble in the Himalaya.", "landslide prediction"),
])
def test_post_modifiers_and_infinitives_are_not_task_heads(read, text: str, absent: str) -> None:
    assert absent not in _counted(read(text), "task")


@pytest.mark.parametrize("text, label", [
    ("An LSTM forecasts the deformation of the slope one month ahead.", "displacement monitoring data"),
    ("A Transformer is adapted to short-term rainfall forecasting.", "rainfall data"),
])
def test_a_forecast_implies_the_observed_series(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "data")


@pytest.mark.parametrize("text", [
    "GNSS displacement of six stations was used to forecast the deformation.",
    "PS-InSAR results of the terrace were used to predict the displacement field.",
    "An inclinometer record was used to forecast the deformation of the bank.",
])
def test_a_named_source_of_the_series_is_enough(read, text: str) -> None:
    assert "displacement monitoring data" not in _counted(read(text), "data")


@pytest.mark.parametrize("text, present, absent", [
    ("We resampled airborne LiDAR DEM tiles of the valley.", "LiDAR-derived DEM", "airborne LiDAR point cloud"),
    ("Candidate points were chosen in ground-based SAR data.", "ground-based SAR", "SAR imagery"),
    ("Deformation was derived from PS-InSAR time series.", "PS-InSAR", "InSAR time series"),
])
def test_compound_head_names_the_data(read, text: str, present: str, absent: str) -> None:
    found = _counted(read(text), "data")
    assert present in found and absent not in found


@pytest.mark.parametrize("text, label", [
    ("An inventory was compiled from Google Earth images of the gorge.", "Google Earth imagery"),
    ("Susceptibility maps were produced using Sentinel-2 scenes.", "Sentinel-2"),
])
def test_data_a_product_is_made_from_is_input(read, text: str, label: str) -> None:
    assert read(text).get(("data", label)) == "applied"


def test_added_labels_resolve(index) -> None:
    for label, facet, pref in [("susceptibility to landslides", "task", "susceptibility mapping"),
                               ("landslide susceptibility map", "task", "susceptibility mapping"),
                               ("pixel-level mapping", "task", "semantic segmentation"),
                               ("cross-domain evaluation", "task", "cross-domain prediction"),
                               ("transferability", "task", "cross-domain prediction")]:
        assert index.resolve(label, facet).pref_label == pref


@pytest.mark.parametrize("text", [
    "Heavy rainfall was reported as the trigger of most failures in the archive.",
    "Precipitation is the main cause of the slides recorded by the agency.",
])
def test_data_word_as_the_trigger_is_not_data(read, text: str) -> None:
    assert "rainfall data" not in _counted(read(text), "data")


def test_trigger_variable_is_still_data(read) -> None:
    assert "rainfall data" in _counted(read("We used rainfall as the main trigger variable of the model."), "data")


@pytest.mark.parametrize("text, label", [
    ("The resulting landslide inventory lists 900 slides in the district.", "landslide inventory"),
    ("Image time series were used for reconstructing a landslide inventory of the valley.", "landslide inventory"),
])
def test_resulting_or_reconstructed_data_is_output(read, text: str, label: str) -> None:
    assert read(text).get(("data", label)) == "mentioned"


@pytest.mark.parametrize("text, label", [
    ("Cameras carried by unmanned aerial vehicles recorded the cracks.", "UAV imagery"),
    ("Signals from several monitoring sites are pooled by the graph.", "ground-based monitoring data"),
])
def test_platform_and_site_labels(read, text: str, label: str) -> None:
    assert label in _counted(read(text), "data")
