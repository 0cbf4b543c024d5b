"""Plain text and Markdown: one study per file, the first non-empty line is its title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import read_text, register
from lskg.records import Study


def study_from_text(text: str, path: Path) -> Study:
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or not lines[0]:
        raise InputError("the file is empty", source=str(path))
    title = re.sub(r"^#+\s*", "", lines[0]).strip()
    body = "\n".join(lines[1:]).strip()
    body = re.sub(r"^#+\s*", "", body, flags=re.MULTILINE)
    abstract = " ".join(body.split())
    return Study(id=path.stem, title=title, abstract=abstract, source=path.name)


@register("text", suffixes=(".txt", ".md", ".markdown"))
def read_plain(path: Path, problems: list[InputError]) -> Iterator[Document]:
    yield Document.of_record(study_from_text(read_text(path), path))
