"""SPARQL text before evaluation: a linear pre-check, the guard parse, and a light tokenizer.

* ``precheck``: size and nesting depth in one linear pass (strings, IRIs and comments skipped; ``\\u`` escapes
  decoded first, as the parsers do), so that no parser ever sees a request built to exhaust its stack or time.
* ``guard``: what a request *is*, decided on a real SPARQL parse (rdflib's grammar): the form, whether it names
  its own dataset (FROM) or has USING/WITH, and whether it must be refused: ``SERVICE`` (pyoxigraph performs a
  live HTTP request for it) or ``LOAD`` anywhere in the parse tree. The API runs it only inside its worker
  processes (see ``lskg.api.worker``), never in the server process.
* ``inspect_sparql``: a tokenizer over trusted text (the named queries, the store's own requests): comments, IRIs,
  strings, variables and prefixed names skipped, the remaining words are keywords. It is not a security check.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

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


# ---- the linear pre-check -----------------------------------------------------------------------------------

_SCAN = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]?|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\[\s\S]?|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\n\r]|\\[^\n\r]?)*"?'
    r"|'(?:[^'\\\n\r]|\\[^\n\r]?)*'?"
    r"|#[^\n\r]*"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|(?P<open>[({\[])|(?P<close>[)}\]])"
)
"""Strings (an unterminated one runs to its line's end, or the text's end), comments, IRIs, brackets. Every
alternative either matches without backtracking or fails at its first excluded character: one linear pass."""


def nesting_depth(text: str, stop: int | None = None) -> int:
    """The deepest nesting of ( { [ outside strings, IRIs and comments, in one linear pass; returns as soon as it
    passes ``stop``."""
    depth = deepest = 0
    for m in _SCAN.finditer(text):
        if m.lastgroup == "open":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop is not None and deepest > stop:
                    return deepest
        elif m.lastgroup == "close" and depth:
            depth -= 1
    return deepest


def precheck(text: str, *, max_bytes: int, max_depth: int) -> str | None:
    """Why ``text`` must not be parsed (over the size or nesting limit), or None. Linear in the text's length."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return f"the request is {size} bytes long, more than this endpoint's limit of {max_bytes} bytes"
    decoded = _decode_codepoints(text) if "\\u" in text or "\\U" in text else text
    if nesting_depth(decoded, stop=max_depth) > max_depth:
        return f"the request nests brackets more than {max_depth} levels deep, this endpoint's limit"
    return None


# ---- the guard: decided on a real parse ---------------------------------------------------------------------

@dataclass(frozen=True)
class Parsed:
    form: str
    """SELECT, ASK, CONSTRUCT, DESCRIBE for a query; UPDATE for an update request."""
    has_dataset: bool
    """The query has FROM / FROM NAMED."""
    has_using: bool
    """The update has USING / USING NAMED / WITH."""
    refused: str | None
    """Why the request must not be evaluated (SERVICE or LOAD somewhere in it), or None."""


class GuardSyntaxError(ValueError):
    """The guard parser cannot read the text (the message is its own)."""

    def __init__(self, message: str, *, is_update: bool = False) -> None:
        super().__init__(message)
        self.is_update = is_update
        """A query that failed to parse reads as an update request (sent to the wrong operation)."""


_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
_REFUSED_NODES = {"ServiceGraphPattern": "SERVICE", "Load": "LOAD"}


def _walk(tree: Any) -> tuple[set[str], set[str]]:
    """Names of every parse-tree node and every key they carry (iterative: no recursion on deep trees)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    names: set[str] = set()
    keys: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            names.add(node.name)
            keys.update(node.keys())
            stack.extend(node.values())
        elif isinstance(node, ParseResults | list | tuple):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return names, keys


def guard(text: str, *, update: bool) -> Parsed:
    """Parse ``text`` as a query (or an update) with rdflib's SPARQL grammar and walk the whole parse tree.
    Raises GuardSyntaxError when the grammar rejects it. Call only after ``precheck``."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = parseUpdate(text) if update else parseQuery(text)
    except (ParseException, ValueError, TypeError, RecursionError) as exc:
        is_update = False
        if not update:
            try:
                parseUpdate(text)
                is_update = True
            except (ParseException, ValueError, TypeError, RecursionError):
                pass
        raise GuardSyntaxError(str(exc), is_update=is_update) from None
    names, keys = _walk(tree)
    refused = next((REFUSED[word] for node, word in _REFUSED_NODES.items() if node in names), None)
    form = "UPDATE" if update else next((f for n, f in _FORMS.items() if n in names), "SELECT")
    return Parsed(form=form, has_dataset="DatasetClause" in names,
                  has_using="UsingClause" in names or "withClause" in keys, refused=refused)
