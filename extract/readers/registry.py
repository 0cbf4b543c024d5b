"""The reader registry: one reader per input format, chosen by name (``--format``) or by file suffix.

A reader is a function ``read(path, problems) -> Iterator[Document]``. It yields what it can read and appends an
:class:`~lskg.errors.InputError` naming the file and record to ``problems`` for what it cannot, so one bad record
never hides the good ones. A file that cannot be read at all is one problem naming the file.
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


def read_documents(sources: Sequence[Path], fmt: str = "auto",
                   problems: list[InputError] | None = None) -> Iterator[Document]:
    """Every study document of every source file or folder; unreadable ones are reported in ``problems``."""
    problems = problems if problems is not None else []
    if fmt != "auto" and fmt not in READERS:
        raise InputError(f"unknown format {fmt!r}", hint="use one of " + ", ".join(formats()))
    for source in sources:
        source = Path(source)
        if not source.exists():
            problems.append(InputError("no such file or folder", source=str(source)))
            continue
        for path in iter_files(source, fmt):
            try:
                reader = reader_for(path, fmt)
                before = len(problems)
                count = 0
                for document in reader.read(path, problems):
                    count += 1
                    yield document
                log.info("%s: %d studies read as %s, %d problems", path, count, reader.name,
                         len(problems) - before)
            except InputError as exc:
                problems.append(exc)


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
