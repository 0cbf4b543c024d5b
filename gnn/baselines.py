"""Baselines in the same harness as the GNN: random, popularity, context co-occurrence counts, study-kNN,
Adamic-Adar and common neighbours on the facet co-occurrence graph, and a folded-in matrix factorisation.

Count-based scores use the training studies' facts closed over the hierarchy, so a study on SBAS-InSAR counts for
InSAR and a study on LSTM for RNN. Each adds a tiny popularity prior so that its own ties break towards common
models; the evaluation still counts remaining ties fairly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lskg.gnn.registry import ContextIdx, Prediction
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot

PRIOR = 1e-3


class _Counts:
    """Shared fit: closed context matrix X (studies x context concepts) and model matrix Y (studies x models)."""

    name = "counts"

    def fit(self, snap: Snapshot, train: np.ndarray, *, seed: int = 0) -> None:
        self.seed = seed
        self.x = snap.study_context_matrix(train)
        self.y = snap.model_matrix(train)
        self.prior = (self.y.sum(0) + 1.0) / (len(train) + 2.0)

    def _zeros(self, scores: np.ndarray) -> Prediction:
        return Prediction(scores, np.zeros_like(scores))


class RandomRecommender(_Counts):
    name = "random"

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        rng = np.random.default_rng(self.seed)
        return self._zeros(rng.random((len(contexts), self.y.shape[1])))


class Popularity(_Counts):
    name = "popularity"

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        n = len(self.y)
        score = np.tile(self.prior, (len(contexts), 1))
        return Prediction(score, np.tile(np.sqrt(self.prior * (1 - self.prior) / (n + 3)), (len(contexts), 1)))


class Cooccurrence(_Counts):
    """Mean over the stated context concepts c of P(m | c) = (n(c, m) + a P(m)) / (n(c) + a); a concept no
    training study used backs off to its nearest used ancestors. Uncertainty: the Beta posterior spread."""

    name = "cooccurrence"
    alpha = 1.0

    def fit(self, snap: Snapshot, train: np.ndarray, *, seed: int = 0) -> None:
        super().fit(snap, train, seed=seed)
        self.co = self.x.T @ self.y
        self.n = self.x.sum(0)

    def _features(self, snap: Snapshot, ctx: ContextIdx) -> list[int]:
        offsets = snap.feature_offsets()
        out: list[int] = []
        for facet in CONTEXT_FACETS:
            table = snap.concepts[facet]
            for i in ctx.get(facet, ()):
                frontier = {i}
                while frontier and not any(self.n[offsets[facet] + j] > 0 for j in frontier):
                    frontier = {b for j in frontier for b in table.broader[j]}
                out += [offsets[facet] + j for j in frontier if self.n[offsets[facet] + j] > 0]
        return out

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        score = np.empty((len(contexts), self.y.shape[1]))
        std = np.empty_like(score)
        for q, ctx in enumerate(contexts):
            feats = self._features(snap, ctx)
            if not feats:
                score[q], std[q] = self.prior, np.sqrt(self.prior * (1 - self.prior) / (len(self.y) + 3))
                continue
            n = self.n[feats][:, None]
            p = (self.co[feats] + self.alpha * self.prior) / (n + self.alpha)
            score[q] = p.mean(0) + PRIOR * self.prior
            std[q] = np.sqrt((p * (1 - p) / (n + self.alpha + 1)).mean(0) / len(feats))
        return Prediction(score, std)


class StudyKnn(_Counts):
    """The k training studies whose closed context is most similar (Jaccard) vote with their similarity."""

    name = "knn"
    k = 25

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        q = snap.context_matrix(list(contexts))
        inter = q @ self.x.T
        union = q.sum(1, keepdims=True) + self.x.sum(1)[None, :] - inter
        sim = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        k = min(self.k, sim.shape[1])
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        w = np.take_along_axis(sim, top, axis=1)
        votes = np.einsum("qk,qkm->qm", w, self.y[top])
        total = w.sum(1, keepdims=True)
        p = np.where(total > 0, votes / np.maximum(total, 1e-9), self.prior[None, :])
        k_eff = np.maximum(total ** 2 / np.maximum((w ** 2).sum(1, keepdims=True), 1e-9), 1.0)
        p = np.clip(p, 0.0, 1.0)
        return Prediction(p + PRIOR * self.prior, np.sqrt(p * (1 - p) / (k_eff + 1)))


class _FacetGraph(_Counts):
    """Link scores between context concepts and model concepts on the facet co-occurrence graph (networkx);
    a context's score for a model is the sum over its closed concepts, scaled to [0, 1] per context."""

    def pair_scores(self, graph, pairs):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def fit(self, snap: Snapshot, train: np.ndarray, *, seed: int = 0) -> None:
        super().fit(snap, train, seed=seed)
        graph = snap.cooccurrence_graph(train)
        offsets = snap.feature_offsets()
        self.link = np.zeros((offsets["_total"], len(snap.model)))
        pairs = [((facet, i), ("model", m)) for facet in CONTEXT_FACETS
                 for i in range(len(snap.concepts[facet])) for m in range(len(snap.model))
                 if graph.degree((facet, i)) and graph.degree(("model", m))]
        for (facet, i), (_, m), value in self.pair_scores(graph, pairs):
            self.link[offsets[facet] + i, m] = value

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        raw = snap.context_matrix(list(contexts)) @ self.link
        top = raw.max(1, keepdims=True)
        score = np.where(top > 0, raw / np.maximum(top, 1e-12), 0.0)
        return self._zeros(score + PRIOR * self.prior)


class AdamicAdar(_FacetGraph):
    name = "adamic_adar"

    def pair_scores(self, graph, pairs):
        import networkx as nx

        return nx.adamic_adar_index(graph, pairs)


class CommonNeighbours(_FacetGraph):
    name = "common_neighbours"

    def pair_scores(self, graph, pairs):
        import networkx as nx

        return ((u, v, float(len(list(nx.common_neighbors(graph, u, v))))) for u, v in pairs)


class ContextFactorization(_Counts):
    """Logistic matrix factorisation of the (study x model) matrix where a study's factor is the mean of its
    context concepts' factors (so a new study is folded in from its context alone); full-batch BCE, Adam."""

    name = "mf"
    dim, epochs, lr, weight_decay = 32, 150, 0.05, 1e-4

    def fit(self, snap: Snapshot, train: np.ndarray, *, seed: int = 0) -> None:
        import torch

        from lskg.gnn.models import deterministic

        super().fit(snap, train, seed=seed)
        with deterministic(seed) as gen:
            self._train(torch.from_numpy(_row_normalise(self.x)), torch.from_numpy(self.y), gen)

    def _train(self, x, y, gen) -> None:
        import torch

        self.ctx = torch.nn.Parameter(torch.randn(x.shape[1], self.dim, generator=gen) * 0.1)
        self.mod = torch.nn.Parameter(torch.randn(y.shape[1], self.dim, generator=gen) * 0.1)
        self.bias = torch.nn.Parameter(torch.zeros(y.shape[1]))
        opt = torch.optim.Adam([self.ctx, self.mod, self.bias], lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits((x @ self.ctx) @ self.mod.T + self.bias, y)
            loss.backward()
            opt.step()

    def predict(self, snap: Snapshot, contexts: Sequence[ContextIdx]) -> Prediction:
        import torch

        with torch.no_grad():
            x = torch.from_numpy(_row_normalise(snap.context_matrix(list(contexts))))
            score = torch.sigmoid((x @ self.ctx) @ self.mod.T + self.bias).numpy().astype(np.float64)
        return self._zeros(score)


def _row_normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(x.sum(1, keepdims=True), 1.0)).astype(np.float32)
