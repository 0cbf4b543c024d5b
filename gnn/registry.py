"""The one interface every recommender implements, and the registry that finds them by name.

    rec = create("cooccurrence")
    rec.fit(snap, train_studies, seed=0)
    pred = rec.predict(snap, [{"data": {3}, "task": {1}}])   # pred.score[q, m] for every model concept m

A context is a mapping facet -> concept indices of ``snap.concepts[facet]`` (the concepts as stated; a
recommender closes them over the hierarchy if it wants to). Scores are plausibilities in [0, 1] for every model
concept (families and architectures alike); ``std`` is the recommender's own uncertainty (ensemble spread,
posterior spread), zero when it has none. Registered names are stable; entries are imported lazily, so asking for
``popularity`` never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from lskg.errors import ConfigError

if TYPE_CHECKING:
    from lskg.gnn.snapshot import Snapshot
    from lskg.records import Facet

ContextIdx = Mapping["Facet", Iterable[int]]


@dataclass
class Prediction:
    score: np.ndarray
    """(contexts x model concepts) plausibility in [0, 1]."""
    std: np.ndarray
    """Same shape: uncertainty of each score."""


@runtime_checkable
class Recommender(Protocol):
    name: str

    def fit(self, snap: Snapshot, train: np.ndarray, *, seed: int = 0) -> None:
        """Learn from the studies ``train`` (indices into ``snap.studies``); nothing else of the graph's
        model facts may be used."""

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        """Score every model concept for each context."""


REGISTRY: dict[str, tuple[str, str]] = {
    "random": ("lskg.gnn.baselines:RandomRecommender", "uniform random scores (the floor)"),
    "popularity": ("lskg.gnn.baselines:Popularity", "how many training studies used the model"),
    "cooccurrence": ("lskg.gnn.baselines:Cooccurrence",
                     "count what studies did: mean over context concepts of P(model | concept), smoothed"),
    "cooccurrence_overlap": ("lskg.gnn.baselines:Cooccurrence",
                             "the co-occurrence counts with each study's vote weighted by how much of the context "
                             "it shares (overlap 1)"),
    "knn": ("lskg.gnn.baselines:StudyKnn", "vote of the 25 training studies with the most similar context"),
    "adamic_adar": ("lskg.gnn.baselines:AdamicAdar", "Adamic-Adar on the facet co-occurrence graph (networkx)"),
    "common_neighbours": ("lskg.gnn.baselines:CommonNeighbours",
                          "common neighbours on the facet co-occurrence graph (networkx)"),
    "mf": ("lskg.gnn.baselines:ContextFactorization",
           "logistic matrix factorisation, a new study folded in as the mean of its context factors"),
    "recency_popularity": ("lskg.gnn.baselines:RecencyPopularity",
                           "popularity with studies weighted by exp(-age / 2 years)"),
    "ease": ("lskg.gnn.baselines:EaseR", "EASE^R: closed-form item-item ridge regression, zero diagonal"),
    "rp3beta": ("lskg.gnn.baselines:RP3Beta", "RP3beta: 3-step random walk item -> study -> item, popularity^-0.5"),
    "gbt": ("lskg.gnn.baselines:BoostedCounts",
            "gradient-boosted trees (scikit-learn) over the count features (kNN, co-occurrence, popularity)"),
    "gnn": ("lskg.gnn.models:GnnRecommender",
            "heterogeneous GraphSAGE link predictor (HeteroConv), 3-seed ensemble when deployed"),
    "hybrid": ("lskg.gnn.hybrid:HybridRecommender",
               "count features (kNN, co-occurrence, popularity; all and recent) + the GNN's score, blended by a "
               "softmax-ranking decoder fitted on the last training year"),
}
DEPLOYED_OPTIONS: dict[str, dict] = {"gnn": {"members": 3}, "cooccurrence_overlap": {"overlap": 1.0}}
"""Options a recommender is deployed (and therefore evaluated) with: the GNN is a 3-seed ensemble, its spread the
uncertainty (measured on the real graph, temporal split at 2022, 2 seeds: family Hits@1 0.609 / MRR 0.760 as an
ensemble against 0.585 / 0.747 for one member, Hits@3 0.906 both). The context overlap 1 was chosen on the
training years only (studies up to 2020 against 2021-2022: family MRR 0.717 at 0.5 and 1, 0.712 at 0, 0.715 at 2,
0.709 at 4)."""
GRAPH_MODELS = ("gnn", "hybrid")
"""The challengers of the default rule; everything else is a baseline."""
BASELINES = tuple(n for n in REGISTRY if n not in GRAPH_MODELS)


def names() -> list[str]:
    return list(REGISTRY)


def create(name: str, **options: object) -> Recommender:
    if name not in REGISTRY:
        raise ConfigError(f"unknown recommender {name!r}", hint="known recommenders: " + ", ".join(REGISTRY))
    module, _, cls = REGISTRY[name][0].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
