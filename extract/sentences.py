"""Sentence boundaries that survive scholarly abbreviations (``et al.``, ``e.g.``, ``Fig.``, ``i.e.``).

One function, :func:`sentence_spans`, used by the review reader (to cut a review into citation contexts) and by
the ``lskg.sentences.v1`` pipeline component (to set ``Token.is_sent_start``), so both agree on what a sentence is.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset({
    "al", "e.g", "eg", "i.e", "ie", "fig", "figs", "eq", "eqs", "etc", "vs", "cf", "approx", "no", "nos", "ref",
    "refs", "sect", "sec", "tab", "vol", "pp", "ca", "resp", "viz", "dr", "prof", "mr", "ms", "st", "mt", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "incl",
})
# a candidate boundary: ., ! or ? (optionally closed by quotes/brackets), then space, then a likely sentence start
BOUNDARY = re.compile(r"([.!?])([\"'\u201d\u2019)\]]*)(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u0391-\u03a9])")
WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``; line breaks that end a paragraph (a blank
    line, or a line not continuing a sentence) also end a sentence."""
    spans: list[tuple[int, int]] = []
    for block in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        start = block.start()
        for match in BOUNDARY.finditer(text, block.start(), block.end()):
            if match.group(1) == ".":
                before = WORD_BEFORE.search(text, max(block.start(), match.start() - 12), match.start())
                word = before.group(1).lower() if before else ""
                if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                    continue  # "et al.", "Fig.", an initial "J."
            end = match.end(2)
            if text[start:end].strip():
                spans.append(_strip(text, start, end))
            start = match.end()
        if text[start:block.end()].strip():
            spans.append(_strip(text, start, block.end()))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
