"""CSV and tab-separated exports from Scopus and Web of Science, by their real column names.

Scopus (CSV): ``Authors``, ``Title``, ``Year``, ``Source title``, ``DOI``, ``Abstract``, ``EID``...
Web of Science (tab-delimited or CSV "Plain/Other file format"): two-letter tags ``AU``, ``TI``, ``PY``, ``SO``,
``DI``, ``AB``, ``UT``. Rows without a title are reported by row number and skipped; a file that is not UTF-8 is
one problem naming the file and line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, parse_year, read_text, register
from lskg.records import Study

# our field -> column names, in order of preference (Scopus first, then Web of Science tags)
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("EID", "UT", "Unique-ID", "Accession Number"),
    "title": ("Title", "Article Title", "Document Title", "TI"),
    "authors": ("Authors", "Author full names", "AU", "AF"),
    "year": ("Year", "Publication Year", "PY"),
    "venue": ("Source title", "Source Title", "SO"),
    "doi": ("DOI", "DI"),
    "abstract": ("Abstract", "AB"),
}
NO_ABSTRACT = re.compile(r"^\[?no abstract available\]?$", re.IGNORECASE)

csv.field_size_limit(10_000_000)


def _pick(row: dict[str, str], field: str) -> str:
    for column in COLUMNS[field]:
        value = row.get(column)
        if value and value.strip():
            return value.strip()
    return ""


def _authors(value: str) -> tuple[str, ...]:
    if ";" in value:
        return tuple(a.strip() for a in value.split(";") if a.strip())
    # older Scopus: "Smith J., Doe A." or "Smith, J., Doe, A."
    parts = re.split(r"(?<=\.),\s+", value)
    return tuple(p.strip() for p in parts if p.strip())


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row of a Scopus or Web of Science export."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    if reader.fieldnames is None:
        return
    reader.fieldnames = [name.strip().lstrip("\ufeff") for name in reader.fieldnames]
    for row in reader:
        yield reader.line_num, {k: v for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}


def looks_like_wos(path: Path) -> bool:
    """A Web of Science tab-delimited export ("savedrecs.txt"): a tab-separated header with its field tags."""
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8-sig", errors="ignore").split("\t")
    except OSError:
        return False
    return "TI" in [h.strip() for h in header] and len(header) > 5


@register("csv", suffixes=(".csv", ".tsv"))
def read_csv(path: Path, problems: list[InputError]) -> Iterator[Document]:
    text = read_text(path)
    header = text.split("\n", 1)[0]
    if not any(col in re.split(r"[\t,]", header.replace('"', "")) for col in COLUMNS["title"]):
        raise InputError("no title column found (expected Scopus 'Title' or Web of Science 'TI')",
                         source=str(path), record="line 1", hint="export with the default column names")
    try:
        for line, row in rows(text):
            title = clean_field(_pick(row, "title"))
            if not title:
                problems.append(InputError("row has no title", source=str(path), record=f"line {line}"))
                continue
            abstract = clean_field(_pick(row, "abstract"))
            abstract = "" if NO_ABSTRACT.match(abstract) else re.sub(r"\s*©.*$", "", abstract)
            ident = _pick(row, "id") or _pick(row, "doi") or f"{path.stem}-{line}"
            yield Document.of_record(Study(
                id=ident, title=title, year=parse_year(_pick(row, "year")),
                authors=_authors(_pick(row, "authors")), doi=_pick(row, "doi") or None,
                venue=_pick(row, "venue") or None, abstract=abstract, source=f"{path.name}#{ident}"))
    except csv.Error as exc:
        problems.append(InputError(f"malformed CSV: {exc}", source=str(path)))


register("wos", suffixes=(".txt",), sniff=looks_like_wos)(read_csv)
