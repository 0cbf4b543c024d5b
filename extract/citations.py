"""Author-year citations in review text: find them, give each cited study an id, and work out which part of a
sentence each citation speaks for (its scope).

Forms recognised (markup such as ``[Nava et al. \\(2022\\)](#)`` is removed first by :func:`clean_markup`):

* narrative: ``Nava et al. (2022)``, ``Al-Najjar and Pradhan (2021b)``, ``Wang (2023)``, ``Zhang et al. (2022a, b)``,
  ``Lo and Peters 2024`` is *not* taken (no parentheses, too ambiguous);
* parenthetical: ``(Chen et al., 2015; Zhang et al., 2022c)``, ``(Hussain et al. 2019; Shi et al. 2020)``,
  ``(e.g., Graves, 2012)``, and bare ``Ghorbanzadeh et al., 2019`` inside running text.

Scope: a narrative citation speaks for the text from itself to the next citation (or the sentence end); a
parenthetical group speaks for the text since the previous citation group (or the sentence start) up to itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SURNAME = r"(?:(?:van|von|de|der|den|da|del|di|du|la|le|el|al|dos|ten|ter)\s+)*[A-Z\u00c0-\u024f][\w'\u2019\u00c0-\u024f-]*[\w\u00c0-\u024f]"
NAME = rf"{SURNAME}(?:\s+[A-Z][a-z\u00c0-\u024f]+[\w-]*)?"
AUTHORS = rf"(?P<first>{NAME})(?P<rest>\s+et\s+al\.?|\s+(?:and|&)\s+(?P<second>{NAME}))?"
YEAR = r"(?:19|20)\d{2}[a-z]?"
YEARS = rf"{YEAR}(?:\s*,\s*(?:{YEAR}|[a-z]\b))*"
NARRATIVE = re.compile(rf"\b{AUTHORS}\s*\((?P<years>{YEARS})\)")
PAREN_ITEM = re.compile(rf"^\s*(?:(?:e\.g\.|i\.e\.|see(?: also)?|cf\.|reviewed (?:in|by))[,:]?\s+)?{AUTHORS},?\s+(?P<years>{YEARS})\s*$")
INLINE = re.compile(rf"\b{AUTHORS},\s+(?P<years>{YEARS})\b")
PARENS = re.compile(r"\(([^()]*\b(?:19|20)\d{2}[a-z]?\b[^()]*)\)")
NOT_NAMES = frozenset({"In", "From", "Since", "By", "The", "This", "These", "After", "Before", "During", "Until",
                       "Fig", "Figure", "Table", "Section", "Eq", "Equation", "And", "Of", "For", "On", "At", "To",
                       "Between", "Up", "Over", "Through", "Around", "Summer", "Winter",
                       "January", "February", "March", "April", "May", "June", "July", "August", "September",
                       "October", "November", "December", "Spring", "Autumn", "Fall", "As", "Than"})


@dataclass(frozen=True)
class Citation:
    """One cited work: ``Nava et al. (2022)``."""

    first: str
    second: str | None
    et_al: bool
    year: int
    suffix: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, str | None, bool, int, str]:
        return (fold_name(self.first), fold_name(self.second) if self.second else None, self.et_al, self.year,
                self.suffix)

    @property
    def base_id(self) -> str:
        return f"{fold_name(self.first)}{self.year}{self.suffix}"

    @property
    def label(self) -> str:
        """``Nava et al. (2022)``, ``Al-Najjar and Pradhan (2021b)``, ``Wang (2023)``."""
        who = f"{self.first} et al." if self.et_al else f"{self.first} and {self.second}" if self.second else self.first
        return f"{who} ({self.year}{self.suffix})"


@dataclass(frozen=True)
class CitationGroup:
    """Citations written together: one narrative citation or one parenthetical list."""

    citations: tuple[Citation, ...]
    start: int
    end: int
    narrative: bool


def fold_name(name: str) -> str:
    """``Al-Najjar`` -> ``alnajjar``, ``Veličković`` -> ``velickovic``, ``Zamanzadeh Darban`` -> ``zamanzadehdarban``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", text.lower())


def _years(text: str) -> list[tuple[int, str]]:
    """``2022a, b`` -> [(2022, 'a'), (2022, 'b')]; ``2019, 2020`` -> [(2019, ''), (2020, '')]."""
    out: list[tuple[int, str]] = []
    for part in re.split(r"\s*,\s*", text.strip()):
        match = re.fullmatch(r"((?:19|20)\d{2})([a-z]?)", part)
        if match:
            out.append((int(match.group(1)), match.group(2)))
        elif re.fullmatch(r"[a-z]", part) and out:
            out.append((out[-1][0], part))
    return out


def _citations(match: re.Match[str], offset: int = 0) -> list[Citation]:
    first = match.group("first")
    words = first.split()
    while words and words[0] in NOT_NAMES:  # "As Ghorbanzadeh et al., 2019": "As" is no part of the name
        words.pop(0)
    if not words:
        return []
    start, end = match.start() + offset + first.index(words[0]), match.end() + offset
    first = " ".join(words)
    second = match.group("second")
    et_al = bool(match.group("rest")) and not second
    return [Citation(first, second, et_al, year, suffix, start, end) for year, suffix in _years(match.group("years"))]


def find_citations(sentence: str) -> list[CitationGroup]:
    """The citation groups of a sentence, in order."""
    groups: list[CitationGroup] = []
    taken: list[tuple[int, int]] = []
    for paren in PARENS.finditer(sentence):
        items: list[Citation] = []
        offset = paren.start(1)
        for part in re.finditer(r"[^;]+", paren.group(1)):
            match = PAREN_ITEM.match(part.group(0))
            if match:
                items += _citations(match, offset + part.start())
        if items:
            groups.append(CitationGroup(tuple(items), paren.start(), paren.end(), narrative=False))
            taken.append((paren.start(), paren.end()))
    for match in NARRATIVE.finditer(sentence):
        if any(s <= match.start() < e for s, e in taken):
            continue
        items = _citations(match)
        if items:
            groups.append(CitationGroup(tuple(items), match.start(), match.end(), narrative=True))
            taken.append((match.start(), match.end()))
    for match in INLINE.finditer(sentence):
        if any(s <= match.start() < e or s < match.end() <= e for s, e in taken):
            continue
        if not match.group("rest"):
            continue  # "Wenchuan, 2008" is not a citation; demand "et al." or "and X"
        items = _citations(match)
        if items:
            # "Ghorbanzadeh et al., 2019 showed ..." is narrative; "... as shown before, Li et al., 2021." is not
            narrative = bool(re.match(r",?\s+[a-z]", sentence[match.end():]))
            groups.append(CitationGroup(tuple(items), match.start(), match.end(), narrative=narrative))
            taken.append((match.start(), match.end()))
    return sorted(groups, key=lambda g: g.start)


def scopes(sentence: str, groups: list[CitationGroup]) -> list[tuple[int, int]]:
    """The part of ``sentence`` each group speaks for (see the module docstring)."""
    out: list[tuple[int, int]] = []
    for i, group in enumerate(groups):
        if group.narrative:
            nxt = groups[i + 1].start if i + 1 < len(groups) else len(sentence)
            out.append((group.start, nxt))
        else:
            prev = groups[i - 1].end if i > 0 and not groups[i - 1].narrative else (
                groups[i - 1].start if i > 0 else 0)
            out.append((prev, group.end))
    return out


def clean_markup(text: str) -> tuple[str, list[int]]:
    """``text`` without Markdown link syntax and backslash escapes, and the source offset of each kept
    character: ``[Nava et al. \\(2022\\)](#)`` -> ``Nava et al. (2022)``."""
    kept: list[str] = []
    offsets: list[int] = []
    i, n = 0, len(text)
    link_end = re.compile(r"\]\([^)\s]*\)")
    while i < n:
        ch = text[i]
        if ch == "[":
            close = text.find("]", i)
            if close != -1 and link_end.match(text, close) and "\n" not in text[i:close]:
                i += 1  # drop "[" of a link; its "](target)" is dropped below
                continue
        if ch == "]":
            match = link_end.match(text, i)
            if match:
                i = match.end()
                continue
        if ch == "\\" and i + 1 < n and text[i + 1] in "()[]*_#.-`":
            i += 1
            continue
        if ch == "*" and (i + 1 < n and text[i + 1] == "*"):
            i += 2
            continue
        kept.append(ch)
        offsets.append(i)
        i += 1
    return "".join(kept), offsets
