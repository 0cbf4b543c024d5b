"""The Python API the CLI and the HTTP layer call: artefacts, recommend, gaps (and write-back), maps, tables."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from lskg.errors import StoreError, UnknownConceptError
from lskg.gnn import artifacts, service
from lskg.gnn.snapshot import Snapshot
from lskg.gnn.synthetic import synthetic_corpus
from lskg.gnn.train import train
from lskg.kg.mapping import study_quads
from lskg.ontology.terms import DATA
from lskg.records import GapReport, Recommendation

from .conftest import make_store


@pytest.fixture
def store():
    return make_store(160, seed=5)


@pytest.fixture
def ready(store, gnn_settings):
    train(Snapshot.from_store(store), gnn_settings, recommender="cooccurrence")
    return store


def test_artifact_is_versioned_and_staleness_is_detected(ready, gnn_settings, caplog):
    path = artifacts.artifact_path(gnn_settings)
    config = json.loads((path / "config.json").read_text())
    assert config["recommender"] == "cooccurrence" and len(config["fingerprint"]) == 64
    assert (path / "metrics.json").exists()
    ready.load(study_quads(synthetic_corpus(1, seed=99)[0]))  # the graph changes
    with pytest.raises(artifacts.StaleModelError):
        artifacts.load(path, Snapshot.from_store(ready))
    with caplog.at_level("WARNING"):
        model = service.trained(ready, gnn_settings)
    assert "retraining" in caplog.text
    assert model.artifact.fingerprint == Snapshot.from_store(ready).fingerprint
    assert json.loads((path / "config.json").read_text())["fingerprint"] == model.artifact.fingerprint


def test_gnn_artifact_keeps_weights(store, gnn_settings):
    from lskg.gnn import train as train_module

    saved = train_module.DEPLOYED["gnn"]
    train_module.DEPLOYED["gnn"] = {"members": 2, "epochs": 20, "hidden": 16}
    try:
        train(Snapshot.from_store(store), gnn_settings, recommender="gnn")
    finally:
        train_module.DEPLOYED["gnn"] = saved
    path = artifacts.artifact_path(gnn_settings)
    assert (path / "weights-gnn.pt").exists()
    artifact, fitted = artifacts.load(path, Snapshot.from_store(store))
    assert len(fitted["gnn"].members) == 2


def test_recommend_returns_a_record_with_its_evidence(ready, gnn_settings):
    result = service.recommend(ready, gnn_settings, data=["InSAR time series"], landslide_type=["slow-moving"],
                               task=["displacement prediction"], top=3)
    assert isinstance(result, Recommendation)
    assert result.recommender == "cooccurrence" and result.model_version
    assert result.context.data[0].label == "InSAR time series" and result.context.data[0].facet == "data"
    first = result.families[0]
    assert first.iri.endswith("/RNN") and first.confident
    assert first.support and first.support[0].title and first.support[0].matches
    assert any("studies" in p or "study" in p for p in first.paths)
    assert len(result.architectures) == 3
    parts = result.evidence.parts
    assert [p.facet for p in parts] == ["data", "landslide_type", "task"]
    for part in parts:
        assert part.studies == part.exact + part.narrower + part.broader
        assert part.supporting and all(s.relation in ("exact", "narrower", "broader") for s in part.supporting)
        assert bool(part.narrower_concepts) == bool(part.narrower)  # says which narrower concepts
        assert part.broader_concepts or not part.broader
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.recommender = "x"  # type: ignore[misc]
    encoded = json.loads(json.dumps(dataclasses.asdict(result)))
    assert encoded["evidence"]["parts"][0]["label"] == "InSAR time series"


def test_intervals_are_widened_by_the_held_out_factor_measured_at_training(ready, gnn_settings):
    """Training measures on a temporal split how much the recommender's +/- must widen to cover 90 % of held-out
    studies; each answer's interval is score +/- 1.645 x spread x that factor, and the answer says so."""
    calibration = json.loads((artifacts.artifact_path(gnn_settings) / "metrics.json").read_text())["calibration"]
    assert calibration["test"] >= 5 and calibration["train"] >= 10
    scale = calibration["family"]["interval_scale"]
    assert scale > 0 and 0.0 <= calibration["family"]["scaled_interval_coverage"] <= 1.0
    result = service.recommend(ready, gnn_settings, data=["InSAR time series"], landslide_type=["slow-moving"],
                               task=["displacement prediction"], top=3)
    for item in result.families:
        lo, hi = item.interval
        assert lo <= item.score <= hi
        assert hi - lo == pytest.approx(min(1.0, item.score + 1.645 * scale * item.uncertainty)
                                        - max(0.0, item.score - 1.645 * scale * item.uncertainty), abs=1e-5)
    assert f"x{scale:.2f}" in result.intervals and "held-out" in result.intervals


def test_without_a_held_out_check_there_is_no_interval(gnn_settings):
    undated = make_store(30, seed=3)
    year = "<http://purl.org/spar/fabio/hasPublicationYear>"
    undated.update(f"DELETE WHERE {{ ?s {year} ?y }}; DELETE WHERE {{ GRAPH ?g {{ ?s {year} ?y }} }}")
    snap = Snapshot.from_store(undated)
    assert all(s.year is None for s in snap.studies)
    train(snap, gnn_settings, recommender="cooccurrence")
    result = service.recommend(undated, gnn_settings, data=["InSAR"], top=2)
    assert all(item.interval is None for item in result.families)
    assert result.intervals.startswith("No interval: the recommender was trained without a held-out check")


def test_summary_says_when_no_study_combines_the_parts(ready, gnn_settings):
    snap = service.snapshot(ready, gnn_settings)
    stated = snap.stated("landslide_type")
    with_insar = snap.stated("data")[:, snap.concepts["data"].index[DATA.InSARTimeSeries.value]]
    alone = [snap.concepts["landslide_type"].labels[i] for i in range(stated.shape[1])
             if stated[:, i].any() and not (stated[:, i] & with_insar).any()
             and not snap.concepts["landslide_type"].broader[i]]
    assert alone, "the synthetic graph has a landslide type never studied with InSAR time series"
    result = service.recommend(ready, gnn_settings, data=["InSAR time series"], landslide_type=alone[:1])
    if result.evidence.combined == 0:
        assert result.evidence.basis == "parts"
        assert result.evidence.summary.startswith(f"No study in the graph combines InSAR time series with {alone[0]}; "
                                                  "this rests on ")
        counts = [p.studies for p in result.evidence.parts]
        assert f"{counts[0]} InSAR time series studies" in result.evidence.summary
    else:  # a narrower or broader concept combines them: the summary counts those
        assert "combine" in result.evidence.summary


def test_graph_cache_keys_by_fingerprint_and_version(ready, gnn_settings):
    cache = service.GraphCache()
    first = service.trained(ready, gnn_settings, cache=cache, version="v1")
    assert service.trained(ready, gnn_settings, cache=cache, version="v1") is first
    assert cache.versions == {"v1": first.snapshot.fingerprint}
    # another name for the same content shares the snapshot and the loaded recommender
    assert service.trained(ready, gnn_settings, cache=cache, version="v2") is first
    # a changed graph (a new version) gets its own snapshot, recommender and fingerprint
    ready.load(study_quads(synthetic_corpus(1, seed=99)[0]))
    changed = service.trained(ready, gnn_settings, cache=cache, version="v3")
    assert changed.snapshot.fingerprint != first.snapshot.fingerprint
    assert set(cache.snapshots) == {first.snapshot.fingerprint, changed.snapshot.fingerprint}


def test_build_saves_the_snapshot_a_server_loads_without_reading_the_graph(tmp_path, monkeypatch):
    from lskg.gnn import snapshot as snapshots
    from lskg.gnn.train import train_for_store
    from lskg.kg.store import StoreDir
    from lskg.settings import Settings

    settings = Settings(store=str(tmp_path / "s"))
    with StoreDir(settings.store).rebuild() as writable:
        writable.load(make_store(60, seed=3).native.quads_for_pattern(None, None, None, None))
    with StoreDir(settings.store).open(read_only=True) as store:
        version = snapshots.graph_version(store)
        assert version == StoreDir(settings.store).generation()
        model = train_for_store(store, settings, recommender="cooccurrence")
    saved = snapshots.load(snapshots.saved_path(settings), version)
    assert saved is not None and saved.fingerprint == model.snapshot.fingerprint
    assert snapshots.load(snapshots.saved_path(settings), "another-generation") is None

    def no_reading(store):
        raise AssertionError("the graph was read")

    monkeypatch.setattr(snapshots.Snapshot, "from_store", no_reading)
    cache = service.GraphCache()
    with StoreDir(settings.store).open(read_only=True) as store:
        assert service.preload(store, settings, cache, version)
        result = service.recommend(store, settings, data=["InSAR time series"], cache=cache, version=version)
    assert result.families and result.model_version == model.artifact.model_version


def test_unknown_concept_is_a_user_error(ready, gnn_settings):
    with pytest.raises(UnknownConceptError):
        service.recommend(ready, gnn_settings, data=["tea leaves"])


@pytest.mark.parametrize("facets", [("model", "data"), ("model", "task"), ("model", "data", "landslide_type")])
def test_gaps_are_ranked_with_reasons(ready, gnn_settings, facets):
    result = service.gaps(ready, gnn_settings, facets=facets, top=10)
    assert isinstance(result, GapReport)
    assert result.facets == facets and result.generated
    scores = [g.gap_score for g in result.gaps]
    assert scores == sorted(scores, reverse=True) and len(scores) == 10
    for gap in result.gaps:
        assert tuple(c.facet for c in gap.concepts) == facets
        assert gap.why and isinstance(gap.observed, int)
        assert gap.kind == ("white spot" if gap.observed == 0 else "thin spot")


def test_gaps_written_back_are_queryable(ready, gnn_settings):
    first = service.gaps(ready, gnn_settings, facets=("model", "data"), top=5)
    assert service.write_gaps(ready, gnn_settings, first) == 5
    service.write_gaps(ready, gnn_settings, service.gaps(ready, gnn_settings, facets=("model", "task"), top=3))
    rows = ready.select("gnn_gaps")
    assert len(rows) == 8
    data_rows = ready.select("gnn_gaps", facet_pair="model,data")
    assert [int(r["rank"].value) for r in data_rows] == [1, 2, 3, 4, 5]
    assert data_rows[0]["modelVersion"].value == first.model_version
    # rewriting one combination replaces it and keeps the others
    service.write_gaps(ready, gnn_settings, service.gaps(ready, gnn_settings, facets=("model", "data"), top=2))
    assert len(ready.select("gnn_gaps")) == 5


def test_write_back_needs_a_writable_store(tmp_path, gnn_settings):
    from lskg.kg.store import StoreDir

    with StoreDir(tmp_path / "s").rebuild() as writable:
        writable.load(make_store(40).native.quads_for_pattern(None, None, None, None))
    with StoreDir(tmp_path / "s").open(read_only=True) as read_only:
        with pytest.raises(StoreError):
            service.write_gaps(read_only, gnn_settings,
                               GapReport(("model", "data"), "x", "cooccurrence", "2025-01-01T00:00:00+00:00", ()))


def test_gap_map_formats(ready, gnn_settings):
    png = service.gap_map(ready, gnn_settings, fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = service.gap_map(ready, gnn_settings, cols="task", fmt="svg")
    assert b"<svg" in svg[:500]
    page = service.gap_map(ready, gnn_settings, cols="landslide_type", fmt="html").decode()
    assert page.startswith("<!doctype html>") and "title=" in page and "src=" not in page and "http" not in page
    matrix = service.gap_map(ready, gnn_settings, fmt="json")
    assert len(matrix["counts"]) == len(matrix["rows"]) == len(matrix["scores"])
    assert len(matrix["counts"][0]) == len(matrix["cols"])


def test_tables_in_every_format(ready, gnn_settings):
    md = service.table(ready, gnn_settings, fmt="md")
    assert md.splitlines()[0].startswith("| Model family | Studies | Data sources")
    rows = list(csv.reader(io.StringIO(service.table(ready, gnn_settings, fmt="csv"))))
    assert rows[0][:2] == ["Model family", "Studies"] and len(rows) > 2
    assert any("Author" in cell and "(20" in cell for row in rows for cell in row)  # citations
    assert r"\begin{tabular}" in service.table(ready, gnn_settings, fmt="latex")
    assert "<table>" in service.table(ready, gnn_settings, cols=("task",), fmt="html")


def test_table_escaping():
    from lskg.gnn.tables import latex_escape, md_escape, render

    assert latex_escape("a & b_c 50%") == r"a \& b\_c 50\%"
    assert md_escape("a|b") == r"a\|b"
    table = [{"label": "<CNN>", "studies": 1, "cells": {"data": []}}]
    assert "&lt;CNN&gt;" in render(table, "family", ("data",), "html")
