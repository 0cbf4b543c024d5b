"""SPARQL 1.1 Protocol pieces that run before evaluation: the request guard and content negotiation.

``inspect_sparql`` is a light tokenizer (comments, IRIs, strings, variables and prefixed names are skipped; the
remaining words are keywords). It tells the query form, whether the text names its own dataset (FROM), and
refuses what must never reach pyoxigraph: ``SERVICE`` (pyoxigraph performs a live HTTP request for it, loopback
included) and ``LOAD``. It costs microseconds and is cached; an rdflib parse would cost more than most queries.

``negotiate`` picks the response format from the Accept header (q-values and wildcards honoured), by query
form, with the ``format``/``output`` aliases that SPARQLWrapper and browsers send.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pyoxigraph import NamedNode

from lskg.errors import QueryError

_TRIPLE_DQ = '"""(?:[^"\\\\]|\\\\.|"(?!""))*"""'
_TRIPLE_SQ = "'''(?:[^'\\\\]|\\\\.|'(?!''))*'''"
_NAME = "A-Za-z0-9_\\u00B7\\u00C0-\\uFFFF"
_TOKENS = re.compile(
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
    return [m.group("word").upper() for m in _TOKENS.finditer(text) if m.lastgroup == "word"]


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


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """The protocol's ``using-graph-uri`` / ``using-named-graph-uri``: a USING / USING NAMED clause before the
    WHERE of every operation (the caller has checked that the request has no USING/WITH of its own). The IRIs
    are validated and written by pyoxigraph, so a value cannot change the request's structure."""
    try:
        clause = "".join(f" USING {NamedNode(g)}" for g in using) + "".join(
            f" USING NAMED {NamedNode(g)}" for g in using_named) + " "
    except ValueError as exc:
        raise QueryError(f"invalid graph IRI: {exc}") from exc
    depth, cuts = 0, []
    for m in _TOKENS.finditer(update):
        if m.lastgroup == "brace":
            depth += 1 if m.group() == "{" else -1
        elif m.lastgroup == "word" and depth == 0 and m.group().upper() == "WHERE":
            cuts.append(m.start())
    for cut in reversed(cuts):
        update = update[:cut] + clause + update[cut:]
    return update


def check_refused(text: str) -> Inspection:
    inspection = inspect_sparql(text)
    if inspection.refused:
        raise QueryError(inspection.refused, hint="query the data of this graph only")
    return inspection


# ---- content negotiation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Format:
    name: str
    """The pyoxigraph format name: JSON, XML, CSV, TSV (results) or TURTLE, N_TRIPLES, RDF_XML, JSON_LD (graphs)."""
    media_type: str
    """What the response's Content-Type says."""


RESULT_FORMATS = {  # media type -> format; the first is the default
    "application/sparql-results+json": Format("JSON", "application/sparql-results+json"),
    "application/sparql-results+xml": Format("XML", "application/sparql-results+xml"),
    "text/csv": Format("CSV", "text/csv; charset=utf-8"),
    "text/tab-separated-values": Format("TSV", "text/tab-separated-values; charset=utf-8"),
    "application/json": Format("JSON", "application/sparql-results+json"),
    "application/xml": Format("XML", "application/sparql-results+xml"),
    "text/xml": Format("XML", "application/sparql-results+xml"),
}
GRAPH_FORMATS = {
    "text/turtle": Format("TURTLE", "text/turtle; charset=utf-8"),
    "application/n-triples": Format("N_TRIPLES", "application/n-triples"),
    "application/rdf+xml": Format("RDF_XML", "application/rdf+xml"),
    "application/ld+json": Format("JSON_LD", "application/ld+json"),
    "application/x-turtle": Format("TURTLE", "text/turtle; charset=utf-8"),
    "application/turtle": Format("TURTLE", "text/turtle; charset=utf-8"),
    "text/plain": Format("N_TRIPLES", "application/n-triples"),
    "application/x-json+ld": Format("JSON_LD", "application/ld+json"),
}
ALIASES = {  # format= / output= values (SPARQLWrapper, Virtuoso-style links)
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None), "tsv": ("text/tab-separated-values", None),
    "turtle": (None, "text/turtle"), "ttl": (None, "text/turtle"), "n3": (None, "text/turtle"),
    "nt": (None, "application/n-triples"), "ntriples": (None, "application/n-triples"),
    "n-triples": (None, "application/n-triples"),
    "rdf+xml": (None, "application/rdf+xml"), "rdfxml": (None, "application/rdf+xml"),
    "json-ld": (None, "application/ld+json"), "jsonld": (None, "application/ld+json"),
}


@functools.lru_cache(maxsize=512)
def _parse_accept(header: str) -> tuple[tuple[str, float, int], ...]:
    """(media range, q, order) for each entry, most preferred first."""
    entries = []
    for order, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            key, _, value = f.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        entries.append((media, q, order))
    return tuple(sorted(entries, key=lambda e: (-e[1], e[0].count("*"), e[2])))


def _pick(accept: str | None, table: dict[str, Format]) -> Format | None:
    default = next(iter(table.values()))
    if not accept:
        return default
    for media, q, _ in _parse_accept(accept):
        if q <= 0:
            continue
        if media in ("*/*", "*"):
            return default
        if media.endswith("/*"):
            prefix = media[:-1]
            match = next((f for m, f in table.items() if m.startswith(prefix)), None)
            if match:
                return match
            continue
        if media in table:
            return table[media]
    return None


@dataclass(frozen=True)
class Negotiated:
    results: Format | None
    """Format for SELECT/ASK, or None if the client accepts none of ours."""
    graph: Format | None
    """Format for CONSTRUCT/DESCRIBE, or None."""


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, alias: str | None = None) -> Negotiated:
    """Both candidate formats (the query form is known only after parsing); ``alias`` is format=/output=."""
    results = _pick(accept, RESULT_FORMATS)
    graph = _pick(accept, GRAPH_FORMATS)
    if alias and alias.lower() in ALIASES:
        r, g = ALIASES[alias.lower()]
        results = RESULT_FORMATS[r] if r else results
        graph = GRAPH_FORMATS[g] if g else graph
    return Negotiated(results, graph)


def accepted_media(form: str | None) -> str:
    """For a 406 message: what we can send for this query form."""
    table = GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS
    return ", ".join(dict.fromkeys(f.media_type.split(";")[0] for f in table.values()))
