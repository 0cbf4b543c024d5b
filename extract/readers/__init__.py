"""Readers, one per input format, registered by name; see :mod:`.registry`.

Importing this package registers them all: jsonl, csv (Scopus, Web of Science), bibtex, ris, text (plain text
and Markdown), pdf, review (author-year cited studies of a review), openalex (saved OpenAlex responses).
"""

from lskg.extract.readers import bibtex, csv, jsonl, openalex, pdf, review, ris, text  # noqa: F401 - registers
from lskg.extract.readers.registry import READERS, Reader, formats, read_documents, reader_for, register

__all__ = ["READERS", "Reader", "formats", "read_documents", "reader_for", "register"]
