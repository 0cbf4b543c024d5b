"""Fixtures for the recommender tests: a small synthetic literature in an in-memory store (fast, realistic
correlations), its snapshot, and settings whose artefacts live in a temporary folder."""

from __future__ import annotations

import pytest

from lskg.gnn.snapshot import Snapshot
from lskg.gnn.synthetic import synthetic_corpus
from lskg.kg import open_store
from lskg.kg.mapping import study_quads
from lskg.ontology import ontology_quads
from lskg.settings import Settings

N_STUDIES = 240


def make_store(n: int = N_STUDIES, seed: int = 1):
    store = open_store(None)
    store.load(ontology_quads())
    store.load(q for item in synthetic_corpus(n, seed=seed) for q in study_quads(item))
    return store


@pytest.fixture(scope="session")
def synthetic_store():
    return make_store()


@pytest.fixture(scope="session")
def snap(synthetic_store) -> Snapshot:
    return Snapshot.from_store(synthetic_store)


@pytest.fixture
def gnn_settings(tmp_path) -> Settings:
    return Settings(store=str(tmp_path / "store"), artifacts=str(tmp_path / "models"))


FAST_GNN = {"epochs": 25, "hidden": 16}
