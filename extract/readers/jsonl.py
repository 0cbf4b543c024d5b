"""JSONL: lskg's own record format, one study per line.

Fields: ``id``, ``title``, ``authors``, ``year``, ``doi``, ``venue``, and ``abstract`` or ``text``; optionally ``url``
(where the text was read), ``text_kind`` (``abstract``, ``paraphrase`` or ``review_summary``) and
``same_study_as`` (the id of another record describing the same study, merged with it at build). A line that is
not JSON or lacks both a title and a text is reported with its line number and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard, get_args

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, parse_year, read_text, register
from lskg.records import Study, TextKind


def _is_text_kind(kind: object) -> TypeGuard[TextKind]:
    return kind in get_args(TextKind)


def study_from_record(rec: dict, source: str, fallback_id: str) -> Study:
    """A Study from a JSON object in lskg's record format (raises KeyError/TypeError when unusable)."""
    if not isinstance(rec, dict):
        raise TypeError(f"expected a JSON object, got {type(rec).__name__}")
    title = clean_field(rec.get("title"))
    abstract = str(rec.get("abstract") or rec.get("text") or "").strip()
    if not title and not abstract:
        raise KeyError("the record has neither a title nor an abstract/text")
    if not rec.get("abstract") and title and abstract.startswith(title):
        abstract = abstract[len(title):].lstrip(" .:")  # a "text" that repeats the title
    if not title:
        title = abstract.split(". ", 1)[0][:200]
    authors = rec.get("authors") or ()
    if isinstance(authors, str):
        authors = [a.strip() for a in authors.split(";") if a.strip()]
    ident = str(rec.get("id") or fallback_id)
    kind = rec.get("text_kind") or "abstract"
    if not _is_text_kind(kind):
        raise ValueError(f"text_kind {kind!r} is not one of {', '.join(get_args(TextKind))}")
    same = rec.get("same_study_as") or ()
    return Study(id=ident, title=title, year=parse_year(rec.get("year")), authors=tuple(map(str, authors)),
                 doi=rec.get("doi") or None, venue=rec.get("venue") or None, abstract=abstract,
                 source=f"{source}#{ident}", url=rec.get("url") or None, text_kinds=(kind,),
                 same_as=(same,) if isinstance(same, str) else tuple(map(str, same)))


@register("jsonl", suffixes=(".jsonl", ".ndjson"))
def read_jsonl(path: Path, problems: list[InputError]) -> Iterator[Document]:
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            yield Document.of_record(study_from_record(rec, path.name, f"{path.stem}-{n}"))
        except json.JSONDecodeError as exc:
            problems.append(InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", source=str(path),
                                       record=f"line {n}", hint="each line must be one JSON object"))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(InputError(str(exc).strip("'\""), source=str(path), record=f"line {n}"))
