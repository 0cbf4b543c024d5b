"""``train()``: choose the default recommender and the gap scorer by evaluation, fit them on the whole graph, save.

With ``recommender="auto"`` the temporal evaluation decides (GNN only if it beats the best baseline on temporal
family-level Hits@3 by >= 0.03 with the bootstrap interval above zero) and the gap back-test picks the gap
scorer; the evaluation is stored as the artefact's metrics.json. A named recommender skips the selection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lskg.gnn import artifacts
from lskg.gnn import snapshot as snapshots
from lskg.gnn.registry import DEPLOYED_OPTIONS, Recommender, create
from lskg.gnn.snapshot import Snapshot
from lskg.kg.store import Store
from lskg.settings import Settings

if TYPE_CHECKING:
    from lskg.gnn.evaluate import Split

log = logging.getLogger(__name__)

# The deployed GNN is a 3-seed ensemble (registry.DEPLOYED_OPTIONS; its spread is the uncertainty; 5 members took
# 69 s at 10k studies on a busy 2-core machine, over the one-minute budget); the evaluation scores it as deployed.
DEPLOYED = DEPLOYED_OPTIONS
MIN_TEST, MIN_TRAIN = 5, 10
Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: called as a long step advances."""


@dataclass
class Trained:
    snapshot: Snapshot
    artifact: artifacts.Artifact
    fitted: dict[str, Recommender]

    @property
    def recommender(self) -> Recommender:
        return self.fitted[self.artifact.recommender]

    @property
    def gap_scorer(self) -> Recommender:
        return self.fitted[self.artifact.gap_scorer]

    @property
    def sentence(self) -> str:
        """One plain sentence: which recommender was chosen and why, and how gaps are scored."""
        default = self.artifact.metrics.get("default", {})
        gap = self.artifact.metrics.get("gap_method", {})
        text = f"Recommender: {self.artifact.recommender}"
        if default.get("reason"):
            text += f", because {default['reason']}"
        if gap.get("method"):
            text += f"; gaps scored by {gap['method']} ({gap.get('reason', '')})"
        scale, calibration = self.interval_scale("family"), self.calibration
        if scale is not None and calibration is not None:
            text += (f"; its family intervals are widened x{scale:.2f} to cover 90 %, as measured on the studies "
                     f"after {calibration['split_year']}")
        return text + "."

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The held-out calibration measured when it was trained (``held_out_calibration``), or None."""
        return self.artifact.metrics.get("calibration")

    def interval_scale(self, level: str) -> float | None:
        """The factor that widens the recommender's 90 % intervals at ``level``, or None where none was measured."""
        return ((self.calibration or {}).get(level) or {}).get("interval_scale")


def evaluable_split(snap: Snapshot, split_year: int | None = None) -> Split | None:
    """The temporal split the selection and the calibration are measured on, or None when the graph has too few
    dated studies for one (fewer than ``MIN_TRAIN`` up to the split year or ``MIN_TEST`` after it)."""
    from lskg.gnn import evaluate as ev

    try:
        split = ev.temporal_split(snap, split_year)
    except ValueError:
        return None
    return split if len(split.test) >= MIN_TEST and len(split.train) >= MIN_TRAIN else None


def select(snap: Snapshot, *, seeds: int = 5, split_year: int | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """The evaluation that decides the default recommender and the gap scorer (or why it could not run)."""
    from lskg.gnn import evaluate as ev

    split = evaluable_split(snap, split_year)
    if split is None:
        reason = (f"too few dated studies to evaluate a temporal split (need {MIN_TRAIN} before and {MIN_TEST} "
                  "after the split year); the count baseline is the default")
        return {"default": {"recommender": "cooccurrence", "reason": reason, "comparison": None},
                "gap_scorer": "cooccurrence",
                "gap_method": {"method": "learned", "reason": "no back-test possible on so few dated studies"}}
    report = ev.evaluate(snap, split_year=split.year, seeds=tuple(range(seeds)), random=False, progress=progress,
                         resamples=0)  # the choice needs no Table 1 stability; `lskg evaluate recommend` reports it
    return ev.public(report)


def held_out_calibration(snap: Snapshot, name: str, options: dict[str, Any], *, seed: int = 0,
                         split_year: int | None = None, progress: Progress | None = None) -> dict[str, Any] | None:
    """How far to trust the recommender's +/- once deployed: fitted on the studies up to the temporal split year
    and scored on the later ones (``evaluate.deployed_calibration``), per level. ``interval_scale`` is the factor
    that widens ``score +/- 1.645 std`` to cover 90 % of one half of the held-out studies,
    ``scaled_interval_coverage`` what the widened interval covered on the other half, both averaged over random
    halvings; the service widens its intervals by it. None when the graph has too few dated studies for a split."""
    from lskg.gnn import evaluate as ev

    split = evaluable_split(snap, split_year)
    if split is None:
        return None
    report = progress or (lambda stage, done, total: None)
    report("calibrating", 0, 1)
    measured = ev.deployed_calibration(snap, name, options, split, seed=seed)
    report("calibrating", 1, 1)
    return {"split_year": split.year, "train": len(split.train), "test": len(split.test), "halvings": ev.HALVINGS,
            **{level: asdict(calibration) for level, calibration in measured.items()}}


def train_for_store(store: Store, settings: Settings, progress: Progress | None = None, *,
                    recommender: str = "auto", seeds: int = 3, split_year: int | None = None) -> Trained:
    """Train the recommender for a store's graph outside any request and save it next to the store: what
    ``lskg build`` calls after writing the graph, and what ``lskg train`` runs. ``progress(stage, done, total)``
    is called as the work advances (the CLI draws its progress bar with it). Logs (and returns, as
    ``Trained.sentence``) one plain sentence on which model was chosen and why.

    When the store is an on-disk generation (``snapshot.graph_version``), the snapshot read here is saved too,
    so the first request of a server on that generation neither reads the graph nor waits for it."""
    report = progress or (lambda stage, done, total: None)
    report("reading the graph", 0, 1)
    snap = Snapshot.from_store(store)
    report("reading the graph", 1, 1)
    model = train(snap, settings, recommender=recommender, seeds=seeds, split_year=split_year, progress=progress)
    version = snapshots.graph_version(store)
    if version is not None:
        try:
            snapshots.save(snap, snapshots.saved_path(settings), version)
        except OSError as exc:
            log.warning("could not save the graph's snapshot (%s); a server will read the graph instead", exc)
    log.info("%s", model.sentence)
    return model


def train(snap: Snapshot, settings: Settings, *, recommender: str = "auto", seeds: int = 5,
          split_year: int | None = None, save: bool = True,
          progress: Progress | None = None) -> Trained:
    if recommender == "auto":
        metrics = select(snap, seeds=seeds, split_year=split_year, progress=progress)
        chosen, gap_scorer = metrics["default"]["recommender"], metrics["gap_scorer"]
        log.info("default recommender: %s (%s); gap plausibility: %s", chosen, metrics["default"]["reason"],
                 gap_scorer)
    else:
        create(recommender)  # unknown names fail here, before any work
        chosen = gap_scorer = recommender
        metrics = {"default": {"recommender": chosen, "reason": "it is the one configured (`lskg train` evaluates them all "
                                                           "and keeps a graph model only if it wins)"}}
    options = {n: DEPLOYED.get(n, {}) for n in dict.fromkeys((chosen, gap_scorer))}
    metrics["calibration"] = held_out_calibration(snap, chosen, options[chosen], seed=settings.seed,
                                                  split_year=split_year, progress=progress)
    fitted = {}
    train_idx = artifacts.training_studies(snap)
    for name in options:
        rec = create(name, **options[name])
        rec.fit(snap, train_idx, seed=settings.seed)
        fitted[name] = rec
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    version = f"{chosen}+{gap_scorer}@{snap.fingerprint[:10]}-{now:%Y%m%dT%H%M%SZ}"
    artifact = artifacts.Artifact(chosen, gap_scorer, snap.fingerprint, version, now.isoformat(), options, metrics)
    if save:
        try:
            artifacts.save(artifacts.artifact_path(settings), artifact, fitted)
        except OSError as exc:
            log.warning("could not save the recommender artefact (%s); using it in memory only", exc)
    return Trained(snap, artifact, fitted)
