"""Fixtures of the extraction tests: the fixture folder, one shared pipeline (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "extract"
GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def index():
    from lskg.ontology import concept_index

    return concept_index()


@pytest.fixture(scope="session")
def extractor(index):
    from lskg.extract.pipeline import Extractor

    return Extractor(index)


@pytest.fixture(scope="session")
def read(extractor):
    """read(text) -> {(facet, prefLabel or candidate name): role} of one study text."""
    from lskg.extract.document import Document
    from lskg.records import Study

    def run(text: str, title: str = "") -> dict[tuple[str, str], str]:
        study = Study(id="t", title=title, abstract=text, source="test")
        (facts,) = extractor.run([Document.of_record(study)])
        return {(f.facet, f.label): f.role for f in facts.facts}

    return run
