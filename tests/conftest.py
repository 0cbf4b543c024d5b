"""Global fixtures: settings in a temporary folder, the tiny corpus, built stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from lskg.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHARED = REPO.parent / "shared"
SEED_DIR = SHARED / "seeds"


@pytest.fixture
def tiny_corpus() -> Path:
    return DATA / "tiny_corpus.jsonl"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "store"))


@pytest.fixture
def tiny_store(settings: Settings, tiny_corpus: Path):
    """An on-disk store built from the tiny corpus, opened read-only."""
    from lskg.build import build
    from lskg.kg import open_store

    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        yield store


@pytest.fixture
def seed_text() -> Path:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip("the seed review text (../shared/seeds/) is not available")
    return files[0]
