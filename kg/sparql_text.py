"""A light SPARQL tokenizer: what a request is, before any parser sees it.

``inspect_sparql`` skips comments, IRIs, strings, variables and prefixed names; the remaining words are keywords.
It tells the query form, whether the text names its own dataset (FROM, which a union default graph must not
override), whether an update has USING/WITH, and what must never reach pyoxigraph: ``SERVICE`` (pyoxigraph
performs a live HTTP request for it, loopback included) and ``LOAD``. It costs microseconds and is cached; an
rdflib parse would cost more than most queries.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_TRIPLE_DQ = '"""(?:[^"\\\\]|\\\\.|"(?!""))*"""'
_TRIPLE_SQ = "'''(?:[^'\\\\]|\\\\.|'(?!''))*'''"
_NAME = "A-Za-z0-9_\\u00B7\\u00C0-\\uFFFF"
TOKENS = re.compile(
    r"(?P<comment>#[^\n\r]*)"
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    rf"|(?P<string>{_TRIPLE_DQ}|{_TRIPLE_SQ}"
    r"""|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')"""
    rf"|(?P<var>[?$][{_NAME}]*)"
    rf"|(?P<pname>[{_NAME}\-.]*:(?:[{_NAME}\-.:%]|\\.)*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<brace>[{}])",
    re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
REFUSED = {
    "SERVICE": "SERVICE (federated queries) is disabled on this endpoint: the server does not call other services",
    "LOAD": "LOAD is disabled on this endpoint: the server does not fetch documents from the network",
}


@dataclass(frozen=True)
class Inspection:
    form: str | None
    """SELECT, ASK, CONSTRUCT, DESCRIBE for a query; UPDATE for an update request; None if not recognised."""
    has_dataset: bool
    """The text has FROM / FROM NAMED (then the union default graph must not replace it)."""
    has_using: bool
    """An update with USING / USING NAMED / WITH (conflicts with the protocol's using-graph-uri)."""
    refused: str | None
    """Why the request must not be evaluated, or None."""


def _words(text: str) -> list[str]:
    return [m.group("word").upper() for m in TOKENS.finditer(text) if m.lastgroup == "word"]


def _decode_codepoints(text: str) -> str:
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16))
                          if int(m.group(1) or m.group(2), 16) < 0x110000 else m.group(0), text)


@functools.lru_cache(maxsize=2048)
def inspect_sparql(text: str) -> Inspection:
    """What kind of request ``text`` is, and whether it must be refused (see the module docstring).

    SPARQL allows ``\\uXXXX`` escapes anywhere in a request; when the text has any, both the raw and the decoded
    reading are checked, so an escape cannot hide a keyword from the guard.
    """
    readings = [_words(text)]
    decoded = _decode_codepoints(text) if "\\u" in text or "\\U" in text else text
    if decoded != text:
        readings.append(_words(decoded))
    refused = next((REFUSED[w] for words in readings for w in words if w in REFUSED), None)
    words = readings[0]
    form = next((w for w in words if w in QUERY_FORMS or w in UPDATE_WORDS), None)
    if form in UPDATE_WORDS:
        form = "UPDATE"
    return Inspection(form=form, has_dataset="FROM" in words, has_using="USING" in words or "WITH" in words,
                      refused=refused)
