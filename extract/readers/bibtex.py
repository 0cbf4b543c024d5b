"""BibTeX exports (Zotero, Mendeley, JabRef, Google Scholar), parsed with bibtexparser 2.

Blocks bibtexparser cannot parse (a truncated entry, a missing brace) are reported with their citation key and
line; the entries around them are still read.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, ParsingFailedBlock

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, parse_year, read_text, register
from lskg.records import Study

ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "c": "\u0327",
           "v": "\u030c", "=": "\u0304", "u": "\u0306", "H": "\u030b", ".": "\u0307"}
ACCENT = re.compile(r"\\([\'`^\"~=.]|[cvuH](?=[{\s]))\s*\{?\\?([A-Za-z])\}?")
COMMAND = re.compile(r"\\(?:textit|textbf|emph|textrm|mathrm|texttt|text)\s*")
KEY = re.compile(r"@\w+\s*[{(]\s*([^,\s]+)")


def latex_to_text(value: str) -> str:
    """Field text without LaTeX accents, commands and protective braces: ``{U-Net} f{\\"u}r`` -> ``U-Net für``."""
    value = ACCENT.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + ACCENTS[m.group(1)]), value)
    value = COMMAND.sub("", value)
    value = value.replace("\\&", "&").replace("\\%", "%").replace("\\_", "_").replace("--", "\u2013")
    value = value.replace("{", "").replace("}", "").replace("~", " ")
    return clean_field(value)


def study_from_fields(key: str, fields: dict[str, str], source: str) -> Study:
    authors = tuple(latex_to_text(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip())
    return Study(id=key, title=latex_to_text(fields.get("title", "")),
                 year=parse_year(fields.get("year") or fields.get("date")), authors=authors,
                 doi=clean_field(fields.get("doi", "")) or None,
                 venue=latex_to_text(fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle") or "") or None,
                 abstract=latex_to_text(fields.get("abstract", "")), source=f"{source}#{key}")


@register("bibtex", suffixes=(".bib", ".bibtex"))
def read_bibtex(path: Path, problems: list[InputError]) -> Iterator[Document]:
    text = read_text(path)
    quiet = logging.getLogger("bibtexparser")
    level, quiet.level = quiet.level, logging.CRITICAL  # its failures are reported as problems below
    try:
        library = bibtexparser.parse_string(text)
    finally:
        quiet.setLevel(level)
    for block in library.failed_blocks:
        # (bibtexparser types raw and start_line as optional for blocks built by hand; parsed blocks have both)
        key = KEY.match((block.raw or "").lstrip())
        line = (block.start_line or 0) + 1
        record = f"{key.group(1)} (line {line})" if key else f"line {line}"
        if isinstance(block, DuplicateBlockKeyBlock):
            problems.append(InputError("duplicate citation key; the later entry was skipped",
                                       source=str(path), record=record))
        elif isinstance(block, ParsingFailedBlock):
            error = getattr(block, "error", None)
            detail = (getattr(error, "abort_reason", None) or str(error or "") or "syntax error").strip()
            problems.append(InputError(f"entry could not be parsed ({detail})", source=str(path), record=record,
                                       hint="check the braces and commas of this entry"))
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        if not fields.get("title", "").strip():
            problems.append(InputError("entry has no title", source=str(path),
                                       record=f"{entry.key} (line {(entry.start_line or 0) + 1})"))
            continue
        yield Document.of_record(study_from_fields(entry.key, fields, path.name))
