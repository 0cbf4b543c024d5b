from __future__ import annotations

import json

import numpy as np
import pytest

from lskg.build import DEFAULT_CORPUS, build
from lskg.gnn import evaluate as ev
from lskg.gnn.models import with_queries
from lskg.gnn.registry import create
from lskg.gnn.snapshot import EDGE_NAMES, Snapshot
from lskg.kg import open_store
from lskg.records import Calibration, EvaluationReport, LevelScores, RecommenderScores, SplitScores, Spread
from lskg.settings import Settings

from .conftest import FAST_GNN


def test_temporal_split_is_study_level_and_respects_time(snap):
    split = ev.temporal_split(snap)
    assert not set(split.train) & set(split.test)
    assert snap.years[split.train].max() <= split.year < snap.years[split.test].min()
    assert 0.1 <= len(split.test) / (len(split.test) + len(split.train)) <= 0.3


def test_no_held_out_model_edge_reaches_the_gnn(snap):
    split = ev.temporal_split(snap)
    rec = create("gnn", **FAST_GNN)
    rec.fit(snap, split.train, seed=0)
    (model, graph), = rec.members
    assert graph["study"].num_nodes == len(split.train)  # test studies are not nodes of the training graph
    contexts = [snap.context_of(int(n)) for n in split.test]
    _, edges, rows = with_queries(snap, graph, contexts, 2030)
    queries = set(rows.tolist())
    uses, rev = ("study", EDGE_NAMES["model"], "model"), ("model", "rev_" + EDGE_NAMES["model"], "study")
    assert not queries & set(edges[uses][0].tolist()) and not queries & set(edges[rev][1].tolist())
    # queries receive context messages only and send none
    for facet in ("data", "landslide_type", "task"):
        assert not queries & set(edges["study", EDGE_NAMES[facet], facet][0].tolist())
    # concept features count training studies only
    log_counts = graph["model"].x[:, 1]
    train_counts = snap.model_matrix(split.train).sum(0)
    assert np.allclose(np.expm1(log_counts.numpy() * 5.0), train_counts, atol=1e-3)


def test_random_split_is_disjoint_and_seeded(snap):
    a, b = ev.random_split(snap, 0), ev.random_split(snap, 0)
    assert np.array_equal(a.test, b.test) and not set(a.train) & set(a.test)
    assert not np.array_equal(a.test, ev.random_split(snap, 1).test)


def test_filtered_ranks_count_ties_fairly():
    # all candidates tied: expected rank is the middle of the filtered list
    r = ev.rank_study(np.zeros(5), np.array([True, True, False, False, False]))
    assert np.isclose(r["hits@1"], 1 / 4) and np.isclose(r["hits@3"], 3 / 4) and np.isclose(r["auc"], 0.5)
    # the other true answer is filtered out: both truths rank first
    r = ev.rank_study(np.array([0.9, 0.8, 0.1, 0.0]), np.array([True, True, False, False]))
    assert r["hits@1"] == 1.0 and r["mrr"] == 1.0 and r["auc"] == 1.0


def test_evaluation_report_and_default_rule(snap):
    report = ev.evaluate(snap, names=["random", "popularity", "cooccurrence", "gnn"], seeds=(0, 1),
                         options={"gnn": FAST_GNN}, resamples=20)
    assert isinstance(report, EvaluationReport)
    for split in (report.temporal, report.random):
        assert split is not None
        rows = split.levels["family"].recommenders
        assert set(rows) == {"random", "popularity", "cooccurrence", "gnn"}
        assert rows["cooccurrence"].hits_at_3.mean > rows["random"].hits_at_3.mean
    assert {c.split for c in report.comparisons} == {"temporal", "random"}
    default = report.default
    cmp = default.comparison
    assert cmp is not None and cmp.split == "temporal" and cmp.level == "family"
    assert (default.recommender == "gnn") == (cmp.diff >= 0.03 and cmp.low > 0)
    assert default.reason
    bt = report.gap_backtest
    assert bt.candidates > 0 and "preferential_attachment" in bt.scorers
    # the JSON form (`--json`, metrics.json) is asdict of the record, and what train.py reads is in it
    public = json.loads(json.dumps(ev.public(report), default=float))
    assert public["default"]["recommender"] == default.recommender and public["gap_scorer"] == report.gap_scorer
    assert public["gap_method"]["method"] == report.gap_method.method
    row = public["temporal"]["levels"]["family"]["recommenders"]["cooccurrence"]
    temporal = report.temporal.levels["family"].recommenders["cooccurrence"]
    assert row["hits_at_3"] == {"mean": temporal.hits_at_3.mean, "std": temporal.hits_at_3.std}
    assert row["calibration"]["interval_coverage"] == temporal.calibration.interval_coverage
    # Table 1 per count recommender; its stability under bootstrap refits for the default recommender only
    assert {n for n, t in report.table1.items() if t.stability} == {default.recommender} & set(report.table1)
    if default.recommender in report.table1:
        assert public["table1"][default.recommender]["stability"]["resamples"] == 20


def _fake_temporal(hits: dict[str, np.ndarray]) -> tuple[SplitScores, ev.PerStudy]:
    spread = {n: Spread(float(v.mean()), 0.0) for n, v in hits.items()}
    rows = {n: RecommenderScores(s, s, s, s, s, len(hits[n]), Calibration()) for n, s in spread.items()}
    per = {n: {"family": {"hits@3": [v], ev.STUDY: [np.arange(len(v), dtype=float)]}} for n, v in hits.items()}
    test = len(next(iter(hits.values())))
    split = SplitScores("temporal", 2020, 0, test, (0,), {"family": LevelScores(len(hits), 0.0, 0, rows)},
                        dict.fromkeys(hits, 0.0))
    return split, per


def test_default_rule_takes_the_best_graph_model_only_beyond_the_margin():
    rng = np.random.default_rng(0)
    base = (rng.random(2000) < 0.85).astype(float)
    better = np.maximum(base, (rng.random(2000) < 0.5).astype(float))  # ~ +0.07, interval above zero
    slightly = np.maximum(base, (rng.random(2000) < 0.1).astype(float))  # ~ +0.015: below the margin
    temporal = _fake_temporal({"random": base * 0, "cooccurrence": base, "knn": base,
                               "gnn": base * 0.5, "hybrid": better})
    default = ev.choose_default(*temporal)
    assert default.recommender == "hybrid" and default.comparison and default.comparison.challenger == "hybrid"
    temporal = _fake_temporal({"random": base * 0, "cooccurrence": base, "gnn": base * 0.5, "hybrid": slightly})
    default = ev.choose_default(*temporal)
    assert default.recommender == "cooccurrence" and "below the required margin" in default.reason


def test_the_paired_bootstrap_resamples_studies_not_their_seeds():
    """Five seeds of a deterministic recommender are five copies of one per-study value: resampled as independent
    pairs they narrow the interval about sqrt(5)-fold; averaged within each study first, they count once."""
    rng = np.random.default_rng(1)
    a, b = (rng.random(300) < 0.9).astype(float), (rng.random(300) < 0.85).astype(float)
    once = ev.paired_bootstrap(a, b)
    copies = ev.paired_bootstrap(np.tile(a, 5), np.tile(b, 5))
    units = ev.paired_bootstrap(np.tile(a, 5), np.tile(b, 5), units=np.tile(np.arange(300), 5))
    width = {name: r["high"] - r["low"] for name, r in (("once", once), ("copies", copies), ("units", units))}
    assert np.isclose(units["diff"], once["diff"]) and units["pairs"] == once["pairs"] == 300
    assert np.isclose(width["units"], width["once"]) and width["copies"] < 0.6 * width["once"]
    split, per = _fake_temporal({"cooccurrence": b, "gnn": a})
    per = {name: {"family": {metric: values * 5 for metric, values in levels["family"].items()}}
           for name, levels in per.items()}
    comparison = ev.compare(split, per)
    assert comparison is not None and comparison.pairs == 300


def test_table1_recovery_queries_every_row(snap):
    """Each Table 1 row of the ontology is queried as one context; the synthetic literature is generated after
    Table 1, so the counts recover most rows, and the worked InSAR example is answered."""
    result = ev.table1_recovery(snap, create("cooccurrence"))
    assert result.total == len(snap.typical) == len(result.rows) > 0
    assert result.recovered == sum(r.rank <= 3 for r in result.rows)
    fam = set(snap.level_indices("family").tolist())
    for row in result.rows:
        assert 1 <= row.rank <= len(fam) and len(row.top3) == 3
        assert (row.family in row.top3) == (row.rank <= 3)
    assert result.recovered >= result.total - 2
    top = result.insar_creeping_displacement
    assert len(top) == 4 and top[0].score >= top[-1].score


class _OneStudyDecides:
    """Ranks one family first for every context when a given study is among the training studies, another when
    it is not; records each training set."""

    name = "one_study"

    def __init__(self, snap, study: int, present: int, absent: int) -> None:
        self.study, self.present, self.absent, self.trains = study, present, absent, []
        self.n_models = len(snap.model)

    def fit(self, snap, train, *, seed=0):
        self.trains.append(np.asarray(train).copy())
        self.top = self.present if self.study in train else self.absent

    def predict(self, snap, contexts):
        score = np.zeros((len(contexts), self.n_models))
        score[:, self.top] = 1.0
        return ev.Prediction(score, np.zeros_like(score))


def test_table1_stability_refits_on_bootstrap_resamples(snap):
    """Each refit sees as many studies as are usable, drawn with replacement, so one study is in a resample
    with probability 1 - (1 - 1/n)^n (about 0.63); a family that is first only when that study is present is
    first in about that share of refits. The draws are fixed by the seed."""
    usable = np.flatnonzero(snap.usable())
    fam = snap.level_indices("family")
    present, absent = int(fam[0]), int(fam[1])
    rec = _OneStudyDecides(snap, int(usable[0]), present, absent)
    stability = ev.table1_stability(snap, rec, resamples=400, seed=3)
    refits = rec.trains
    assert len(refits) == 400 and all(len(t) == len(usable) and set(t) <= set(usable) for t in refits)
    assert all(len(set(t)) < len(t) for t in refits)  # with replacement
    first = {f.family: f.share for f in stability.insar_first}
    expected = 1 - (1 - 1 / len(usable)) ** len(usable)
    assert abs(first[snap.model.labels[present]] - expected) < 0.07
    assert np.isclose(sum(first.values()), 1.0) and list(first.values()) == sorted(first.values(), reverse=True)
    # either way the three lowest family indices fill the top 3 (the rest tie at 0 and ties go by index)
    leaders = {snap.model.labels[int(m)] for m in fam[:3]}
    assert [r.share for r in stability.top3] == [float(r.family in leaders) for r in stability.top3]
    assert stability.all_rows <= stability.all_but_one and all(0 <= r.share <= 1 for r in stability.top3)
    again = _OneStudyDecides(snap, int(usable[0]), present, absent)
    assert ev.table1_stability(snap, again, resamples=400, seed=3) == stability
    assert all(np.array_equal(a, b) for a, b in zip(refits, again.trains, strict=True))


def test_table1_stability_of_the_counts_on_the_synthetic_graph(snap):
    """The co-occurrence counts on the synthetic literature: the shares agree with the refits they count."""
    full = ev.table1_recovery(snap, create("cooccurrence"), resamples=30, seed=0)
    stability = full.stability
    assert stability is not None and stability.resamples == 30 and stability.seed == 0
    assert [r.family for r in stability.top3] == [r.family for r in full.rows]
    assert all(round(r.share * 30) == r.share * 30 for r in stability.top3)
    assert stability.all_rows <= stability.all_but_one <= 1.0
    assert (stability.all_rows == 1.0) == all(r.share == 1.0 for r in stability.top3)
    assert ev.table1_recovery(snap, create("cooccurrence")).stability is None


def test_deployed_calibration_averages_the_halvings_of_one_fit(snap):
    """The factor an answer is widened by: one fit, each calibration measure the mean over random halvings of the
    held-out studies (one halving is exactly ``calibration`` with that seed)."""
    split = ev.temporal_split(snap)
    rec = create("cooccurrence")
    rec.fit(snap, split.train, seed=0)
    pred = rec.predict(snap, [snap.context_of(int(n)) for n in split.test])
    truth = snap.model_matrix(split.test) > 0
    cand = snap.level_indices("family")
    runs = [ev.calibration(pred, truth, cand, seed=k) for k in range(3)]
    one = ev.deployed_calibration(snap, "cooccurrence", {}, split, halvings=1)["family"]
    assert one.interval_scale == pytest.approx(runs[0]["interval_scale"])
    three = ev.deployed_calibration(snap, "cooccurrence", {}, split, halvings=3)["family"]
    assert three.interval_scale == pytest.approx(np.mean([r["interval_scale"] for r in runs]))
    assert three.scaled_interval_coverage == pytest.approx(np.mean([r["scaled_interval_coverage"] for r in runs]))


def test_scaled_intervals_cover_on_held_out_studies():
    """A recommender that reports a spread far too small for its noisy scores: the conformal scale widens it and
    the widened interval covers about 90 % on the other half; a zero spread off the rate gives no scale."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, size=(400, 6))
    y = (rng.random(p.shape) < p).astype(float)
    truth = np.ones(6, dtype=int)
    noisy = np.clip(p + rng.normal(0, 0.1, size=p.shape), 0.01, 0.99)
    pred = ev.Prediction(noisy, np.full(p.shape, 0.01))
    cal = ev.calibration(pred, y > 0, np.flatnonzero(truth))
    assert cal["interval_scale"] > 2
    assert 0.8 <= cal["scaled_interval_coverage"] <= 1.0
    assert cal["interval_coverage"] < cal["scaled_interval_coverage"]
    flat = ev.calibration(ev.Prediction(noisy, np.zeros(p.shape)), y > 0, np.flatnonzero(truth))
    assert "interval_scale" not in flat


@pytest.mark.slow
@pytest.mark.skipif(not DEFAULT_CORPUS.exists(), reason="no embedded corpus")
def test_embedded_corpus_recovers_table1_and_ranks_rnn_first_for_insar_creep(tmp_path):
    """Issue 11's goals on the real literature, stated on what survives resampling the studies. Fitted once on
    every study the default recommender recovered 7/7 rows with RNN first for InSAR time series + creeping +
    displacement prediction, but by margins of 0.0002-0.03; on 200 bootstrap resamples (seed 0,
    docs/recommendation.md) all 7 rows come back in only 10 % of refits and RNN is first in 41 % (classical ML
    in 50 %). What is stable, and asserted here with margin: the rows of the two large families (CNN, RNN;
    100 % measured) are in the top 3 in every refit but a few; the family base-rate discount recovers on average
    about two rows more than the plain counts (4.9 against 2.9 measured); RNN or classical ML comes first for the
    InSAR example (91 % measured) and RNN far more often than under the plain counts (41 % against 2 %)."""
    settings = Settings(store=str(tmp_path / "store"))
    build(None, settings)
    with open_store(settings.store) as store:
        snap = Snapshot.from_store(store)
    result = ev.table1_recovery(snap, create("cooccurrence"), resamples=200, seed=0).stability
    plain = ev.table1_stability(snap, create("cooccurrence", beta=0.0), resamples=200, seed=0)
    assert result is not None
    shares = {r.family: r.share for r in result.top3}
    assert shares["convolutional neural network"] >= 0.95 and shares["recurrent neural network"] >= 0.95
    assert sum(shares.values()) >= sum(r.share for r in plain.top3) + 1.0
    first = {f.family: f.share for f in result.insar_first}
    rnn = first.get("recurrent neural network", 0.0)
    assert rnn + first.get("classical machine learning", 0.0) >= 0.8
    assert rnn >= 0.25 and rnn >= {f.family: f.share for f in plain.insar_first}.get("recurrent neural network", 0) + 0.2
