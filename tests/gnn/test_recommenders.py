"""Every registered recommender behind the same protocol, on the same synthetic graph and split."""

from __future__ import annotations

import numpy as np
import pytest

from lskg.errors import ConfigError
from lskg.gnn import evaluate as ev
from lskg.gnn.registry import Recommender, create, names

from .conftest import FAST_GNN

OPTIONS = {"gnn": FAST_GNN}


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


@pytest.mark.parametrize("name", ["gnn", "mf", "random"])
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
