"""What a recommendation rests on (asked, narrower, broader concept; combined or not; no evidence at all), titles
cut at word boundaries, calibration in the evaluation, the learned gap scorer's back-test, the plausibility filter
and the unknown status, and training outside requests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lskg.gnn import evaluate as ev
from lskg.gnn import gapscore, service
from lskg.gnn.gaps import family_modalities
from lskg.gnn.recommend import evidence, part_matches
from lskg.gnn.snapshot import Snapshot, short_title
from lskg.gnn.train import train, train_for_store

from .conftest import make_store


@given(st.text(alphabet="ab cdé-", max_size=120), st.integers(min_value=5, max_value=90))
def test_short_title_never_cuts_mid_word(title, width):
    out = short_title(title, width)
    words = title.split()
    if out.endswith("…"):
        kept = out[:-1].split()
        assert kept == words[: len(kept)] or (kept and kept[-1].rstrip(" ,;:.-") == words[len(kept) - 1].rstrip(" ,;:.-"))
    else:
        assert out == " ".join(words)


def _concept(snap: Snapshot, facet: str, label: str) -> int:
    return snap.concepts[facet].labels.index(label)


def test_evidence_counts_narrower_and_broader_studies(snap):
    insar = _concept(snap, "data", "InSAR")
    series = _concept(snap, "data", "InSAR time series")
    at_insar = part_matches(snap, "data", insar)
    at_series = part_matches(snap, "data", series)
    # a study stating InSAR time series is narrower evidence for InSAR ...
    assert (at_insar["narrower"] & at_series["exact"]).sum() == at_series["exact"].sum()
    # ... and one stating only InSAR is broader evidence for InSAR time series
    if at_insar["exact"].any():
        assert at_series["broader"][at_insar["exact"] & ~at_series["exact"]].all()
        assert "InSAR" in [snap.concepts["data"].labels[j] for j in at_series["broader_concepts"]]


def test_evidence_says_when_no_study_combines_the_parts(snap):
    rare = min(range(len(snap.concepts["landslide_type"])),
               key=lambda i: (snap.stated("landslide_type")[:, i].sum() == 0, snap.stated("landslide_type")[:, i].sum()))
    data = _concept(snap, "data", "InSAR time series")
    ev_ = evidence(snap, {"data": {data}, "landslide_type": {rare}, "task": set()})
    assert ev_.parts[0].studies > 0
    if ev_.combined == 0:
        assert ev_.summary.startswith("No study in the graph combines")
        assert "this rests on" in ev_.summary
    else:
        assert "combine" in ev_.summary


@pytest.fixture(scope="module")
def ready_store(tmp_path_factory):
    from lskg.settings import Settings

    store = make_store(160, seed=5)
    d = tmp_path_factory.mktemp("ev")
    settings = Settings(store=str(d / "store"), artifacts=str(d / "models"))
    train(Snapshot.from_store(store), settings, recommender="cooccurrence")
    return store, settings


def test_context_without_any_study_says_so(ready_store):
    store, settings = ready_store
    snap = service.snapshot(store, settings)
    unused = [snap.concepts["data"].labels[i] for i in range(len(snap.concepts["data"]))
              if not snap.stated("data")[:, i].any() and not snap.concepts["data"].broader[i]]
    unused_type = [snap.concepts["landslide_type"].labels[i] for i in range(len(snap.concepts["landslide_type"]))
                   if not snap.incidence[:, snap.columns[("landslide_type", i)]].any()
                   and not snap.concepts["landslide_type"].broader[i]]
    if not unused or not unused_type:
        pytest.skip("every top concept is used in this synthetic graph")
    result = service.recommend(store, settings, data=unused[:1], landslide_type=unused_type[:1], top=3)
    assert result.evidence.basis == "none"
    assert result.summary.startswith("No study in the graph uses")
    assert not result.families[0].confident
    assert "no study supports this context" in result.families[0].paths[0]


def test_recommendation_lists_evidence_per_part(ready_store):
    store, settings = ready_store
    result = service.recommend(store, settings, data=["InSAR time series"], landslide_type=["slow-moving"],
                               task=["displacement prediction"], top=3)
    parts = result.evidence.parts
    assert [p.facet for p in parts] == ["data", "landslide_type", "task"]
    for p in parts:
        assert p.studies == p.exact + p.narrower + p.broader
        assert all(s.relation in ("exact", "narrower", "broader") for s in p.supporting)
        assert all(len(s.short_title) <= 81 for s in p.supporting)
    assert result.summary and result.evidence.basis in ("combined", "parts")
    assert result.families[0].support[0].matches


def test_evaluation_reports_calibration(snap):
    report = ev.public(ev.evaluate(snap, names=["popularity", "cooccurrence", "rp3beta", "ease"], seeds=(0,),
                                   random=False))
    row = report["temporal"]["levels"]["family"]["recommenders"]["cooccurrence"]
    cal = row["calibration"]
    assert 0 <= cal["interval_coverage"] <= 1 and 0 <= cal["conformal_coverage"] <= 1
    assert cal["conformal_set_size"] >= 1 and 0 <= cal["brier"] <= 1
    assert cal["interval_scale"] > 0 and 0 <= cal["scaled_interval_coverage"] <= 1  # held-out, widened
    assert set(report["table1"]) == {"popularity", "cooccurrence", "rp3beta", "ease"}
    assert report["table1"]["cooccurrence"]["total"] == len(snap.typical)
    bt = report["gap_backtest"]
    assert {"learned", *gapscore.HEURISTICS} <= set(bt["scorers"])
    assert bt["positives"] >= 0 and "implausible_white_spots" in bt["filter"]
    assert report["gap_method"]["method"] in ("learned", *gapscore.HEURISTICS)


def test_learned_gap_scorer_sees_no_future(snap):
    split = ev.temporal_split(snap)
    scorer = gapscore.LearnedGapScorer().fit(snap, split.train)
    assert scorer.trained_on["cutoff"] == int(snap.years[split.train].max()) - gapscore.HORIZON
    combos = [c for _, c in gapscore.candidates(snap, split.train)][:50]
    before = gapscore.features(snap, split.train, combos)
    assert np.isfinite(gapscore.matrix(before)).all()
    assert (before["count_observed"] == gapscore.observed(snap, split.train, combos)).all()


def test_ties_are_broken_by_the_secondary_score():
    order = gapscore.rank_with_ties(np.array([0.5, 0.9, 0.5, 0.5]), np.array([1.0, 0.0, 3.0, 2.0]))
    assert order.tolist() == [1, 2, 3, 0]


def test_a_sequence_model_on_an_image_benchmark_is_not_a_gap(snap):
    rnn = snap.model.labels.index("recurrent neural network")
    allowed = family_modalities(snap)
    assert "time series" in allowed[rnn]
    image = [i for i in range(len(snap.concepts["data"])) if snap.modality_of(i) == "image"]
    assert image
    benchmark = snap.concepts["data"].labels.index("Landslide4Sense")
    assert snap.modality_of(benchmark) == "image"
    mask = ev.plausible_mask(snap, [(("model", rnn), ("data", benchmark))])
    assert mask.tolist() == [("image" in allowed[rnn])]


def test_gap_map_marks_unknown_and_strongest(ready_store):
    store, settings = ready_store
    matrix = service.gap_map(store, settings, rows="model", cols="data", fmt="json")
    statuses = {s for row in matrix["status"] for s in row}
    assert statuses <= {"gap", "studied", "unknown", "implausible"}
    ranks = sorted(r for row in matrix["rank"] for r in row if r)
    assert ranks == list(range(1, len(ranks) + 1))  # every gap has its own rank: ties broken
    strongest = [(r, c) for r, row in enumerate(matrix["strongest"]) for c, x in enumerate(row) if x]
    assert len(strongest) == min(5, len(ranks))
    for r, row in enumerate(matrix["status"]):
        for c, s in enumerate(row):
            if s != "gap":
                assert matrix["scores"][r][c] == 0
            assert matrix["evidence"][r][c]
    html = service.gap_map(store, settings, rows="model", cols="data", fmt="html").decode()
    assert 'id="scale"' in html and "linear-gradient" in html


def test_gaps_list_only_gaps(ready_store):
    store, settings = ready_store
    found = service.gaps(store, settings, facets=("model", "data"), top=10).gaps
    assert found and all(g.kind in ("white spot", "thin spot") for g in found)
    scores = [g.gap_score for g in found]
    assert scores == sorted(scores, reverse=True)


def test_train_for_store_trains_outside_requests(tmp_path):
    from lskg.settings import Settings

    store = make_store(120, seed=3)
    settings = Settings(store=str(tmp_path / "store"), artifacts=str(tmp_path / "models"))
    assert service.ready(store, settings) is None  # nothing trained yet, and ready() never trains
    calls = []
    model = train_for_store(store, settings, lambda stage, done, total: calls.append(stage),
                            recommender="cooccurrence")
    assert calls and "reading the graph" in calls and "calibrating" in calls
    assert model.sentence.startswith("Recommender: cooccurrence")
    scale = model.artifact.metrics["calibration"]["family"]["interval_scale"]
    assert f"its family intervals are widened x{scale:.2f} to cover 90 %" in model.sentence
    assert service.ready(store, settings) is not None
