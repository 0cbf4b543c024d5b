"""Ranked model families and architectures for a context, with uncertainty and evidence.

Evidence is by construction (faithful for the count baselines and a close proxy for a 2-layer GNN, whose receptive
field is exactly context concept -> studies -> model): the supporting studies are those that used the
recommended concept with at least one of the query's concepts (most shared facets first, then newest), and the
paths count, per query concept, the studies linking it to the recommendation, plus the hierarchy path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.gnn.train import Trained

SUPPORT = 5


def context_indices(snap: Snapshot, context: dict[str, list[str]]) -> dict[str, set[int]]:
    """Concept IRIs per facet -> snapshot indices (concepts unknown to the store's graph are left out)."""
    return {f: {snap.concepts[f].index[iri] for iri in context.get(f, []) if iri in snap.concepts[f].index}
            for f in CONTEXT_FACETS}


def recommend(trained: Trained, context: dict[str, list[str]], *, top: int = 10) -> dict[str, Any]:
    snap = trained.snapshot
    ctx = context_indices(snap, context)
    pred = trained.recommender.predict(snap, [ctx])
    out: dict[str, Any] = {}
    for level, key in (("family", "families"), ("architecture", "architectures")):
        cand = snap.level_indices(level)
        order = cand[np.lexsort((cand, -pred.score[0, cand]))][:top]
        out[key] = [_item(snap, ctx, int(m), float(pred.score[0, m]), float(pred.std[0, m])) for m in order]
    return out


def _item(snap: Snapshot, ctx: dict[str, set[int]], m: int, score: float, std: float) -> dict[str, Any]:
    table = snap.model
    uses = snap.incidence[:, snap.columns[("model", m)]] > 0
    shared = np.zeros(len(snap), dtype=np.int64)
    paths = []
    for facet in CONTEXT_FACETS:
        for c in sorted(ctx[facet]):
            has = snap.incidence[:, snap.columns[(facet, c)]] > 0
            shared += has
            n = int((has & uses).sum())
            paths.append(f"{snap.concepts[facet].labels[c]} -> {n} {'study' if n == 1 else 'studies'} -> "
                         f"{table.labels[m]}")
    families = [f for f in table.families_of(m) if f != m]
    for f in families:
        paths.append(f"{table.labels[m]} is a kind of {table.labels[f]}")
    candidates = np.flatnonzero(uses & (shared > 0))
    ranked = sorted(candidates.tolist(), key=lambda n: (-shared[n], -(snap.studies[n].year or 0), n))[:SUPPORT]
    return {"iri": table.iris[m], "label": table.labels[m], "score": round(score, 6), "uncertainty": round(std, 6),
            "support": [{"iri": snap.studies[n].iri, "title": snap.studies[n].title, "year": snap.studies[n].year}
                        for n in ranked],
            "paths": paths}
