"""Extraction: corpus files -> Study records -> facts with provenance (``lskg.extract``).

    from lskg.extract import extract_corpus
    problems = []
    for facts in extract_corpus([Path("zotero.bib"), Path("review.txt")], problems=problems):
        print(facts.study.id, [f.label for f in facts.facts])

Readers (``lskg.extract.readers``, one per format, registered by name) yield Documents: a Study plus the
passages of source text that describe it. The spaCy pipeline (``lskg.extract.pipeline``, components registered as
``lskg.*.v1``) reads the passages and the Extractor turns mentions into Facts with Evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from lskg.errors import InputError
from lskg.records import Study, StudyFacts


def read_corpus(sources: Sequence[Path], fmt: str = "auto",
                problems: list[InputError] | None = None) -> Iterator[Study]:
    """Every study record of the sources (no extraction)."""
    from lskg.extract.readers import read_documents

    for document in read_documents([Path(s) for s in sources], fmt, problems):
        yield document.study


def extract_corpus(sources: Sequence[Path], fmt: str = "auto", problems: list[InputError] | None = None,
                   *, n_process: int = 1, decide: bool = False) -> Iterator[StudyFacts]:
    """One StudyFacts per study of every source file or folder. Unreadable files and records are appended to
    ``problems`` (naming the file and record) and skipped; general method references found in a review come out
    with ``kind="method_reference"`` and no facts. ``decide``: the learned decision stage
    (:mod:`lskg.extract.decision`) decides which candidates are facts. The CLI and builds follow ``Settings.decide``
    (on by default); here it stays explicit, and the default gives the rules alone."""
    from lskg.extract.pipeline import Extractor
    from lskg.extract.readers import read_documents

    extractor = Extractor(n_process=n_process, decide=decide)
    yield from extractor.run(read_documents([Path(s) for s in sources], fmt, problems))


def extract(source: Path | str, fmt: str = "auto", problems: list[InputError] | None = None) -> Iterator[StudyFacts]:
    """``extract_corpus`` for one file or folder."""
    return extract_corpus([Path(source)], fmt, problems)


__all__ = ["extract", "extract_corpus", "read_corpus"]
