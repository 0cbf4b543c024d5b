"""RIS exports (EndNote, Zotero, Mendeley), parsed with rispy record by record.

The file is split at ``TY``/``ER`` tags first, so that a record without its ``ER`` end tag is reported (by its
title and line) instead of being silently merged into the next record or dropped; the other records still come.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import rispy

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, parse_year, read_text, register
from lskg.records import Study

TAG = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")


def split_records(text: str) -> Iterator[tuple[int, str, bool]]:
    """(first line number, record text, terminated) for every TY...ER block."""
    start: int | None = None
    block: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        match = TAG.match(line)
        tag = match.group(1) if match else None
        if tag == "TY":
            if start is not None:
                yield start, "\n".join(block), False
            start, block = n, [line]
        elif start is not None:
            block.append(line)
            if tag == "ER":
                yield start, "\n".join(block), True
                start, block = None, []
    if start is not None:
        yield start, "\n".join(block), False


def _title(rec: dict) -> str:
    return clean_field(rec.get("title") or rec.get("primary_title") or rec.get("translated_title") or "")


def study_from_ris(rec: dict, source: str, fallback_id: str) -> Study:
    title = _title(rec)
    year = parse_year(rec.get("year") or rec.get("publication_year") or rec.get("date"))
    ident = clean_field(rec.get("id") or rec.get("accession_number") or rec.get("doi") or fallback_id)
    authors = tuple(rec.get("authors") or rec.get("first_authors") or ())
    venue = rec.get("secondary_title") or rec.get("journal_name") or rec.get("alternate_title1")
    abstract = clean_field(rec.get("abstract") or rec.get("notes_abstract") or "")
    return Study(id=ident, title=title, year=year, authors=authors, doi=rec.get("doi") or None,
                 venue=clean_field(venue) or None, abstract=abstract, source=f"{source}#{ident}")


@register("ris", suffixes=(".ris",))
def read_ris(path: Path, problems: list[InputError]) -> Iterator[Document]:
    text = read_text(path)
    found = False
    for line, block, terminated in split_records(text):
        found = True
        if not terminated:
            block += "\nER  - "
        try:
            records = rispy.loads(block, skip_unknown_tags=True)
        except Exception as exc:  # rispy raises assorted errors on malformed tags
            problems.append(InputError(f"unreadable record: {exc}", source=str(path), record=f"line {line}"))
            continue
        if not records or not _title(records[0]):
            problems.append(InputError("record has no title (TI/T1)", source=str(path), record=f"line {line}"))
            continue
        rec = records[0]
        if not terminated:
            problems.append(InputError(f"record {_title(rec)[:60]!r} has no ER end tag; it was skipped",
                                       source=str(path), record=f"line {line}",
                                       hint="every RIS record must end with 'ER  - '"))
            continue
        yield Document.of_record(study_from_ris(rec, path.name, f"{path.stem}-{line}"))
    if not found:
        raise InputError("no RIS records found (no 'TY  - ' tag)", source=str(path))
