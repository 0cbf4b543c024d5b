"""Research gaps: plausible but understudied combinations of a model family with data sources, landslide types,
tasks, or data x landslide-type pairs.

Every combination gets a status before it gets a score:

- ``unknown``: the family or another concept has fewer than ``MIN_STUDIES`` studies in the graph -- too few to
  judge, so it is shown as unknown, never as a gap;
- ``implausible``: the family cannot take the data source's modality (``family_modalities``: a sequence model on
  a static image benchmark is not a gap);
- ``studied``: more than ``THIN`` studies already combine it;
- ``gap``: the rest (white spots with no study, thin spots with one or two).

A gap's score is the learned gap scorer's probability that the combination is studied next (``gapscore``: trees
over counts, preferential attachment, Adamic-Adar, hierarchy, recency and growth; back-tested), times
exp(-n / TAU) for its n observed studies; ties are broken by Adamic-Adar, then preferential attachment. Each gap
comes with why: the "B" concepts of Swanson's ABC pattern (concepts studied with the family *and* with the other
concept), the pair counts inside it, and the hierarchy (the family already used with a broader concept).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from lskg.errors import ConfigError
from lskg.gnn import gapscore
from lskg.gnn.evaluate import plausibility, plausible_mask
from lskg.gnn.gapscore import Combo
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.gnn.train import Trained
from lskg.records import FACETS, Facet

TAU = 1.5
WHY = 3
MIN_STUDIES = 3
"""A concept used by fewer studies than this is "unknown": too little evidence to call anything a gap."""
THIN = gapscore.THIN
MIN_MODALITY_STUDIES, MIN_MODALITY_SHARE = 3, 0.10
"""Studies (and share of the family's studies) needed before a family counts as able to take a modality its
Table 1 row does not name (real graph, 621 studies: RNN with image data but no CNN in 5 of 84 studies, 6 %, is not
enough; RNN with tabular factors in 25, 30 %, is: LSTM susceptibility models on factor tables exist)."""


def family_modalities(snap: Snapshot, studies: np.ndarray | None = None) -> dict[int, set[str]]:
    """Which data modalities each model family can take: the modalities of its Table 1 typical data (closed over
    the hierarchy, ``Snapshot.modality_of``), plus any modality that at least ``MIN_MODALITY_STUDIES`` of
    ``studies`` used it with *on its own*: a study counts only if no other family it uses takes that modality by
    Table 1 (in a CNN-LSTM on image series the CNN takes the images, so it is no evidence that an RNN takes
    images). Families without a Table 1 row are left out (no restriction)."""
    studies = np.flatnonzero(snap.usable()) if studies is None else np.asarray(studies, dtype=np.int64)
    base: dict[int, set[str]] = {}
    for fam, typical in snap.typical.items():
        mods = {m for m in (snap.modality_of(d) for d in typical.get("data", ())) if m}
        if mods:
            base[fam] = mods
    families = set(snap.level_indices("family").tolist())
    seen: dict[tuple[int, str], int] = {}
    total: dict[int, int] = {}
    for n in studies:
        used = snap.closure["model"][n] & families
        for fam in used:
            total[fam] = total.get(fam, 0) + 1
        mods = {m for m in (snap.modality_of(d) for d in snap.facts["data"][n]) if m}
        for fam in used & base.keys():
            for m in mods:
                if not any(m in base.get(other, set()) for other in used - {fam}):
                    seen[(fam, m)] = seen.get((fam, m), 0) + 1
    return {fam: mods | {m for (f, m), k in seen.items() if f == fam and k >= MIN_MODALITY_STUDIES
                         and k >= MIN_MODALITY_SHARE * total.get(fam, 0)} for fam, mods in base.items()}


def check_facets(facets: tuple[str, ...]) -> tuple[Facet, ...]:
    facets = tuple(facets)
    context: dict[str, Facet] = {f: f for f in CONTEXT_FACETS}
    others = list(facets[1:])
    if facets[:1] != ("model",) or not 1 <= len(others) <= 2 or any(f not in context for f in others) \
            or len(set(others)) != len(others):
        raise ConfigError(f"cannot score gaps over facets {','.join(facets)!r}",
                          hint="give model and one or two of: data, landslide_type, task (e.g. model,data)")
    return ("model", *(context[f] for f in others))


def combinations(snap: Snapshot, facets: tuple[Facet, ...]) -> list[Combo]:
    """Family x concepts of the other facets that at least one study states (closed)."""
    diag = np.diag(snap.pair_counts)
    present = {f: [i for i in range(len(snap.concepts[f])) if diag[snap.columns[(f, i)]] > 0] for f in facets[1:]}
    families = snap.level_indices("family").tolist()
    return [(("model", m), *((f, i) for f, i in zip(facets[1:], combo, strict=True)))
            for m in families for combo in itertools.product(*(present[f] for f in facets[1:]))]


def assess(trained: Trained, combos: list[Combo]) -> dict[str, np.ndarray]:
    """Status, observed count, plausibility, learned score, gap score and tie-breakers of each combination."""
    snap = trained.snapshot
    studies = np.flatnonzero(snap.usable())
    feats = gapscore.features(snap, studies, combos)
    observed = feats["count_observed"].astype(int)
    pred = plausibility(snap, trained.gap_scorer, combos)
    method = trained.artifact.metrics.get("gap_method", {}).get("method", "learned")
    if method == "learned":
        if "_learned_gaps" not in trained.__dict__:  # fitted once per trained graph
            trained.__dict__["_learned_gaps"] = gapscore.LearnedGapScorer(seed=0).fit(snap, studies)
        learned = trained.__dict__["_learned_gaps"].score(feats)
    else:
        raw = feats[method]
        learned = (raw - raw.min()) / max(float(raw.max() - raw.min()), 1e-12)
    diag = np.diag(snap.pair_counts)
    thin_evidence = np.array([min(diag[snap.columns[c]] for c in combo) < MIN_STUDIES for combo in combos])
    plausible = plausible_mask(snap, combos, studies)
    status = np.where(thin_evidence, "unknown", np.where(~plausible, "implausible",
                                                           np.where(observed > THIN, "studied", "gap")))
    score = np.where(status == "gap", learned * np.exp(-observed / TAU), 0.0)
    return {"status": status, "observed": observed, "plausibility": pred.score, "uncertainty": pred.std,
            "learned": learned, "score": score, "adamic_adar": feats["adamic_adar"],
            "preferential_attachment": feats["preferential_attachment"]}


def find_gaps(trained: Trained, facets: tuple[str, ...] = ("model", "data"), *, top: int = 50) -> list[dict[str, Any]]:
    snap = trained.snapshot
    combos = combinations(snap, check_facets(facets))
    if not combos:
        return []
    a = assess(trained, combos)
    ranked = gapscore.rank_with_ties(a["score"], a["adamic_adar"], a["preferential_attachment"])
    order = [k for k in ranked if a["status"][k] == "gap"][:top]
    return [{"concepts": [_concept(snap, f, i) for f, i in combos[k]], "observed": int(a["observed"][k]),
             "plausibility": round(float(a["plausibility"][k]), 6), "uncertainty": round(float(a["uncertainty"][k]), 6),
             "learned": round(float(a["learned"][k]), 6), "gap_score": round(float(a["score"][k]), 6),
             "kind": "white spot" if a["observed"][k] == 0 else "thin spot",
             "tie_break": {"adamic_adar": round(float(a["adamic_adar"][k]), 4),
                           "preferential_attachment": float(a["preferential_attachment"][k])},
             "why": why(snap, combos[k])} for k in order]


def _concept(snap: Snapshot, facet: Facet, i: int) -> dict[str, str]:
    return {"iri": snap.concepts[facet].iris[i], "label": snap.concepts[facet].labels[i], "facet": facet}


def why(snap: Snapshot, combo: Combo) -> list[str]:
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
    for _, bridge, bridge_counts in sorted(bridges, key=lambda t: (-t[0], t[1]))[:WHY]:
        parts = ", ".join(f"{k} with {label(c)}" for k, c in zip(bridge_counts, combo, strict=True))
        lines.append(f"{label(bridge)} links them: {parts}")
    table = snap.concepts[rest[0][0]]
    for broader in sorted(table.ancestors(rest[0][1])):
        n = int(pc[col[family], col[(rest[0][0], broader)]])
        if n:
            lines.append(f"{label(family)} is used with the broader {table.labels[broader]} in {n} "
                         f"{'study' if n == 1 else 'studies'}")
    if not lines:
        lines.append("no neighbouring evidence: the plausibility comes from the model's priors alone")
    return lines


def gap_matrix(trained: Trained, rows: str = "model", cols: str = "data", *, strongest: int = 5) -> dict[str, Any]:
    """Every family x concept cell of the gap map: observed count, plausibility, gap score, status (gap, studied,
    unknown, implausible), rank among the gaps (ties broken by Adamic-Adar, then preferential attachment), whether
    it is one of the ``strongest`` gaps, and its evidence (``why``)."""
    if rows != "model":
        rows, cols = cols, rows
    facets = check_facets((rows, cols))
    other = facets[1]
    snap = trained.snapshot
    combos = combinations(snap, facets)
    families = snap.level_indices("family").tolist()
    diag = lambda f, i: int(snap.pair_counts[snap.columns[(f, i)], snap.columns[(f, i)]])  # noqa: E731
    concepts = sorted({c[1][1] for c in combos}, key=lambda i: (-diag(other, i), i))
    fam_order = sorted(families, key=lambda m: (-diag("model", m), m))
    shape = (len(fam_order), len(concepts))
    counts, plaus, gap = np.zeros(shape, dtype=int), np.zeros(shape), np.zeros(shape)
    status = np.full(shape, "unknown", dtype=object)
    rank = np.zeros(shape, dtype=int)
    evidence: list[list[list[str]]] = [[[] for _ in concepts] for _ in fam_order]
    if combos:
        a = assess(trained, combos)
        order = gapscore.rank_with_ties(a["score"], a["adamic_adar"], a["preferential_attachment"])
        position = {k: n + 1 for n, k in enumerate(k for k in order if a["status"][k] == "gap")}
        r = {m: k for k, m in enumerate(fam_order)}
        c = {i: k for k, i in enumerate(concepts)}
        for k, combo in enumerate(combos):
            i, j = r[combo[0][1]], c[combo[1][1]]
            counts[i, j], plaus[i, j], gap[i, j] = a["observed"][k], a["plausibility"][k], a["score"][k]
            status[i, j], rank[i, j] = a["status"][k], position.get(k, 0)
            evidence[i][j] = _cell_evidence(snap, combo, a["status"][k])
    return {"rows": [_concept(snap, "model", m) for m in fam_order], "cols": [_concept(snap, other, i) for i in concepts],
            "counts": counts.tolist(), "plausibility": np.round(plaus, 6).tolist(), "scores": np.round(gap, 6).tolist(),
            "status": status.tolist(), "rank": rank.tolist(),
            "strongest": [[bool(0 < x <= strongest) for x in row] for row in rank.tolist()],
            "evidence": evidence, "min_studies": MIN_STUDIES, "thin": THIN}


def _cell_evidence(snap: Snapshot, combo: Combo, status: str) -> list[str]:
    label = lambda c: snap.concepts[c[0]].labels[c[1]]  # noqa: E731
    if status == "unknown":
        small = [f"{label(c)}: {snap.count(c)} {'study' if snap.count(c) == 1 else 'studies'}" for c in combo
                 if snap.count(c) < MIN_STUDIES]
        return [f"unknown, too few studies to judge ({'; '.join(small)}; need {MIN_STUDIES})"]
    if status == "implausible":
        m = next((snap.modality_of(i) for f, i in combo if f == "data"), None)
        return [f"not a gap: {label(combo[0])} is not used with {m} data (Table 1 and the graph's studies)"]
    return why(snap, combo)[:WHY + 1]
