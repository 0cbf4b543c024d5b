"""The evaluation harness: every recommender, the same splits, the same filtered ranks.

Protocol (docs/recommendation.md has the why):

- **Splits are study-level.** Temporal (headline): train on studies published up to the split year, test on
  later ones. Random: 80/20 of studies per seed. A test study keeps its data, landslide-type and task facts (the
  query) and loses every model fact; nothing about it reaches fitting (recommenders only ever see ``train``).
- **Filtered ranks with fair ties.** For each test study and each of its true model concepts at a level (the
  families, or the architectures, of its facts closed over ``skos:broader``), the other true concepts are removed
  from the candidates; ties count as a uniformly random order (expected Hits@k and reciprocal rank over the
  tied positions). Per study the values are averaged over its true concepts, then over studies (macro).
- Hits@1, Hits@3, MRR, AMRI (adjusted mean rank index: 1 perfect, 0 random) and per-study AUC, at family and at
  architecture level; mean and standard deviation over seeds; paired bootstrap (over test studies, each study's seeds averaged first) of
  "graph model minus best baseline", for the GNN and for the hybrid (GNN + count features).
- **Gap back-test** (Science4Cast style): family x concept pairs and family x data x landslide-type triples with
  no study up to the split year; positive if a later study has them; AUC and precision@10 of each scorer beside
  preferential attachment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np

from lskg.gnn.registry import BASELINES, GRAPH_MODELS, ContextIdx, Prediction, Recommender, create
from lskg.gnn.snapshot import CONTEXT_FACETS, LEVELS, Snapshot
from lskg.ontology.terms import DATA, LANDSLIDE, TASK
from lskg.records import (
    Calibration,
    Comparison,
    DefaultChoice,
    DefaultRule,
    EvaluationReport,
    Facet,
    FamilyScore,
    FamilyShare,
    GapBacktest,
    GapEvaluation,
    GapMethod,
    GraphSummary,
    LearnedVsHeuristic,
    LevelScores,
    PlausibilityFilter,
    RecommenderScores,
    ScorerBacktest,
    SplitName,
    SplitScores,
    Spread,
    Table1Recovery,
    Table1Row,
    Table1Stability,
)

log = logging.getLogger(__name__)

METRICS = ("hits@1", "hits@3", "mrr", "amri", "auc")
METRIC_FIELDS = {"hits@1": "hits_at_1", "hits@3": "hits_at_3", "mrr": "mrr", "amri": "amri", "auc": "auc"}
"""Each metric's field in ``RecommenderScores``."""
DEFAULT_RULE = DefaultRule()
Progress = Callable[[str, int, int | None], None]
PerStudy = dict[str, dict[str, dict[str, list[np.ndarray]]]]
"""recommender -> level -> metric -> one array of per-study values per seed (kept for the bootstrap); the key
``STUDY`` holds the test studies' indices, aligned with the values."""
STUDY = "study"


def metric(row: RecommenderScores, name: str) -> Spread:
    """A recommender's spread of one metric by its name in ``METRICS``."""
    return cast(Spread, getattr(row, METRIC_FIELDS[name]))


@dataclass(frozen=True)
class Split:
    name: SplitName
    train: np.ndarray
    test: np.ndarray
    year: int | None = None


def default_split_year(snap: Snapshot) -> int:
    """The year after which 15-25 % (aim: 20 %) of the usable studies were published."""
    years = snap.years[snap.usable() & (snap.years > 0)]
    if len(years) == 0:
        raise ValueError("no dated study with model and context facts")
    candidates = sorted(set(years.tolist()))[:-1] or sorted(set(years.tolist()))
    return min(candidates, key=lambda y: abs(float(np.mean(years > y)) - 0.2))


def temporal_split(snap: Snapshot, year: int | None = None) -> Split:
    year = default_split_year(snap) if year is None else int(year)
    usable = snap.usable() & (snap.years > 0)
    return Split("temporal", np.flatnonzero(usable & (snap.years <= year)),
                 np.flatnonzero(usable & (snap.years > year)), year)


def random_split(snap: Snapshot, seed: int, test_fraction: float = 0.2) -> Split:
    usable = np.flatnonzero(snap.usable())
    order = np.random.default_rng(seed).permutation(usable)
    n_test = max(1, int(round(test_fraction * len(usable))))
    return Split("random", np.sort(order[n_test:]), np.sort(order[:n_test]))


def rank_study(scores: np.ndarray, truth: np.ndarray) -> dict[str, float] | None:
    """Filtered, tie-fair metrics of one study over one level's candidates (None if no true candidate)."""
    pos = np.flatnonzero(truth)
    if len(pos) == 0 or len(pos) == len(truth):
        return None
    negatives = np.sort(scores[~truth])
    n = len(negatives) + 1
    h1 = h3 = rr = rank_sum = 0.0
    for p in pos:
        s = scores[p]
        better = len(negatives) - np.searchsorted(negatives, s, side="right")
        tied = np.searchsorted(negatives, s, side="right") - np.searchsorted(negatives, s, side="left")
        first, last = better + 1, better + 1 + tied
        width = tied + 1
        h1 += np.clip((1 - first + 1) / width, 0, 1)
        h3 += np.clip((3 - first + 1) / width, 0, 1)
        rr += float(np.mean(1.0 / np.arange(first, last + 1)))
        rank_sum += (first + last) / 2
    k = len(pos)
    greater = np.searchsorted(negatives, scores[pos], side="left")
    ties = np.searchsorted(negatives, scores[pos], side="right") - greater
    auc = float(np.mean((greater + 0.5 * ties) / len(negatives)))
    return {"hits@1": h1 / k, "hits@3": h3 / k, "mrr": rr / k, "rank": rank_sum / k, "expected": (n + 1) / 2,
            "auc": auc}


def score_split(snap: Snapshot, split: Split, pred: Prediction) -> dict[str, dict[str, np.ndarray]]:
    """Per-study metric arrays for each level (NaN where a study has no true concept at that level)."""
    truth = snap.model_matrix(split.test) > 0
    out: dict[str, dict[str, np.ndarray]] = {}
    for level in LEVELS:
        cand = snap.level_indices(level)
        rows = [rank_study(pred.score[q, cand], truth[q, cand]) for q in range(len(split.test))]
        keys = ("hits@1", "hits@3", "mrr", "auc", "rank", "expected")
        out[level] = {k: np.array([r[k] if r else np.nan for r in rows]) for k in keys}
        out[level][STUDY] = np.asarray(split.test, dtype=float)
    return out


Z90 = 1.645
CONFORMAL_ALPHA = 0.1


def calibration(pred: Prediction, truth: np.ndarray, cand: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """Held-out calibration at one level, over every (test study, candidate) pair.

    - ``interval_coverage``: share of pairs whose 90 % interval ``score +/- 1.645 std`` contains the observed rate
      of positives among pairs with similar scores (deciles of the score); 0.9 is calibrated, and a recommender
      without an uncertainty (std 0) scores near 0 by construction;
    - ``brier`` and ``ece`` (expected calibration error over 10 equal-width bins) of the scores read as
      probabilities;
    - split-conformal family sets at alpha 0.1: the test studies are halved at random; the threshold is fitted on
      one half (non-conformity 1 - score of each true concept) and ``conformal_coverage`` / ``set_size`` are
      measured on the other;
    - on the same halves, ``interval_scale`` (how much wider than +/- 1.645 std the interval must be to cover 90 %)
      and ``scaled_interval_coverage``, the held-out coverage of the widened interval (``_scaled_intervals``).
    """
    p = np.clip(pred.score[:, cand], 0.0, 1.0)
    s = pred.std[:, cand]
    y = truth[:, cand].astype(float)
    if p.size == 0:
        return {}
    flat_p, flat_s, flat_y = p.ravel(), s.ravel(), y.ravel()
    rate = _observed_rate(flat_p, flat_y)
    covered = np.abs(rate - flat_p) <= Z90 * flat_s + 1e-12
    equal = np.clip((flat_p * 10).astype(int), 0, 9)
    ece = sum(abs(flat_y[equal == b].mean() - flat_p[equal == b].mean()) * (equal == b).mean()
              for b in np.unique(equal))
    out = {"interval_coverage": float(covered.mean()), "brier": float(np.mean((flat_p - flat_y) ** 2)),
           "ece": float(ece)}
    rows = np.random.default_rng(seed).permutation(len(p))
    cal, test = rows[: len(rows) // 2], rows[len(rows) // 2:]
    out |= _scaled_intervals(p, s, y, cal, test)
    scores_cal = 1.0 - p[cal][y[cal] > 0]
    if len(scores_cal) and len(test):
        level = min(1.0, np.ceil((len(scores_cal) + 1) * (1 - CONFORMAL_ALPHA)) / len(scores_cal))
        q = float(np.quantile(scores_cal, level, method="higher"))
        in_set = p[test] >= 1.0 - q - 1e-12
        hits = in_set[y[test] > 0]
        out |= {"conformal_coverage": float(hits.mean()) if hits.size else float("nan"),
                "conformal_set_size": float(in_set.sum(1).mean())}
    return out


def _observed_rate(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each pair, the rate of positives among pairs with a similar score (the decile of the score)."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rate = np.zeros(len(p))
    for b in np.unique(bins):
        rate[bins == b] = y[bins == b].mean()
    return rate


def _scaled_intervals(p: np.ndarray, s: np.ndarray, y: np.ndarray, cal: np.ndarray,
                      test: np.ndarray) -> dict[str, float]:
    """Split-conformal repair of the reported intervals: on the calibration studies, the factor k such that
    ``score +/- k std`` contains the observed rate for 90 % of the pairs; ``scaled_interval_coverage`` is that
    interval's coverage on the other studies (rates computed inside each half). Only for a recommender that
    reports an uncertainty, and whose zero-width intervals (if any) sit on the observed rate."""
    if len(cal) == 0 or len(test) == 0 or not (s > 0).any():
        return {}
    half = {}
    for name, idx in (("cal", cal), ("test", test)):
        pp, ss, yy = p[idx].ravel(), s[idx].ravel(), y[idx].ravel()
        half[name] = (pp, ss, _observed_rate(pp, yy))
    pp, ss, rate = half["cal"]
    ratio = np.where(ss > 0, np.abs(rate - pp) / np.maximum(ss, 1e-12), np.where(np.abs(rate - pp) < 1e-12, 0, np.inf))
    level = min(1.0, np.ceil((len(ratio) + 1) * 0.9) / len(ratio))
    k = float(np.quantile(ratio, level, method="higher"))
    if not np.isfinite(k):
        return {}  # zero-width intervals off the observed rate (kNN at 0 or 1 votes): no scale repairs them
    pp, ss, rate = half["test"]
    return {"interval_scale": k / Z90, "scaled_interval_coverage": float(np.mean(np.abs(rate - pp) <= k * ss + 1e-12))}


def summarise(per_study: dict[str, np.ndarray]) -> dict[str, float]:
    ok = ~np.isnan(per_study["mrr"])
    result = {k: float(np.mean(per_study[k][ok])) if ok.any() else float("nan")
              for k in ("hits@1", "hits@3", "mrr", "auc")}
    denominator = float(np.sum(per_study["expected"][ok] - 1))
    result["amri"] = 1 - float(np.sum(per_study["rank"][ok] - 1)) / denominator if denominator > 0 else float("nan")
    result["studies"] = int(ok.sum())
    return result


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, units: np.ndarray | None = None, seed: int = 0,
                     rounds: int = 2000) -> dict[str, float]:
    """Mean of a - b and its 95 % percentile interval, resampling ``units``: with ``units`` (one label per value,
    e.g. the test study of each study-seed value) the differences are first averaged within each unit, so the
    seeds of one study count once (a deterministic recommender scored on five seeds gives five copies of one
    value, which resampled as independent would narrow the interval about sqrt(5)-fold); without, every value
    is a unit. ``pairs`` is the number of units."""
    ok = ~(np.isnan(a) | np.isnan(b))
    diff = a[ok] - b[ok]
    if units is not None and len(diff):
        labels, index = np.unique(units[ok], return_inverse=True)
        diff = np.bincount(index, weights=diff, minlength=len(labels)) / np.bincount(index, minlength=len(labels))
    if len(diff) == 0:
        return {"diff": float("nan"), "low": float("nan"), "high": float("nan"), "pairs": 0}
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(1)
    return {"diff": float(diff.mean()), "low": float(np.percentile(means, 2.5)),
            "high": float(np.percentile(means, 97.5)), "pairs": int(len(diff))}


def _contexts(snap: Snapshot, studies: np.ndarray) -> list[dict]:
    return [snap.context_of(int(n)) for n in studies]


def run_split(snap: Snapshot, names: Sequence[str], make_split: Callable[[int], Split], seeds: Sequence[int],
              options: dict[str, dict] | None = None, progress: Progress | None = None,
              keep: dict[str, Recommender] | None = None) -> tuple[SplitScores, PerStudy]:
    """Fit and score every recommender on every seed's split; the per-study arrays are returned beside the
    scores, for the bootstrap."""
    options = options or {}
    per: PerStudy = {n: {lv: {} for lv in LEVELS} for n in names}
    seconds: dict[str, float] = dict.fromkeys(names, 0.0)
    done, total = 0, len(names) * len(seeds)
    split = make_split(seeds[0])
    cold: dict[str, int] = {}
    calib: dict[str, dict[str, list[dict[str, float]]]] = {n: {lv: [] for lv in LEVELS} for n in names}
    for seed in seeds:
        split = make_split(seed)
        contexts = _contexts(snap, split.test)
        seen = snap.model_matrix(split.train).sum(0) > 0
        truth = snap.model_matrix(split.test) > 0
        for level in LEVELS:
            cand = snap.level_indices(level)
            cold[level] = cold.get(level, 0) + int((truth[:, cand] & ~seen[cand]).sum())
        for name in names:
            started = time.perf_counter()
            rec = create(name, **options.get(name, {}))
            rec.fit(snap, split.train, seed=seed)
            pred = rec.predict(snap, contexts)
            seconds[name] += time.perf_counter() - started
            for level in LEVELS:
                calib[name][level].append(calibration(pred, truth, snap.level_indices(level), seed=seed))
            for level, arrays in score_split(snap, split, pred).items():
                for k, v in arrays.items():
                    per[name][level].setdefault(k, []).append(v)
            if keep is not None and seed == seeds[0]:
                keep[name] = rec
            done += 1
            if progress:
                progress(split.name, done, total)
    table: dict[str, LevelScores] = {}
    for level in LEVELS:
        cand = snap.level_indices(level)
        rows = {}
        for name in names:
            runs = [summarise({k: per[name][level][k][i] for k in per[name][level]}) for i in range(len(seeds))]
            spreads = {METRIC_FIELDS[m]: Spread(float(np.nanmean([r[m] for r in runs])),
                                                float(np.nanstd([r[m] for r in runs]))) for m in METRICS}
            rows[name] = RecommenderScores(**spreads, studies=int(runs[0]["studies"]),
                                           calibration=_mean_calibration(calib[name][level]))
        table[level] = LevelScores(int(len(cand)), _random_hits(snap, split, cand, 3),
                                   cold[level] // max(len(seeds), 1), rows)
    scores = SplitScores(split.name, split.year, len(split.train), len(split.test), tuple(seeds), table,
                         {n: round(s / len(seeds), 3) for n, s in seconds.items()})
    return scores, per


HALVINGS = 20
"""Random halvings of the held-out studies that the deployed interval factor is averaged over."""


def deployed_calibration(snap: Snapshot, name: str, options: dict[str, Any], split: Split, *, seed: int = 0,
                         halvings: int = HALVINGS) -> dict[str, Calibration]:
    """``name`` fitted once on ``split.train`` and scored on ``split.test``: per level, every ``calibration``
    measure averaged over ``halvings`` random halvings of the test studies (each time the interval factor is fitted
    on one half and checked on the other), so that the factor an answer is widened by does not hang on one draw of
    a few dozen studies."""
    rec = create(name, **options)
    rec.fit(snap, split.train, seed=seed)
    pred = rec.predict(snap, _contexts(snap, split.test))
    truth = snap.model_matrix(split.test) > 0
    return {level: _mean_calibration([calibration(pred, truth, snap.level_indices(level), seed=seed + k)
                                      for k in range(halvings)]) for level in LEVELS}


def _mean_calibration(runs: list[dict[str, float]]) -> Calibration:
    """Each calibration measure averaged over the seeds that have it (None where no seed has it)."""
    keys = {k for c in runs for k in c}
    return Calibration(**{k: float(np.nanmean([c.get(k, np.nan) for c in runs])) for k in keys})


def _random_hits(snap: Snapshot, split: Split, cand: np.ndarray, k: int) -> float:
    """Expected Hits@k of a random order (the floor), with filtering."""
    truth = snap.model_matrix(split.test)[:, cand] > 0
    values = [min(k, len(cand) - t.sum() + 1) / (len(cand) - t.sum() + 1) for t in truth if 0 < t.sum() < len(cand)]
    return float(np.mean(values)) if values else float("nan")


def compare(result: SplitScores, per: PerStudy, *, challenger: str = "gnn", level: str = "family",
            metric_name: str = "hits@3") -> Comparison | None:
    """Best baseline by mean ``metric_name`` at ``level``, and the paired bootstrap of challenger minus it."""
    rows = result.levels[level].recommenders
    baselines = [n for n in rows if n in BASELINES and n != "random"]
    if challenger not in rows or not baselines:
        return None
    best = max(baselines, key=lambda n: (metric(rows[n], metric_name).mean, rows[n].mrr.mean))
    boot = _paired(per, challenger, best, level, metric_name)
    return Comparison(result.split, challenger, best, level, metric_name, boot["diff"], boot["low"], boot["high"],
                      int(boot["pairs"]))


def _paired(per: PerStudy, a: str, b: str, level: str, metric_name: str) -> dict[str, float]:
    """The paired bootstrap of ``a`` minus ``b`` on one per-study metric, over test studies (seeds averaged
    within each study)."""
    values = [np.concatenate(per[name][level][metric_name]) for name in (a, b)]
    units = np.concatenate(per[a][level][STUDY])
    if not np.array_equal(units, np.concatenate(per[b][level][STUDY])):
        raise ValueError(f"{a} and {b} were scored on different test studies")
    return paired_bootstrap(values[0], values[1], units=units)


def choose_default(temporal: SplitScores, per: PerStudy) -> DefaultChoice:
    """A graph model (``gnn``, or the ``hybrid`` that blends it with count features) is the default only if it
    beats the best baseline on temporal family-level Hits@3 by at least 0.03 with the bootstrap interval above
    zero; otherwise the best baseline is, and the reason says why. Of several graph models the one with the best
    mean temporal family-level Hits@3 is the one tested (one test, not one per challenger)."""
    rows = temporal.levels["family"].recommenders
    challengers = [n for n in GRAPH_MODELS if n in rows]
    cmp = None
    if challengers:
        challenger = max(challengers, key=lambda n: (rows[n].hits_at_3.mean, rows[n].mrr.mean))
        cmp = compare(temporal, per, challenger=challenger)
    if cmp is None:
        candidates = [n for n in rows if n != "random"]
        best = max(candidates, key=lambda n: rows[n].hits_at_3.mean) if candidates else "cooccurrence"
        return DefaultChoice(best, DEFAULT_RULE, None,
                             "no graph model was evaluated; the best evaluated recommender is the default")
    margin = DEFAULT_RULE.margin
    who = "the GNN" if cmp.challenger == "gnn" else f"the {cmp.challenger} graph model"
    if cmp.diff >= margin and cmp.low > 0:
        return DefaultChoice(cmp.challenger, DEFAULT_RULE, cmp,
                             f"{who} beats {cmp.best_baseline} on temporal family-level Hits@3 by "
                             f"{cmp.diff:+.3f} (95% CI {cmp.low:+.3f}..{cmp.high:+.3f})")
    fallback = _prefer_counts(per, cmp.best_baseline)
    why = [f"{cmp.challenger} (the best graph model) minus {cmp.best_baseline} on temporal family-level "
           f"Hits@3 is {cmp.diff:+.3f} (95% CI {cmp.low:+.3f}..{cmp.high:+.3f}, over {cmp.pairs} test studies)"]
    if cmp.diff < margin:
        why.append(f"below the required margin of {margin}")
    if cmp.high < 0:
        why.append(f"the interval lies below zero: {cmp.challenger} is worse")
    elif not cmp.low > 0:
        why.append("the interval does not exclude zero")
    return DefaultChoice(fallback[0], DEFAULT_RULE, cmp, "; ".join(why) + fallback[1])


def _prefer_counts(per: PerStudy, best: str, prior: str = "cooccurrence") -> tuple[str, str]:
    """A baseline other than the context counts replaces them only if it is better beyond noise (paired
    bootstrap interval above zero); on a small graph the ranking of baselines is mostly noise."""
    if best == prior or prior not in per:
        return best, ""
    b = _paired(per, best, prior, "family", "hits@3")
    if b["low"] > 0:
        return best, ""
    return prior, (f"; {best} is the best baseline but not significantly better than {prior} "
                   f"({b['diff']:+.3f}, 95% CI {b['low']:+.3f}..{b['high']:+.3f}), so {prior} is the default")


# --- gap back-test -----------------------------------------------------------------------------------------------

def plausibility(snap: Snapshot, rec: Recommender, combos: Sequence[tuple[tuple[str, int], ...]]) -> Prediction:
    """Score of the combination's family given the rest of it as a context; one batch per distinct context."""
    keys = sorted({tuple(c for c in combo if c[0] != "model") for combo in combos})
    position = {k: n for n, k in enumerate(keys)}
    contexts = [{f: {i for g, i in key if g == f} for f in CONTEXT_FACETS} for key in keys]
    pred = rec.predict(snap, contexts)
    rows = [position[tuple(c for c in combo if c[0] != "model")] for combo in combos]
    cols = [next(i for g, i in combo if g == "model") for combo in combos]
    return Prediction(pred.score[rows, cols], pred.std[rows, cols])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels], np.sort(scores[~labels])
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    lower = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - lower
    return float(np.mean((lower + 0.5 * ties) / len(neg)))


def gap_backtest(snap: Snapshot, split: Split, fitted: dict[str, Recommender]) -> GapBacktest:
    """White spots at the split year (count 0), positive if a later study fills them. Scored by every single
    heuristic of ``gapscore.HEURISTICS``, by the learned gap scorer (trees over all of them, fitted on the years
    before the split only) and by each recommender's plausibility; AUC with a bootstrap interval, precision@10
    (ties broken by Adamic-Adar, then preferential attachment) and the number of positives."""
    from lskg.gnn import gapscore

    combos_all = gapscore.candidates(snap, split.train)
    combos = [c for _, c in combos_all]
    kinds = np.array([k for k, _ in combos_all])
    before = gapscore.observed(snap, split.train, combos)
    after = gapscore.observed(snap, split.test, combos)
    white = before == 0
    labels = after[white] > 0
    feats = gapscore.features(snap, split.train, combos)
    scorers = {name: feats[name] for name in gapscore.HEURISTICS}
    learned = gapscore.LearnedGapScorer().fit(snap, split.train)
    scorers["learned"] = learned.score(feats)
    for name, rec in fitted.items():
        if name != "random" and name not in scorers:  # the adamic_adar / common_neighbours heuristics keep their name
            scorers[name] = plausibility(snap, rec, combos).score
    filt = plausible_mask(snap, combos, split.train)
    aa, pa = feats["adamic_adar"][white], feats["preferential_attachment"][white]
    rows: dict[str, ScorerBacktest] = {}
    for name, values in scorers.items():
        sc = values[white]
        order = gapscore.rank_with_ties(sc, aa, pa)
        ci = gapscore.bootstrap_auc(sc, labels)
        rows[name] = ScorerBacktest(auc(sc, labels), (ci[0], ci[1]) if ci else None,
                                    float(labels[order[:10]].mean()) if len(sc) else float("nan"),
                                    "learned" if name == "learned" else
                                    "heuristic" if name in gapscore.HEURISTICS else "recommender")
    heuristics = {n: v.auc for n, v in rows.items() if v.kind == "heuristic" and not np.isnan(v.auc)}
    versus = None
    if heuristics and labels.any() and not labels.all():
        best = max(heuristics, key=lambda n: heuristics[n])
        a, b = scorers["learned"][white], scorers[best][white]
        rng = np.random.default_rng(1)
        diffs = [auc(a[i], labels[i]) - auc(b[i], labels[i]) for i in rng.integers(0, len(a), size=(300, len(a)))]
        versus = LearnedVsHeuristic(best, auc(a, labels) - auc(b, labels),
                                    (float(np.nanpercentile(diffs, 2.5)), float(np.nanpercentile(diffs, 97.5))))
    return GapBacktest(
        split_year=split.year, candidates=int(white.sum()), positives=int(labels.sum()),
        learned_trained_on={k: int(v) for k, v in learned.trained_on.items()},
        filter=PlausibilityFilter(int((white & ~filt).sum()), int((~filt[white] & labels).sum())),
        by_kind={k: {"candidates": int((white & (kinds == k)).sum()),
                     "positives": int(((after > 0) & white & (kinds == k)).sum())} for k in sorted(set(kinds.tolist()))},
        scorers=rows, learned_vs_best_heuristic=versus)


def plausible_mask(snap: Snapshot, combos: Sequence[tuple[tuple[str, int], ...]],
                   studies: np.ndarray | None = None) -> np.ndarray:
    """False where the family cannot take the combination's data source: see ``gaps.family_modalities``."""
    from lskg.gnn.gaps import family_modalities

    allowed = family_modalities(snap, studies)
    out = np.ones(len(combos), dtype=bool)
    for k, combo in enumerate(combos):
        fam = combo[0][1]
        for facet, i in combo[1:]:
            if facet == "data" and fam in allowed:
                m = snap.modality_of(i)
                if m is not None and m != "mixed" and m not in allowed[fam]:
                    out[k] = False
    return out


def best_gap_scorer(backtest: GapBacktest) -> str:
    """The recommender whose plausibility back-tests best (shown as the gaps' plausibility)."""
    scorers = {n: v.auc for n, v in backtest.scorers.items() if v.kind == "recommender" and not np.isnan(v.auc)}
    return max(scorers, key=lambda n: scorers[n]) if scorers else "cooccurrence"


def best_gap_method(backtest: GapBacktest) -> GapMethod:
    """The learned scorer if its back-test AUC is at least that of every single heuristic, else the best
    heuristic; with the reason."""
    aucs = {n: v.auc for n, v in backtest.scorers.items() if v.kind in ("learned", "heuristic")
            and not np.isnan(v.auc)}
    if not aucs:
        return GapMethod("learned", "no back-test was possible (no white spot filled later)")
    best_h = max((n for n in aucs if n != "learned"), key=lambda n: aucs[n], default=None)
    if best_h is None:
        return GapMethod("learned", "no single heuristic could be scored")
    if "learned" in aucs and aucs["learned"] >= aucs[best_h]:
        return GapMethod("learned", f"learned AUC {aucs['learned']:.3f} >= best single heuristic "
                                    f"{best_h} {aucs[best_h]:.3f}")
    return GapMethod(best_h, f"{best_h} AUC {aucs[best_h]:.3f} beats the learned scorer "
                             f"({aucs.get('learned', float('nan')):.3f}) in the back-test")


# --- the review's Table 1, recovered from study evidence ----------------------------------------------------------

INSAR_CREEP: dict[Facet, list[str]] = {"data": [DATA.InSARTimeSeries.value], "landslide_type": [LANDSLIDE.SlowMovingLandslide.value],
               "task": [TASK.DisplacementPrediction.value]}
"""The issue's worked example (InSAR time series + creeping, i.e. slow-moving, landslides + displacement
prediction), for which the review's Table 1 names RNNs."""


STABILITY_RESAMPLES = 200
"""Bootstrap refits behind ``Table1Stability``: the co-occurrence counts refit 200 times in about 11 CPU s on the
embedded graph (a graph model as the default would refit for minutes each: pass fewer)."""


def table1_recovery(snap: Snapshot, rec: Recommender, *, resamples: int = 0, seed: int = 0) -> Table1Recovery:
    """Each row of the review's Table 1 (``Snapshot.typical``) queried as one context (its typical data,
    landslide types and tasks together) with ``rec`` fitted on every usable study: the rank of the row's family
    among the families (1 = first) and whether it is in the top 3; plus the family ranking for ``INSAR_CREEP``.
    A row says which of its concepts no study uses (the recommender can only back off from those). With
    ``resamples`` the same questions are asked again of ``rec`` refitted on that many bootstrap resamples
    (``table1_stability``)."""
    rows, contexts = _table1_queries(snap)
    order, score = _family_rankings(snap, rec, np.flatnonzero(snap.usable()), contexts)
    table = snap.model
    out_rows = []
    for q, (family, per) in enumerate(rows):
        ranking = order[q].tolist()
        unused = tuple(snap.concepts[f].labels[c] for f in CONTEXT_FACETS for c in sorted(per.get(f, ()))
                       if snap.count((f, c)) == 0)
        out_rows.append(Table1Row(table.labels[family], ranking.index(family) + 1,
                                  tuple(table.labels[m] for m in ranking[:3]), snap.count(("model", family)), unused))
    stability = table1_stability(snap, rec, resamples=resamples, seed=seed) if resamples > 0 else None
    return Table1Recovery(tuple(out_rows), sum(r.rank <= 3 for r in out_rows), len(out_rows),
                          tuple(FamilyScore(table.labels[m], float(score[-1, m])) for m in order[-1, :4]), stability)


def table1_stability(snap: Snapshot, rec: Recommender, *, resamples: int = STABILITY_RESAMPLES,
                     seed: int = 0) -> Table1Stability:
    """``table1_recovery``'s questions on ``resamples`` bootstrap resamples of the usable studies (as many as
    there are, drawn with replacement; ``seed`` fixes the draws), ``rec`` refitted on each: the share of refits
    with each row's family in its top 3, with all rows and with all but at most one, and how often each family
    comes first for ``INSAR_CREEP``. A bootstrap rather than leaving one study out: it asks how the answers would
    move with another literature of the same size, not only whether one study tips them."""
    rows, contexts = _table1_queries(snap)
    usable = np.flatnonzero(snap.usable())
    families = np.array([family for family, _ in rows])
    rng = np.random.default_rng(seed)
    in_top3 = np.zeros((resamples, len(rows)), dtype=bool)
    first = np.zeros(resamples, dtype=int)
    for b in range(resamples):
        order, _ = _family_rankings(snap, rec, np.sort(rng.choice(usable, size=len(usable))), contexts)
        in_top3[b] = (order[:-1, :3] == families[:, None]).any(1)
        first[b] = order[-1, 0]
    missed = (~in_top3).sum(1)
    labels = snap.model.labels
    rows_top3 = tuple(FamilyShare(labels[f], float(s)) for f, s in zip(families, in_top3.mean(0), strict=True))
    winners, times = np.unique(first, return_counts=True)
    firsts = sorted(zip(winners.tolist(), times.tolist(), strict=True), key=lambda ft: -ft[1])
    return Table1Stability(resamples, seed, rows_top3, float(np.mean(missed == 0)), float(np.mean(missed <= 1)),
                           tuple(FamilyShare(labels[f], t / resamples) for f, t in firsts))


def _table1_queries(snap: Snapshot) -> tuple[list[tuple[int, dict[Facet, frozenset[int]]]], list[ContextIdx]]:
    """The Table 1 rows (family, its typical concepts per facet) and their contexts, then ``INSAR_CREEP``'s."""
    from lskg.gnn.recommend import context_indices

    rows = sorted(snap.typical.items())
    return rows, [*({f: set(per.get(f, ())) for f in CONTEXT_FACETS} for _, per in rows),
                  context_indices(snap, INSAR_CREEP)]


def _family_rankings(snap: Snapshot, rec: Recommender, train: np.ndarray,
                     contexts: Sequence[ContextIdx]) -> tuple[np.ndarray, np.ndarray]:
    """``rec`` fitted on ``train``: per context the family indices best first (ties by index), and the scores of
    every model concept."""
    rec.fit(snap, train, seed=0)
    fam = snap.level_indices("family")
    score = rec.predict(snap, contexts).score
    return fam[np.argsort(-score[:, fam], axis=1, kind="stable")], score


def evaluate(snap: Snapshot, *, names: Sequence[str] | None = None, split_year: int | None = None,
             seeds: Sequence[int] = (0, 1, 2, 3, 4), random: bool = True,
             options: dict[str, dict] | None = None, progress: Progress | None = None,
             resamples: int = STABILITY_RESAMPLES) -> EvaluationReport:
    """The full report: temporal split (with the gap back-test), optionally the random split, the comparison
    with the best baseline at both levels, which recommender the rule makes the default, and the review's
    Table 1 per count recommender, for the default also on ``resamples`` bootstrap refits (0: none)."""
    from lskg.gnn.registry import DEPLOYED_OPTIONS
    from lskg.gnn.registry import names as registered

    names = list(names or registered())
    options = {**DEPLOYED_OPTIONS, **(options or {})}  # each recommender as it is deployed, unless told otherwise
    fitted: dict[str, Recommender] = {}
    splits = [run_split(snap, names, lambda s: temporal_split(snap, split_year), seeds, options, progress, fitted)]
    if random:
        splits.append(run_split(snap, names, lambda s: random_split(snap, s), seeds, options, progress))
    comparisons = tuple(c for scores, per in splits for g in GRAPH_MODELS for lv in LEVELS
                        for c in [compare(scores, per, challenger=g, level=lv)] if c)
    temporal, per = splits[0]
    default = choose_default(temporal, per)
    backtest = gap_backtest(snap, temporal_split(snap, split_year), fitted)
    table1 = {}
    if snap.typical:
        # the count recommenders (seconds); a graph model only if the rule made it the default
        checked = [n for n in names if n not in GRAPH_MODELS and n != "random"]
        checked += [n for n in GRAPH_MODELS if n == default.recommender]
        table1 = {n: table1_recovery(snap, create(n, **options.get(n, {})),
                                     resamples=resamples if n == default.recommender else 0) for n in checked}
    return EvaluationReport(temporal=temporal, random=splits[1][0] if random else None, comparisons=comparisons,
                            default=default, gap_backtest=backtest, gap_scorer=best_gap_scorer(backtest),
                            gap_method=best_gap_method(backtest), graph=graph_summary(snap), table1=table1)


def graph_summary(snap: Snapshot) -> GraphSummary:
    return GraphSummary(len(snap), int(snap.usable().sum()), snap.fingerprint)


def evaluate_gaps(snap: Snapshot, *, split_year: int | None = None,
                  names: Sequence[str] = ("popularity", "cooccurrence", "knn")) -> GapEvaluation:
    """The gap back-test alone (``lskg evaluate gaps``): every single heuristic, the learned scorer and the
    plausibility of the named recommenders, on the white spots at the split year; and the method it selects."""
    split = temporal_split(snap, split_year)
    fitted = {}
    for name in names:
        rec = create(name)
        rec.fit(snap, split.train, seed=0)
        fitted[name] = rec
    backtest = gap_backtest(snap, split, fitted)
    return GapEvaluation(backtest, best_gap_method(backtest), best_gap_scorer(backtest), graph_summary(snap))


def public(report: EvaluationReport | GapEvaluation) -> dict[str, Any]:
    """The report as JSON-able mappings (``dataclasses.asdict``): the ``--json`` output and ``metrics.json``."""
    return asdict(report)
