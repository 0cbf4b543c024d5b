"""Research gaps: plausible but understudied combinations of a model family with data sources, landslide types,
tasks, or data x landslide-type pairs.

    gap(g) = max(p(g) - s(g), 0) * exp(-n(g) / TAU)

p = plausibility of the family given the rest of the combination as a context (the gap scorer chosen by the
back-test), s = its uncertainty, n = the observed study count. Each gap comes with why: the "B" concepts of
Swanson's ABC pattern (concepts studied with the family *and* with the other concept), and the hierarchy (the
family already used with a broader or narrower concept).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from lskg.errors import ConfigError
from lskg.gnn.evaluate import plausibility
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.gnn.train import Trained
from lskg.records import FACETS

TAU = 1.5
WHY = 3


def check_facets(facets: tuple[str, ...]) -> tuple[str, ...]:
    facets = tuple(facets)
    others = [f for f in facets if f != "model"]
    if facets[:1] != ("model",) or not 1 <= len(others) <= 2 or any(f not in CONTEXT_FACETS for f in others) \
            or len(set(others)) != len(others):
        raise ConfigError(f"cannot score gaps over facets {','.join(facets)!r}",
                          hint="give model and one or two of: data, landslide_type, task (e.g. model,data)")
    return facets


def combinations(snap: Snapshot, facets: tuple[str, ...]) -> list[tuple[tuple[str, int], ...]]:
    """Family x concepts of the other facets that at least one study states (closed)."""
    diag = np.diag(snap.pair_counts)
    present = {f: [i for i in range(len(snap.concepts[f])) if diag[snap.columns[(f, i)]] > 0] for f in facets[1:]}
    families = snap.level_indices("family").tolist()
    return [(("model", m), *((f, i) for f, i in zip(facets[1:], combo, strict=True)))
            for m in families for combo in itertools.product(*(present[f] for f in facets[1:]))]


def find_gaps(trained: Trained, facets: tuple[str, ...] = ("model", "data"), *, top: int = 50) -> list[dict[str, Any]]:
    snap = trained.snapshot
    combos = combinations(snap, check_facets(facets))
    if not combos:
        return []
    pred = plausibility(snap, trained.gap_scorer, combos)
    observed = np.array([snap.count(*c) for c in combos])
    score = np.maximum(pred.score - pred.std, 0) * np.exp(-observed / TAU)
    order = np.lexsort((np.arange(len(combos)), -score))[:top]
    return [{"concepts": [_concept(snap, f, i) for f, i in combos[k]], "observed": int(observed[k]),
             "plausibility": round(float(pred.score[k]), 6), "uncertainty": round(float(pred.std[k]), 6),
             "gap_score": round(float(score[k]), 6), "why": why(snap, combos[k])} for k in order]


def _concept(snap: Snapshot, facet: str, i: int) -> dict[str, str]:
    return {"iri": snap.concepts[facet].iris[i], "label": snap.concepts[facet].labels[i], "facet": facet}


def why(snap: Snapshot, combo: tuple[tuple[str, int], ...]) -> list[str]:
    """Neighbouring evidence: shared concepts (ABC), pairwise counts inside the combination, the hierarchy."""
    label = lambda c: snap.concepts[c[0]].labels[c[1]]  # noqa: E731
    pc, col = snap.pair_counts, snap.columns
    family, rest = combo[0], combo[1:]
    lines = []
    for a, b in itertools.combinations(combo, 2):
        n = int(pc[col[a], col[b]])
        if n:
            lines.append(f"{label(a)} and {label(b)} appear together in {n} {'study' if n == 1 else 'studies'}")
    members = set(combo)
    bridges = []
    for facet in FACETS:
        if facet in {c[0] for c in combo}:
            continue
        for z in range(len(snap.concepts[facet])):
            counts = [int(pc[col[c], col[(facet, z)]]) for c in combo]
            if min(counts) > 0 and (facet, z) not in members:
                bridges.append((min(counts), (facet, z), counts))
    for _, z, counts in sorted(bridges, key=lambda t: (-t[0], t[1]))[:WHY]:
        parts = ", ".join(f"{n} with {label(c)}" for n, c in zip(counts, combo, strict=True))
        lines.append(f"{label(z)} links them: {parts}")
    table = snap.concepts[rest[0][0]]
    for b in sorted(table.ancestors(rest[0][1])):
        n = int(pc[col[family], col[(rest[0][0], b)]])
        if n:
            lines.append(f"{label(family)} is used with the broader {table.labels[b]} in {n} "
                         f"{'study' if n == 1 else 'studies'}")
    if not lines:
        lines.append("no neighbouring evidence: the plausibility comes from the model's priors alone")
    return lines


def gap_matrix(trained: Trained, rows: str = "model", cols: str = "data") -> dict[str, Any]:
    """Counts, plausibility and gap scores of every family x concept cell (the gap map's data)."""
    if rows != "model":
        rows, cols = cols, rows
    facets = check_facets((rows, cols))
    snap = trained.snapshot
    combos = combinations(snap, facets)
    families = snap.level_indices("family").tolist()
    concepts = sorted({c[1][1] for c in combos},
                      key=lambda i: (-int(snap.pair_counts[snap.columns[(cols, i)], snap.columns[(cols, i)]]), i))
    fam_order = sorted(families, key=lambda m: (-int(snap.pair_counts[snap.columns[("model", m)],
                                                                       snap.columns[("model", m)]]), m))
    counts = np.zeros((len(fam_order), len(concepts)), dtype=int)
    plaus = np.zeros(counts.shape)
    gap = np.zeros(counts.shape)
    if combos:
        pred = plausibility(snap, trained.gap_scorer, combos)
        r = {m: k for k, m in enumerate(fam_order)}
        c = {i: k for k, i in enumerate(concepts)}
        for k, combo in enumerate(combos):
            i, j = r[combo[0][1]], c[combo[1][1]]
            counts[i, j] = snap.count(*combo)
            plaus[i, j] = pred.score[k]
            gap[i, j] = max(pred.score[k] - pred.std[k], 0) * math.exp(-counts[i, j] / TAU)
    return {"rows": [_concept(snap, "model", m) for m in fam_order], "cols": [_concept(snap, cols, i) for i in concepts],
            "counts": counts.tolist(), "plausibility": np.round(plaus, 6).tolist(), "scores": np.round(gap, 6).tolist()}
