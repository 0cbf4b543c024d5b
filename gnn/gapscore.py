"""Scoring research gaps the way Science4Cast's winners did: gradient-boosted trees over heuristic features of a
combination, back-tested against every single heuristic.

A combination is a model family with one concept of another facet (``model,data``, ``model,landslide_type``,
``model,task``) or with a data source and a landslide type (``model,data,landslide_type``). Its features, all
computed from a given set of studies (the ones published up to a cut-off):

- ``count_family``, ``count_concept`` (the smallest of the other concepts' counts), ``count_observed``;
- ``preferential_attachment``: product of the concepts' study counts;
- ``adamic_adar``, ``common_neighbours`` between the family and each other concept on the facet co-occurrence
  graph (summed for triples);
- ``broader_count``: studies using the family with a broader concept of the other one (hierarchy);
- ``pair_inside``: for a triple, the studies combining its data source and landslide type;
- ``recency_family``, ``recency_concept``: years since the last study using it;
- ``growth_family``, ``growth_concept``: share of its studies from the last two years;
- ``cooccurrence_rate``: P(family | concepts) from the counts (the co-occurrence recommender).

The learned scorer (``LearnedGapScorer``) is fitted without looking past the cut-off it is used at: features at
``cutoff - horizon`` from the studies up to then, label = the combination gained a study in the ``horizon`` years
after, candidates = combinations with at most ``THIN`` studies. At the cut-off the same features are recomputed
and the fitted trees score them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.records import Facet

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

log = logging.getLogger(__name__)

Combo = tuple[tuple[Facet, int], ...]
HEURISTICS = ("preferential_attachment", "adamic_adar", "common_neighbours", "broader_count", "cooccurrence_rate",
              "growth_family", "growth_concept", "recency_family", "recency_concept", "count_family",
              "count_concept")
"""Single heuristics back-tested on their own (higher = more likely to be studied next; recency is negated)."""
FEATURES = (*HEURISTICS, "count_observed", "pair_inside", "is_triple")
THIN = 2
HORIZON = 2
RECENT = 2


def features(snap: Snapshot, studies: np.ndarray, combos: Sequence[Combo]) -> dict[str, np.ndarray]:
    """The heuristic features of each combination, from ``studies`` only."""
    studies = np.asarray(studies, dtype=np.int64)
    b = snap.incidence[studies].astype(np.float64)
    years = snap.years[studies]
    now = int(years.max()) if len(years) else 0
    count = b.sum(0)
    pair = b.T @ b
    facet_of = np.array([f for f, _ in sorted(snap.columns, key=snap.columns.__getitem__)])
    adjacency = (pair > 0) & (facet_of[:, None] != facet_of[None, :])
    degree = adjacency.sum(1)
    weight = np.where(degree > 1, 1.0 / np.log(np.maximum(degree, 2)), 0.0)
    a = adjacency.astype(np.float64)
    aa = (a * weight[None, :]) @ a.T
    cn = a @ a.T
    recent = b[years > now - RECENT].sum(0)
    last = np.array([years[b[:, j] > 0].max() if count[j] else 0 for j in range(b.shape[1])])
    col = snap.columns
    out: dict[str, list[float]] = {k: [] for k in FEATURES}
    for combo in combos:
        fam = col[combo[0]]
        others = [col[c] for c in combo[1:]]
        members = np.all(b[:, [fam, *others]] > 0, axis=1)
        out["count_observed"].append(float(members.sum()))
        out["count_family"].append(float(count[fam]))
        out["count_concept"].append(float(min(count[o] for o in others)))
        out["preferential_attachment"].append(float(count[fam] * np.prod([count[o] for o in others])))
        out["adamic_adar"].append(float(sum(aa[fam, o] for o in others)))
        out["common_neighbours"].append(float(sum(cn[fam, o] for o in others)))
        broader = 0.0
        for facet, i in combo[1:]:
            for p in snap.concepts[facet].ancestors(i):
                broader = max(broader, float(pair[fam, col[(facet, p)]]))
        out["broader_count"].append(broader)
        out["pair_inside"].append(float(pair[others[0], others[1]]) if len(others) > 1 else 0.0)
        ctx = np.all(b[:, others] > 0, axis=1)
        out["cooccurrence_rate"].append(float((b[ctx, fam].sum() + 1.0) / (ctx.sum() + 2.0)))
        out["growth_family"].append(float(recent[fam] / max(count[fam], 1.0)))
        out["growth_concept"].append(float(min(recent[o] / max(count[o], 1.0) for o in others)))
        out["recency_family"].append(-float(now - last[fam]) if count[fam] else -99.0)
        out["recency_concept"].append(-float(max(now - last[o] if count[o] else 99 for o in others)))
        out["is_triple"].append(float(len(others) > 1))
    return {k: np.array(v) for k, v in out.items()}


def matrix(feats: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([feats[k] for k in FEATURES], axis=1)


def candidates(snap: Snapshot, studies: np.ndarray) -> list[tuple[str, Combo]]:
    """(kind, combination) for every family x concept pair and family x data x type triple whose concepts occur
    among ``studies``."""
    present = {f: sorted({i for n in studies for i in snap.closure[f][n]}) for f in CONTEXT_FACETS}
    families = snap.level_indices("family").tolist()
    out: list[tuple[str, Combo]] = []
    for facet in CONTEXT_FACETS:
        out += [(f"model,{facet}", (("model", m), (facet, c))) for m in families for c in present[facet]]
    out += [("model,data,landslide_type", (("model", m), ("data", d), ("landslide_type", t)))
            for m, d, t in itertools.product(families, present["data"], present["landslide_type"])]
    return out


def observed(snap: Snapshot, studies: np.ndarray, combos: Sequence[Combo]) -> np.ndarray:
    b = snap.incidence[np.asarray(studies, dtype=np.int64)] > 0
    col = snap.columns
    return np.array([int(np.all(b[:, [col[c] for c in combo]], axis=1).sum()) for combo in combos])


class LearnedGapScorer:
    """Gradient-boosted trees (scikit-learn ``HistGradientBoostingClassifier``) over ``FEATURES``; falls back to
    preferential attachment when the history has no positive to learn from."""

    name = "learned"

    def __init__(self, horizon: int = HORIZON, seed: int = 0) -> None:
        self.horizon, self.seed = horizon, seed
        self.model: HistGradientBoostingClassifier | None = None
        self.trained_on: dict[str, Any] = {}

    def fit(self, snap: Snapshot, studies: np.ndarray) -> LearnedGapScorer:
        from sklearn.ensemble import HistGradientBoostingClassifier

        from lskg.gnn.baselines import one_thread

        studies = np.asarray(studies, dtype=np.int64)
        years = snap.years[studies]
        cutoff = (int(years.max()) if len(years) else 0) - self.horizon
        before, after = studies[years <= cutoff], studies[years > cutoff]
        if len(before) < 5 or len(after) == 0:
            self.trained_on = {"cutoff": cutoff, "candidates": 0, "positives": 0}
            return self
        combos = [c for _, c in candidates(snap, before)]
        n_before = observed(snap, before, combos)
        keep = n_before <= THIN
        combos = [c for c, k in zip(combos, keep, strict=True) if k]
        labels = observed(snap, after, combos) > 0
        self.trained_on = {"cutoff": cutoff, "candidates": len(combos), "positives": int(labels.sum())}
        if labels.sum() < 3 or labels.all():
            return self
        x = matrix(features(snap, before, combos))
        self.model = model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                            min_samples_leaf=10, l2_regularization=1.0,
                                                            random_state=self.seed)
        with one_thread():
            model.fit(x, labels)
        return self

    def score(self, feats: dict[str, np.ndarray]) -> np.ndarray:
        if self.model is None:
            pa = feats["preferential_attachment"]
            return pa / max(float(pa.max()), 1.0) if len(pa) else pa
        from lskg.gnn.baselines import one_thread

        with one_thread():
            return self.model.predict_proba(matrix(feats))[:, 1]


def bootstrap_auc(scores: np.ndarray, labels: np.ndarray, *, rounds: int = 300, seed: int = 0) -> list[float] | None:
    from lskg.gnn.evaluate import auc

    if len(scores) == 0 or labels.all() or not labels.any():
        return None
    rng = np.random.default_rng(seed)
    boot = [auc(scores[idx], labels[idx]) for idx in rng.integers(0, len(scores), size=(rounds, len(scores)))]
    return [float(np.nanpercentile(boot, 2.5)), float(np.nanpercentile(boot, 97.5))]


def rank_with_ties(primary: np.ndarray, *secondary: np.ndarray) -> np.ndarray:
    """Order by ``primary`` descending, ties broken by each ``secondary`` score in turn, then by position."""
    keys = [np.arange(len(primary))] + [-s for s in reversed(secondary)] + [-primary]
    return np.lexsort(keys)
