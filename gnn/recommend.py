"""Ranked model families and architectures for a context, with uncertainty and the evidence they rest on.

Evidence is by construction (faithful for the count baselines and a close proxy for a 2-layer GNN, whose receptive
field is exactly context concept -> studies -> model). For every part of the context (each asked data source,
landslide type, task) the studies are found at three relations, and the answer says which:

- ``exact``: the study states the asked concept;
- ``narrower``: it states a narrower one (asked InSAR, the study used SBAS-InSAR);
- ``broader``: it states the nearest broader concept that any study states (asked InSAR time series, the study
  says InSAR) -- weaker evidence, labelled as such.

``evidence.combined`` counts the studies that match every part (at any of the three relations); when it is zero
the answer says plainly that no study combines the parts and what the ranking rests on instead. A context with
no study behind any part gets ``basis: "none"``: the scores are then only each family's overall share of
studies, the uncertainty is widened to the Bernoulli spread, and the summary says so.

Per recommended concept, ``support`` lists the studies that used it with the most matching parts (exact before
narrower before broader, then newest), each with the parts it matches; ``paths`` count, per part, the studies
linking it to the recommendation, plus the hierarchy path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot, short_title
from lskg.gnn.train import Trained

SUPPORT = 5
PART_STUDIES = 5
RELATIONS = ("exact", "narrower", "broader")
WEIGHT = {"exact": 1.0, "narrower": 1.0, "broader": 0.5}
"""How much a match counts when ranking supporting studies (a broader match is weaker evidence)."""
FACET_WORDS = {"data": "data source", "landslide_type": "landslide type", "task": "task"}


def context_indices(snap: Snapshot, context: dict[str, list[str]]) -> dict[str, set[int]]:
    """Concept IRIs per facet -> snapshot indices (concepts unknown to the store's graph are left out)."""
    return {f: {snap.concepts[f].index[iri] for iri in context.get(f, []) if iri in snap.concepts[f].index}
            for f in CONTEXT_FACETS}


def part_matches(snap: Snapshot, facet: str, c: int) -> dict[str, Any]:
    """Studies matching one asked concept, by relation (boolean masks over ``snap.studies``), and the broader
    concepts used."""
    table = snap.concepts[facet]
    stated = snap.stated(facet)
    exact = stated[:, c].copy()
    below = [j for j in range(len(table)) if c in table.ancestors(j)]
    narrower = (stated[:, below].any(1) if below else np.zeros(len(snap), dtype=bool)) & ~exact
    broader = np.zeros(len(snap), dtype=bool)
    used: list[int] = []
    frontier = set(table.broader[c])
    while frontier:
        hit = sorted(j for j in frontier if stated[:, j].any())
        if hit:
            broader = stated[:, hit].any(1) & ~exact & ~narrower
            used = hit
            break
        frontier = {b for j in frontier for b in table.broader[j]}
    return {"exact": exact, "narrower": narrower, "broader": broader, "broader_concepts": used}


def _plural(n: int, word: str = "study") -> str:
    return f"{n} {word if n == 1 else word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def evidence(snap: Snapshot, ctx: dict[str, set[int]], *, usable: np.ndarray | None = None) -> dict[str, Any]:
    """What the context rests on: per part the studies at the asked, narrower and broader concept; how many
    studies combine all parts; a plain-words summary."""
    usable = snap.usable() if usable is None else usable
    parts, masks = [], []
    for facet in CONTEXT_FACETS:
        for c in sorted(ctx.get(facet, ())):
            m = part_matches(snap, facet, c)
            m = {**m, **{r: m[r] & usable for r in RELATIONS}}
            any_match = m["exact"] | m["narrower"] | m["broader"]
            masks.append((facet, c, m))
            table = snap.concepts[facet]
            supporting = []
            for r in RELATIONS:
                rows = np.flatnonzero(m[r])
                rows = sorted(rows.tolist(), key=lambda n: (-(snap.studies[n].year or 0), n))
                supporting += [_study(snap, n, relation=r) for n in rows[:PART_STUDIES - len(supporting)]]
            parts.append({"facet": facet, "iri": table.iris[c], "label": table.labels[c],
                          "studies": int(any_match.sum()), **{r: int(m[r].sum()) for r in RELATIONS},
                          "broader_concepts": [table.labels[j] for j in m["broader_concepts"]],
                          "supporting": supporting})
    combined_mask = np.ones(len(snap), dtype=bool) if masks else np.zeros(len(snap), dtype=bool)
    for _, _, m in masks:
        combined_mask &= m["exact"] | m["narrower"] | m["broader"]
    combined_mask &= usable
    combined = np.flatnonzero(combined_mask)
    basis = "none" if not parts or all(p["studies"] == 0 for p in parts) else (
        "combined" if len(combined) and len(parts) > 1 else "parts")
    if len(parts) == 1 and parts[0]["studies"]:
        basis = "combined"
    return {"parts": parts, "combined": int(len(combined)),
            "combined_studies": [_study(snap, int(n)) for n in
                                 sorted(combined.tolist(), key=lambda n: (-(snap.studies[n].year or 0), n))[:SUPPORT]],
            "basis": basis, "summary": _summary(parts, len(combined), basis)}


def _part_words(p: dict[str, Any]) -> str:
    if not p["studies"]:
        return f"no study for {p['label']} (nor at a narrower or broader concept)"
    bits = [f"{p['exact']} at {p['label']}"]
    if p["narrower"]:
        bits.append(f"{p['narrower']} at a narrower concept")
    if p["broader"]:
        bits.append(f"{p['broader']} only at the broader {' / '.join(p['broader_concepts'])}")
    return f"{_plural(p['studies'])} for {p['label']} ({', '.join(bits)})"


def _summary(parts: list[dict[str, Any]], combined: int, basis: str) -> str:
    if not parts:
        return ("No context was given: the ranking is how often each model is used across the graph, not a "
                "recommendation for a setting.")
    labels = [p["label"] for p in parts]
    if basis == "none":
        return (f"No study in the graph uses {' or '.join(labels)}, at the asked concept or a narrower or broader "
                "one: the ranking below is only how often each model is used overall, not evidence for this "
                "context.")
    rest = "; ".join(_part_words(p) for p in parts)
    if combined == 0:
        return (f"No study in the graph combines {' with '.join(labels)}; this rests on the parts separately: "
                f"{rest}.")
    missing = [p["label"] for p in parts if p["studies"] == 0]
    tail = f" No study at all uses {' or '.join(missing)}." if missing else ""
    if len(parts) == 1:
        return f"This rests on {rest}.{tail}"
    return f"{_plural(combined)} in the graph combine {' with '.join(labels)}; by part: {rest}.{tail}"


def _study(snap: Snapshot, n: int, **extra: Any) -> dict[str, Any]:
    s = snap.studies[n]
    return {"iri": s.iri, "title": s.title, "short_title": short_title(s.title), "year": s.year, **extra}


def recommend(trained: Trained, context: dict[str, list[str]], *, top: int = 10) -> dict[str, Any]:
    snap = trained.snapshot
    ctx = context_indices(snap, context)
    pred = trained.recommender.predict(snap, [ctx])
    ev = evidence(snap, ctx)
    score, std = pred.score[0].copy(), pred.std[0].copy()
    if ev["basis"] == "none":
        # no study behind any part: the scores are the families' overall shares, stated as such
        y = snap.model_matrix(np.flatnonzero(snap.usable()))
        score = (y.sum(0) + 1.0) / (len(y) + 2.0)
        std = np.sqrt(score * (1 - score))
    matches = [(facet, c, part_matches(snap, facet, c)) for facet in CONTEXT_FACETS for c in sorted(ctx[facet])]
    out: dict[str, Any] = {"evidence": ev, "summary": ev["summary"], "basis": ev["basis"]}
    for level, key in (("family", "families"), ("architecture", "architectures")):
        cand = snap.level_indices(level)
        order = cand[np.lexsort((cand, -score[cand]))][:top]
        out[key] = [_item(snap, matches, int(m), float(score[m]), float(std[m]), ev["basis"]) for m in order]
    return out


def _item(snap: Snapshot, matches: list, m: int, score: float, std: float, basis: str) -> dict[str, Any]:
    table = snap.model
    uses = (snap.incidence[:, snap.columns[("model", m)]] > 0) & snap.usable()
    weight = np.zeros(len(snap))
    matched: list[list[str]] = [[] for _ in range(len(snap))]
    paths = []
    if basis == "none":
        paths.append(f"no study supports this context: {table.labels[m]} is used by {_plural(int(uses.sum()))} "
                     "overall")
    for facet, c, mm in matches:
        label = snap.concepts[facet].labels[c]
        counts = {r: int((mm[r] & uses).sum()) for r in RELATIONS}
        for r in RELATIONS:
            for n in np.flatnonzero(mm[r] & uses):
                weight[n] += WEIGHT[r]
                matched[n].append(label if r == "exact" else f"{label} ({r})")
        detail = ", ".join(f"{v} {r}" for r, v in counts.items() if v and r != "exact")
        total = sum(counts.values())
        paths.append(f"{label} -> {_plural(total)}{f' (incl. {detail})' if detail else ''} -> {table.labels[m]}")
    for f in [f for f in table.families_of(m) if f != m]:
        paths.append(f"{table.labels[m]} is a kind of {table.labels[f]}")
    candidates = np.flatnonzero(uses & (weight > 0))
    ranked = sorted(candidates.tolist(), key=lambda n: (-weight[n], -(snap.studies[n].year or 0), n))[:SUPPORT]
    return {"iri": table.iris[m], "label": table.labels[m], "score": round(score, 6), "uncertainty": round(std, 6),
            "support": [_study(snap, n, matches=matched[n]) for n in ranked], "paths": paths,
            "confident": basis != "none"}
