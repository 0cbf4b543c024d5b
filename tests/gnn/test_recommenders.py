"""Every registered recommender behind the same protocol, on the same synthetic graph and split."""

from __future__ import annotations

import numpy as np
import pytest

from lskg.errors import ConfigError
from lskg.gnn import evaluate as ev
from lskg.gnn.registry import Recommender, create, names

from .conftest import FAST_GNN

OPTIONS = {"gnn": FAST_GNN, "hybrid": {"gnn_options": FAST_GNN}}


@pytest.fixture(scope="module")
def split(snap):
    return ev.temporal_split(snap)


@pytest.mark.parametrize("name", names())
def test_recommender_protocol_and_sanity(name, snap, split):
    rec = create(name, **OPTIONS.get(name, {}))
    assert isinstance(rec, Recommender)
    rec.fit(snap, split.train, seed=0)
    contexts = [snap.context_of(int(n)) for n in split.test]
    pred = rec.predict(snap, contexts)
    assert pred.score.shape == pred.std.shape == (len(split.test), len(snap.model))
    assert np.isfinite(pred.score).all() and (pred.score >= 0).all() and (pred.score <= 1.01).all()
    assert (pred.std >= 0).all()
    family = ev.summarise(ev.score_split(snap, split, pred)["family"])
    floor = ev._random_hits(snap, split, snap.level_indices("family"), 3)
    if name != "random":
        assert family["hits@3"] > floor, f"{name} is no better than random"


@pytest.mark.parametrize("name", ["gnn", "hybrid", "mf", "random"])
def test_same_seed_same_scores(name, snap, split):
    contexts = [snap.context_of(int(n)) for n in split.test[:20]]
    runs = []
    for _ in range(2):
        rec = create(name, **OPTIONS.get(name, {}))
        rec.fit(snap, split.train, seed=3)
        runs.append(rec.predict(snap, contexts).score)
    assert np.array_equal(runs[0], runs[1])


def test_gnn_state_round_trip(snap, split):
    rec = create("gnn", **FAST_GNN)
    rec.fit(snap, split.train, seed=0)
    again = create("gnn")
    again.load_state(snap, rec.state())
    contexts = [snap.context_of(int(n)) for n in split.test[:10]]
    assert np.allclose(rec.predict(snap, contexts).score, again.predict(snap, contexts).score)


def test_unknown_recommender_is_a_user_error():
    with pytest.raises(ConfigError):
        create("nope")


def test_hybrid_reads_training_studies_only(snap, split, monkeypatch):
    """Every model fact the hybrid (and its GNN) fits on belongs to a training study, and the blend's targets
    (the last training year) are not part of the base their own features come from."""
    from lskg.gnn import hybrid

    requested: list[int] = []
    original = type(snap).model_matrix

    def spy(self, studies):
        requested.extend(int(n) for n in studies)
        return original(self, studies)

    bases: list[set[int]] = []
    base_init = hybrid._Base.__init__

    def record(self, snap_, base, config):
        bases.append({int(n) for n in base})
        base_init(self, snap_, base, config)

    monkeypatch.setattr(type(snap), "model_matrix", spy)
    monkeypatch.setattr(hybrid._Base, "__init__", record)
    rec = create("hybrid", gnn_options=FAST_GNN)
    rec.fit(snap, split.train, seed=0)
    assert requested and set(requested) <= set(split.train.tolist())
    last = snap.years[split.train].max()
    assert all(snap.years[n] < last for n in bases[0])  # blend fitted on the last year, from earlier counts
    assert bases[-1] == set(split.train.tolist())
    assert rec.gnn is not None and set(rec.gnn.train.tolist()) == bases[0]


def test_hybrid_without_gnn_is_a_feature_blend(snap, split):
    rec = create("hybrid", use_gnn=False)
    rec.fit(snap, split.train, seed=0)
    assert rec.gnn is None
    pred = rec.predict(snap, [snap.context_of(int(n)) for n in split.test[:5]])
    for level in ("family", "architecture"):
        assert np.allclose(pred.score[:, snap.level_indices(level)].sum(1), 1.0, atol=1e-5)


def test_hybrid_on_a_tiny_training_set_stays_finite(snap, split):
    rec = create("hybrid", use_gnn=False)
    rec.fit(snap, split.train[:1], seed=0)
    pred = rec.predict(snap, [snap.context_of(int(n)) for n in split.test[:3]])
    assert np.isfinite(pred.score).all()


def test_cooccurrence_family_discount_is_a_log_odds_shift(snap, split):
    """beta = 0 is the plain mean of P(model | concept); with beta the family scores move by -beta logit P(m) in
    log-odds (rare families gain more than common ones), architectures are untouched, scores stay in (0, 1)."""
    contexts = [snap.context_of(int(n)) for n in split.test[:30]]
    plain, discounted = create("cooccurrence", beta=0.0), create("cooccurrence", beta=0.5)
    plain.fit(snap, split.train)
    discounted.fit(snap, split.train)
    a, b = plain.predict(snap, contexts), discounted.predict(snap, contexts)
    fam = snap.level_indices("family")
    arch = snap.level_indices("architecture")
    assert np.array_equal(a.score[:, arch], b.score[:, arch])
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    shift = logit(b.score[:, fam]) - logit(a.score[:, fam])
    assert np.allclose(shift, -0.5 * logit(plain.prior[fam])[None, :], atol=1e-6)
    assert ((b.score > 0) & (b.score < 1)).all() and (b.std >= 0).all()
    rarest, commonest = np.argmin(plain.prior[fam]), np.argmax(plain.prior[fam])
    assert (shift[:, rarest] > shift[:, commonest] + 0.5).all()


def test_cooccurrence_discount_must_leave_some_evidence():
    with pytest.raises(ValueError, match="beta"):
        create("cooccurrence", beta=1.0)


def test_cooccurrence_overlap_moves_towards_the_whole_context(snap, split):
    """overlap 0 is the mean of the parts' marginals; with a large overlap every part is dominated by the studies
    that have the whole context, so each part's estimate (and the score, without the discount) tends to
    P(model | all parts)."""
    train = split.train
    x = snap.study_context_matrix(train)
    offsets = snap.feature_offsets()
    study = next(int(n) for n in train if snap.facts["data"][n] and snap.facts["task"][n])
    d, t = min(snap.facts["data"][study]), min(snap.facts["task"][study])
    context = {"data": {d}, "task": {t}}
    both = (x[:, offsets["data"] + d] > 0) & (x[:, offsets["task"] + t] > 0)
    joint = snap.model_matrix(train)[both].mean(0)
    plain, overlap, huge = (create("cooccurrence", beta=0.0, overlap=w) for w in (0.0, 1.0, 1e7))
    for rec in (plain, overlap, huge):
        rec.fit(snap, train)
    a, b, c = (rec.predict(snap, [context]) for rec in (plain, overlap, huge))
    assert np.allclose(c.score[0], joint, atol=2e-3)
    gap = lambda pred: np.abs(pred.score[0] - joint).sum()  # noqa: E731
    assert gap(a) > gap(b) > gap(c)
    with pytest.raises(ValueError, match="overlap"):
        create("cooccurrence", overlap=-1.0)
