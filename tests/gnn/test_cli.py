"""The recommender commands as a user runs them, on an on-disk store."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lskg.build import DEFAULT_CORPUS
from lskg.cli import app
from lskg.cli._app import out as cli_out
from lskg.cli.gnn import evaluate_recommend
from lskg.gnn import evaluate as ev
from lskg.kg.store import StoreDir

from .conftest import make_store

runner = CliRunner()


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    with StoreDir(path).rebuild() as store:
        store.load(make_store(160, seed=7).native.quads_for_pattern(None, None, None, None))
    return path


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_cli_train_recommend_gaps_table(disk_store, tmp_path):
    s = str(disk_store)
    invoke("train", "--store", s, "--recommender", "cooccurrence")
    out = json.loads(invoke("recommend", "--store", s, "--data", "InSAR time series", "--landslide-type",
                            "slow-moving", "--task", "displacement prediction", "--json").stdout)
    assert out["families"][0]["iri"].endswith("/RNN")
    parts = out["evidence"]["parts"]
    assert [p["label"] for p in parts] == ["InSAR time series", "slow-moving landslide", "displacement prediction"]
    assert parts[0]["supporting"][0]["title"] and parts[0]["supporting"][0]["relation"] in ("exact", "narrower",
                                                                                             "broader")
    lo, hi = out["families"][0]["interval"]
    assert lo <= out["families"][0]["score"] <= hi and out["intervals"].startswith("90 % intervals")
    text = invoke("recommend", "--store", s, "--data", "InSAR time series", "--landslide-type", "slow-moving").stdout
    assert "families" in text and out["recommender"] in text
    assert "90 % interval" in text and "widened by a factor measured on held-out studies" in " ".join(text.split())
    # the evidence: per part the studies at the asked, narrower and broader concepts, and a few titles
    assert f"InSAR time series: {parts[0]['exact']} studies at it, {parts[0]['narrower']} at a narrower" in text
    assert f"[{parts[0]['supporting'][0]['relation']}] {parts[0]['supporting'][0]['short_title'][:30]}" in text
    plot = tmp_path / "map.html"
    gaps = json.loads(invoke("gaps", "--store", s, "--facets", "model,task", "--top", "4", "--plot", str(plot),
                             "--write-back", "--json").stdout)
    assert len(gaps["gaps"]) == 4 and plot.read_text().startswith("<!doctype html>")
    rows = json.loads(invoke("query", "gnn_gaps", "--store", s, "--format", "json").stdout)
    assert len(rows["results"]["bindings"]) == 4
    assert invoke("table", "--store", s, "--cols", "data,task", "--format", "csv").stdout.startswith(
        "Model family,Studies,Data sources,Tasks")


def test_cli_evaluate_recommend_json_and_text(disk_store, monkeypatch):
    monkeypatch.setattr(cli_out, "width", 240)  # table cells unwrapped, so their text can be found
    args = ("evaluate", "recommend", "--store", str(disk_store), "--seeds", "1", "--recommenders",
            "popularity,cooccurrence", "--no-random", "--resamples", "25")
    out = json.loads(invoke(*args, "--json").stdout)
    assert set(out["temporal"]["levels"]["family"]["recommenders"]) == {"popularity", "cooccurrence"}
    assert out["default"]["recommender"] in {"popularity", "cooccurrence"} and out["random"] is None
    text = invoke(*args).stdout
    # the text shows what the JSON has: the calibration repair, and the review's Table 1 per recommender
    cal = out["temporal"]["levels"]["family"]["recommenders"]["cooccurrence"]["calibration"]
    assert f"{cal['scaled_interval_coverage']:.2f} (x{cal['interval_scale']:.1f})" in text
    for name in ("popularity", "cooccurrence"):
        t1 = out["table1"][name]
        assert t1["total"] > 0
        assert f"{name}: Table 1 rows recovered {t1['recovered']}/{t1['total']}" in text
        top = t1["insar_creeping_displacement"][0]
        assert f"displacement prediction: {top['family']} {top['score']:.3f}" in text
    assert out["default"]["reason"] in text and out["gap_method"]["reason"] in text
    # the default recommender's Table 1 on bootstrap refits, in both forms
    default = out["default"]["recommender"]
    stability = out["table1"][default]["stability"]
    assert stability["resamples"] == 25 and all(t["stability"] is None for n, t in out["table1"].items() if n != default)
    assert (f"{default} on 25 bootstrap resamples of the studies (seed 0): all rows in the top 3 in "
            f"{stability['all_rows']:.0%} of refits") in text
    first = stability["insar_first"][0]
    assert f"first for the InSAR example: {first['family']} {first['share']:.0%}" in text
    # the option's default is the evaluation's
    assert inspect.signature(evaluate_recommend).parameters["resamples"].default == ev.STABILITY_RESAMPLES


def test_cli_errors_are_user_errors(disk_store):
    result = runner.invoke(app, ["recommend", "--store", str(disk_store), "--data", "tea leaves"])
    assert result.exit_code == 3 and "unknown concept" in result.output
    result = runner.invoke(app, ["gaps", "--store", str(disk_store), "--facets", "data,task"])
    assert result.exit_code == 3


@pytest.mark.slow
@pytest.mark.skipif(not DEFAULT_CORPUS.exists(), reason="no embedded corpus yet")
def test_embedded_corpus_recommends_rnn_for_insar_creeping_displacement(tmp_path):
    """Done-when check of issue 4, on the real literature now embedded: RNN in the top 3 with real supporting
    studies, and the answer says what it rests on. (On the real corpus most of the few studies that combine the
    three parts also use a classical method -- SVM, random forest, XGBoost, ARIMA, often as a comparison -- so RNN
    and classical machine learning are close at the top; the test asks for the top 3, not for a margin.)"""
    store = str(tmp_path / "x")
    invoke("build", "--store", store)
    out = json.loads(invoke("recommend", "--store", store, "--data", "InSAR time series", "--landslide-type",
                            "creeping", "--task", "displacement prediction", "--json").stdout)
    labels = [f["iri"].rsplit("/", 1)[-1] for f in out["families"][:3]]
    assert "RNN" in labels, [f["label"] for f in out["families"]]
    rnn = out["families"][labels.index("RNN")]
    assert rnn["support"] and rnn["confident"]
    assert out["evidence"]["combined"] >= 1 and "combine" in out["evidence"]["summary"]
