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

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from lskg.gnn.evaluate import Z90
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot, short_title
from lskg.gnn.train import Trained
from lskg.records import (
    Basis,
    ConceptRef,
    Facet,
    PartEvidence,
    RankedModel,
    Recommendation,
    RecommendationContext,
    RecommendationEvidence,
    Relation,
    SupportingStudy,
)

SUPPORT = 5
PART_STUDIES = 5
RELATIONS: tuple[Relation, ...] = ("exact", "narrower", "broader")
WEIGHT = {"exact": 1.0, "narrower": 1.0, "broader": 0.5}
"""How much a match counts when ranking supporting studies (a broader match is weaker evidence)."""


class PartMatches(TypedDict):
    """Studies matching one asked concept, by relation (boolean masks over ``snap.studies``)."""

    exact: np.ndarray
    narrower: np.ndarray
    broader: np.ndarray
    narrower_concepts: list[int]
    broader_concepts: list[int]


def context_indices(snap: Snapshot, context: Mapping[Facet, Sequence[str]]) -> dict[Facet, set[int]]:
    """Concept IRIs per facet -> snapshot indices (concepts unknown to the store's graph are left out)."""
    return {f: {snap.concepts[f].index[iri] for iri in context.get(f, []) if iri in snap.concepts[f].index}
            for f in CONTEXT_FACETS}


def part_matches(snap: Snapshot, facet: Facet, c: int) -> PartMatches:
    """Studies matching one asked concept, by relation, and the narrower and broader concepts they state."""
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
    below_used = [j for j in below if stated[:, j].any()]
    return {"exact": exact, "narrower": narrower, "broader": broader, "narrower_concepts": below_used,
            "broader_concepts": used}


def _plural(n: int, word: str = "study") -> str:
    return f"{n} {word if n == 1 else word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def _newest(snap: Snapshot, rows: np.ndarray) -> list[int]:
    return sorted(rows.tolist(), key=lambda n: (-(snap.studies[n].year or 0), n))


def evidence(snap: Snapshot, ctx: Mapping[Facet, set[int]], *,
             usable: np.ndarray | None = None) -> RecommendationEvidence:
    """What the context rests on: per part the studies at the asked, narrower and broader concept; how many
    studies combine all parts; a plain-words summary."""
    usable = snap.usable() if usable is None else usable
    parts: list[PartEvidence] = []
    combined_mask = np.zeros(len(snap), dtype=bool)
    for facet in CONTEXT_FACETS:
        for c in sorted(ctx.get(facet, ())):
            m = part_matches(snap, facet, c)
            masks = {r: m[r] & usable for r in RELATIONS}
            any_match = masks["exact"] | masks["narrower"] | masks["broader"]
            combined_mask = any_match if not parts else combined_mask & any_match
            supporting: list[SupportingStudy] = []
            for r in RELATIONS:
                rows = _newest(snap, np.flatnonzero(masks[r]))[:PART_STUDIES - len(supporting)]
                supporting += [_study(snap, n, relation=r) for n in rows]
            table = snap.concepts[facet]
            parts.append(PartEvidence(facet, table.iris[c], table.labels[c], int(any_match.sum()),
                                      int(masks["exact"].sum()), int(masks["narrower"].sum()),
                                      int(masks["broader"].sum()),
                                      tuple(table.labels[j] for j in m["narrower_concepts"]
                                            if (snap.stated(facet)[:, j] & masks["narrower"]).any()),
                                      tuple(table.labels[j] for j in m["broader_concepts"]), tuple(supporting)))
    combined = np.flatnonzero(combined_mask)
    basis: Basis
    if not parts or all(p.studies == 0 for p in parts):
        basis = "none"
    elif len(combined):
        basis = "combined"
    else:
        basis = "parts"
    return RecommendationEvidence(tuple(parts), int(len(combined)),
                                  tuple(_study(snap, n) for n in _newest(snap, combined)[:SUPPORT]), basis,
                                  _summary(parts, len(combined), basis))


def _part_words(p: PartEvidence) -> str:
    """``12 InSAR studies (10 at InSAR, 2 at a narrower concept)``."""
    if not p.studies:
        return f"no {p.label} study (nor one at a narrower or broader concept)"
    bits = [f"{p.exact} at {p.label}"]
    if p.narrower:
        bits.append(f"{p.narrower} at the narrower {' / '.join(p.narrower_concepts)}")
    if p.broader:
        bits.append(f"{p.broader} only at the broader {' / '.join(p.broader_concepts)}")
    return f"{_plural(p.studies, f'{p.label} study')} ({', '.join(bits)})"


def _summary(parts: list[PartEvidence], combined: int, basis: Basis) -> str:
    if not parts:
        return ("No context was given: the ranking is how often each model is used across the graph, not a "
                "recommendation for a setting.")
    labels = [p.label for p in parts]
    if basis == "none":
        return (f"No study in the graph uses {' or '.join(labels)}, at the asked concept or a narrower or broader "
                "one: the ranking below is only how often each model is used overall, not evidence for this "
                "context.")
    rest = _and([_part_words(p) for p in parts])
    if combined == 0:
        return f"No study in the graph combines {' with '.join(labels)}; this rests on {rest}."
    missing = [p.label for p in parts if p.studies == 0]
    tail = f" No study at all uses {' or '.join(missing)}." if missing else ""
    if len(parts) == 1:
        return f"This rests on {rest}.{tail}"
    return f"{_plural(combined)} in the graph combine {' with '.join(labels)}; by part: {rest}.{tail}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{'; '.join(items[:-1])} and {items[-1]}"


def _study(snap: Snapshot, n: int, *, relation: Relation | None = None,
           matches: Sequence[str] = ()) -> SupportingStudy:
    s = snap.studies[n]
    return SupportingStudy(s.iri, s.title, short_title(s.title), s.year, relation, tuple(matches))


def recommend(trained: Trained, context: Mapping[Facet, Sequence[ConceptRef]], *, top: int = 10) -> Recommendation:
    """Rank every model family and architecture for the context (concepts per facet), with the evidence."""
    snap = trained.snapshot
    ctx = context_indices(snap, {f: [c.iri for c in context.get(f, ())] for f in CONTEXT_FACETS})
    pred = trained.recommender.predict(snap, [ctx])
    ev = evidence(snap, ctx)
    score, std = pred.score[0].copy(), pred.std[0].copy()
    if ev.basis == "none":
        # no study behind any part: the scores are the families' overall shares, stated as such
        y = snap.model_matrix(np.flatnonzero(snap.usable()))
        score = (y.sum(0) + 1.0) / (len(y) + 2.0)
        std = np.sqrt(score * (1 - score))
    matches = [(facet, c, part_matches(snap, facet, c)) for facet in CONTEXT_FACETS for c in sorted(ctx[facet])]
    ranked: dict[str, tuple[RankedModel, ...]] = {}
    for level in ("family", "architecture"):
        cand = snap.level_indices(level)
        order = cand[np.lexsort((cand, -score[cand]))][:top]
        scale = trained.interval_scale(level) if ev.basis != "none" else None
        ranked[level] = tuple(_item(snap, matches, int(m), float(score[m]), float(std[m]), ev.basis, scale)
                              for m in order)
    return Recommendation(
        RecommendationContext(**{f: tuple(context.get(f, ())) for f in CONTEXT_FACETS}),
        trained.artifact.recommender, trained.artifact.model_version, ev, ranked["family"], ranked["architecture"],
        intervals_note(trained.calibration, ev.basis))


def intervals_note(calibration: Mapping | None, basis: Basis) -> str:
    """One sentence on the 90 % intervals of an answer: the factor that widened them and the held-out coverage it
    bought, or why there are none."""
    if basis == "none":
        return "No interval: no study supports the context."
    if not calibration:
        return ("No interval: the recommender was trained without a held-out check (too few dated studies for a "
                "temporal split); the +/- is its own spread, not calibrated.")
    parts = []
    for level, name in (("family", "families"), ("architecture", "architectures")):
        c = calibration.get(level) or {}
        if c.get("interval_scale") is None:
            parts.append(f"none for {name} (the recommender reports no spread there to widen)")
        else:
            parts.append(f"{name} x{c['interval_scale']:.2f}, which covered "
                         f"{c['scaled_interval_coverage']:.0%} there")
    return (f"90 % intervals: score +/- {Z90} x its spread, widened by a factor measured on held-out studies (the "
            f"recommender fitted on the {calibration['train']} studies up to {calibration['split_year']}, the factor "
            f"on half of the {calibration['test']} later ones and checked on the other half, averaged over "
            f"{calibration.get('halvings', 1)} random halvings): {'; '.join(parts)}.")


def _item(snap: Snapshot, matches: list[tuple[Facet, int, PartMatches]], m: int, score: float, std: float,
          basis: Basis, scale: float | None = None) -> RankedModel:
    table = snap.model
    uses = (snap.incidence[:, snap.columns[("model", m)]] > 0) & snap.usable()
    weight = np.zeros(len(snap))
    matched: defaultdict[int, list[str]] = defaultdict(list)  # only the studies that match: not one list per study
    paths = []
    if basis == "none":
        paths.append(f"no study supports this context: {table.labels[m]} is used by {_plural(int(uses.sum()))} "
                     "overall")
    for facet, c, mm in matches:
        label = snap.concepts[facet].labels[c]
        counts = {r: int((mm[r] & uses).sum()) for r in RELATIONS}
        for r in RELATIONS:
            for n in np.flatnonzero(mm[r] & uses).tolist():
                weight[n] += WEIGHT[r]
                matched[n].append(label if r == "exact" else f"{label} ({r})")
        detail = ", ".join(f"{v} {r}" for r, v in counts.items() if v and r != "exact")
        total = sum(counts.values())
        paths.append(f"{label} -> {_plural(total)}{f' (incl. {detail})' if detail else ''} -> {table.labels[m]}")
    for f in [f for f in table.families_of(m) if f != m]:
        paths.append(f"{table.labels[m]} is a kind of {table.labels[f]}")
    candidates = np.flatnonzero(uses & (weight > 0))
    ranked = sorted(candidates.tolist(), key=lambda n: (-weight[n], -(snap.studies[n].year or 0), n))[:SUPPORT]
    half = None if scale is None else Z90 * scale * std
    interval = None if half is None else (round(max(0.0, score - half), 6), round(min(1.0, score + half), 6))
    return RankedModel(table.iris[m], table.labels[m], round(score, 6), round(std, 6),
                       tuple(_study(snap, n, matches=matched[n]) for n in ranked), tuple(paths), basis != "none",
                       interval)
