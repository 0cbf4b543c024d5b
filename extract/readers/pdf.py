"""PDF articles, read with pypdf: the title (metadata or first line), the abstract (the text after "Abstract" up
to the keywords or introduction), else the opening of the text. A PDF without a text layer (a scan) is one clear
problem naming the file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, parse_year, register
from lskg.records import Study

log = logging.getLogger(__name__)

ABSTRACT = re.compile(r"\babstract\b[\s.:\u2014-]*(.+?)(?=\b(?:key\s*words|index terms|1\.?\s+introduction|"
                      r"introduction)\b|$)", re.IGNORECASE | re.DOTALL)
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;])")
OPENING_CHARS = 2500


def pdf_text(path: Path) -> tuple[str, dict]:
    """(text of all pages, metadata) of a PDF; InputError when it cannot be opened."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = dict(reader.metadata or {})
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise InputError(f"not a readable PDF ({exc})", source=str(path)) from None
    return "\n".join(pages), meta


def study_from_pdf_text(text: str, meta: dict, path: Path) -> Study:
    lines = [clean_field(line) for line in text.splitlines() if clean_field(line)]
    title = clean_field(meta.get("/Title") or "")
    if not title or title.lower().endswith((".doc", ".docx", ".pdf", ".tex")) or title.lower() == "untitled":
        title = next((line for line in lines if len(line) > 15 and not DOI.search(line)), lines[0])
    match = ABSTRACT.search(text)
    abstract = clean_field(match.group(1)) if match and len(match.group(1).strip()) > 40 else ""
    if not abstract:
        body = clean_field(text)
        abstract = body[len(title):].strip() if body.startswith(title) else body
        abstract = abstract[:OPENING_CHARS]
    doi = DOI.search(text)
    year = parse_year(meta.get("/CreationDate", "")[2:6] if meta.get("/CreationDate") else None)
    return Study(id=path.stem, title=title, year=year, doi=doi.group(1) if doi else None, abstract=abstract,
                 source=path.name)


@register("pdf", suffixes=(".pdf",))
def read_pdf(path: Path, problems: list[InputError]) -> Iterator[Document]:
    text, meta = pdf_text(path)
    if not clean_field(text):
        raise InputError("no extractable text (scanned PDF?)", source=str(path),
                         hint="run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) or supply the abstract as text")
    yield Document.of_record(study_from_pdf_text(text, meta, path))
