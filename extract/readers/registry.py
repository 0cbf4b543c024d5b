"""The reader registry: one reader per input format, chosen by name (``--format``) or by file suffix.

A reader is a function ``read(path, problems) -> Iterator[Document]``. It yields what it can read and appends an
:class:`~lskg.errors.InputError` naming the file and record to ``problems`` for what it cannot, so one bad record
never hides the good ones. A file that cannot be read at all is one problem naming the file.

:class:`ReadLimits` bound what one file and one record may cost: a file over ``max_file_bytes`` is not read, and
a record whose text is over ``max_record_chars`` (the NLP pipeline's own limit) is skipped; both are reported as
problems naming the file and the record (its line, for line-per-record formats), and everything else is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lskg.errors import InputError
from lskg.extract.document import Document

log = logging.getLogger(__name__)

ReadFunction = Callable[[Path, list[InputError]], Iterator[Document]]

LINE_RECORD_FORMATS = frozenset({"jsonl"})
"""Formats with exactly one record per non-blank line: a skipped record is named by its line."""


@dataclass(frozen=True)
class ReadLimits:
    """What one input may cost. The defaults admit any real corpus and keep a runaway file from exhausting memory
    or reaching the pipeline as one giant text."""

    max_file_bytes: int = 256 * 2**20
    """A corpus file larger than this is refused (reported, not read)."""
    max_record_chars: int = 1_000_000
    """A record (a passage of text about one study) longer than this is skipped: spaCy's ``max_length``."""


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    read: ReadFunction
    sniff: Callable[[Path], bool] | None = None
    """Optional content test, consulted for ``auto`` before the suffix (a .txt file that is a review)."""


READERS: dict[str, Reader] = {}


def register(name: str, suffixes: Sequence[str] = (), sniff: Callable[[Path], bool] | None = None
             ) -> Callable[[ReadFunction], ReadFunction]:
    """Register ``read`` as the reader for format ``name`` and the given file suffixes."""

    def wrap(read: ReadFunction) -> ReadFunction:
        READERS[name] = Reader(name, tuple(s.lower() for s in suffixes), read, sniff)
        return read

    return wrap


def formats() -> list[str]:
    return ["auto", *READERS]


def reader_for(path: Path, fmt: str = "auto") -> Reader:
    """The reader for ``path``: the named one, else a content sniffer, else by suffix."""
    if fmt != "auto":
        if fmt not in READERS:
            raise InputError(f"unknown format {fmt!r}", source=str(path),
                             hint="use one of " + ", ".join(formats()))
        return READERS[fmt]
    suffix = "".join(path.suffixes[-1:]).lower()
    for reader in READERS.values():
        if suffix in reader.suffixes and reader.sniff is not None and reader.sniff(path):
            return reader
    for reader in READERS.values():
        if suffix in reader.suffixes and reader.sniff is None:
            return reader
    raise InputError(f"cannot tell the format of {path.name!r} from its suffix", source=str(path),
                     hint="pass --format (" + "|".join(formats()) + ")")


def iter_files(source: Path, fmt: str = "auto") -> Iterator[Path]:
    """The file itself, or every readable file under a folder (sorted; hidden files skipped)."""
    if source.is_dir():
        known = {s for r in READERS.values() for s in r.suffixes} if fmt == "auto" else set(READERS[fmt].suffixes)
        for path in sorted(source.rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.relative_to(source).parts) \
                    and path.suffix.lower() in known:
                yield path
    else:
        yield source


def read_documents(sources: Sequence[Path], fmt: str = "auto", problems: list[InputError] | None = None,
                   limits: ReadLimits | None = None) -> Iterator[Document]:
    """Every study document of every source file or folder; unreadable ones are reported in ``problems``, and so
    are a missing source, an empty folder, a file with no study, and inputs over ``limits``."""
    problems = problems if problems is not None else []
    limits = limits or ReadLimits()
    if fmt != "auto" and fmt not in READERS:
        raise InputError(f"unknown format {fmt!r}", hint="use one of " + ", ".join(formats()))
    for source in sources:
        source = Path(source)
        if not source.exists():
            problems.append(InputError("no such file or folder", source=str(source)))
            continue
        files = 0
        for path in iter_files(source, fmt):
            files += 1
            try:
                yield from _read_file(path, fmt, problems, limits)
            except InputError as exc:
                problems.append(exc)
        if not files:
            suffixes = sorted({s for r in READERS.values() for s in r.suffixes if fmt in ("auto", r.name)})
            problems.append(InputError("the folder holds no corpus file", source=str(source),
                                       hint="corpus files end in " + ", ".join(suffixes)))


def _read_file(path: Path, fmt: str, problems: list[InputError], limits: ReadLimits) -> Iterator[Document]:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError(f"the file is {size / 2**20:.1f} MiB, over the limit of "
                         f"{limits.max_file_bytes / 2**20:.0f} MiB; it was not read", source=str(path),
                         hint="split it into smaller files")
    reader = reader_for(path, fmt)
    before = len(problems)
    count = 0
    oversized: list[InputError] = []
    for document in reader.read(path, problems):
        longest = max((len(p.text) for p in document.passages), default=0)
        if longest > limits.max_record_chars:
            rejected = [p for p in problems[before:] if all(p is not o for o in oversized)]
            oversized.append(InputError(
                f"the record's text is {longest:,} characters, over the limit of {limits.max_record_chars:,}; "
                "the record was skipped", source=str(path),
                record=_locate(path, reader, count + len(oversized) + 1, rejected, document),
                hint="shorten its text (an abstract, not the whole paper) or split it into several records"))
            problems.append(oversized[-1])
            continue
        count += 1
        yield document
    if not count and len(problems) == before:
        problems.append(InputError(f"no study could be read from the file (read as {reader.name})",
                                   source=str(path), hint="is it empty, or in another format? see --format"))
    log.info("%s: %d studies read as %s, %d problems", path, count, reader.name, len(problems) - before)


def _locate(path: Path, reader: Reader, ordinal: int, rejected: list[InputError], document: Document) -> str:
    """Where the ``ordinal``-th record the reader yielded lies in the file: its line for line-per-record formats
    (the ordinal-th non-blank line the reader did not reject), else the study's id."""
    if reader.name in LINE_RECORD_FORMATS:
        bad_lines = {p.record for p in rejected}
        seen = 0
        for n, line in enumerate(read_text(path).splitlines(), 1):
            if line.strip() and f"line {n}" not in bad_lines:
                seen += 1
                if seen == ordinal:
                    return f"line {n}"
    return document.study.id


def read_text(path: Path) -> str:
    """The file's text as UTF-8 (a BOM is dropped); a clear InputError when it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded",
                         source=str(path), record=f"line {line}",
                         hint="re-export the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)") from None


def clean_field(value: object) -> str:
    """A text field with runs of whitespace collapsed."""
    return " ".join(str(value).split()) if value is not None else ""


def parse_year(value: object) -> int | None:
    import re

    match = re.search(r"\b(1[89]\d\d|20\d\d)\b", str(value or ""))
    return int(match.group(1)) if match else None
