"""Trained recommenders on disk, next to the store (``Settings.artifact_dir``), versioned and tied to the graph.

    <artifact_dir>/recommender/
        config.json    format, recommender and gap scorer names, options, graph fingerprint, model version, created
        metrics.json   the evaluation that chose the default (GNN vs every baseline, gap back-test)
        weights-<name>.pt   learned weights (GNN, ensemble members); count baselines are refitted on load

An artefact whose fingerprint differs from the current graph is stale: ``load`` refuses it (``StaleModelError``)
and the service retrains, so an old model is never used silently.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lskg.errors import ModelNotFoundError
from lskg.gnn.registry import Recommender, create
from lskg.gnn.snapshot import Snapshot
from lskg.settings import Settings

log = logging.getLogger(__name__)

FORMAT = 1
DIRNAME = "recommender"


class StaleModelError(ModelNotFoundError):
    """The saved recommender was trained on a different graph."""

    code = "LSKG-E402"


@dataclass
class Artifact:
    recommender: str
    gap_scorer: str
    fingerprint: str
    model_version: str
    created: str
    options: dict[str, dict] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        return {"format": FORMAT, "recommender": self.recommender, "gap_scorer": self.gap_scorer,
                "fingerprint": self.fingerprint, "model_version": self.model_version, "created": self.created,
                "options": self.options}


def artifact_path(settings: Settings) -> Path:
    return settings.artifact_dir / DIRNAME


def save(path: Path, artifact: Artifact, fitted: dict[str, Recommender]) -> None:
    """Write atomically enough: a fresh sibling folder, then swapped in."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(artifact.config(), indent=2))
    (tmp / "metrics.json").write_text(json.dumps(artifact.metrics, indent=2, default=float))
    for name, rec in fitted.items():
        state = getattr(rec, "state", None)
        if callable(state):
            (tmp / f"weights-{name}.pt").write_bytes(state())
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    log.info("saved recommender artefact %s (%s)", path, artifact.model_version)


def load(path: Path, snap: Snapshot, *, seed: int = 0) -> tuple[Artifact, dict[str, Recommender]]:
    config_file = path / "config.json"
    if not config_file.exists():
        raise ModelNotFoundError(f"no trained recommender at {path}", hint="run `lskg train` first")
    config = json.loads(config_file.read_text())
    if config.get("format") != FORMAT:
        raise StaleModelError(f"the recommender at {path} has format {config.get('format')}, expected {FORMAT}",
                              hint="run `lskg train` to retrain it")
    if config["fingerprint"] != snap.fingerprint:
        raise StaleModelError(f"the recommender at {path} was trained on another graph "
                              f"({config['fingerprint'][:12]}, the store is now {snap.fingerprint[:12]})",
                              hint="run `lskg train` to retrain it on the current graph")
    metrics_file = path / "metrics.json"
    artifact = Artifact(config["recommender"], config["gap_scorer"], config["fingerprint"], config["model_version"],
                        config["created"], config.get("options", {}),
                        json.loads(metrics_file.read_text()) if metrics_file.exists() else {})
    fitted: dict[str, Recommender] = {}
    for name in dict.fromkeys((artifact.recommender, artifact.gap_scorer)):
        rec = create(name, **artifact.options.get(name, {}))
        weights = path / f"weights-{name}.pt"
        if weights.exists() and hasattr(rec, "load_state"):
            rec.load_state(snap, weights.read_bytes())
        else:
            rec.fit(snap, training_studies(snap), seed=seed)
        fitted[name] = rec
    return artifact, fitted


def training_studies(snap: Snapshot):
    """What a deployed recommender learns from: every study with model and context facts."""
    import numpy as np

    return np.flatnonzero(snap.usable())
