"""SPARQL 1.1 Protocol pieces: the protocol's USING parameters and content negotiation.

The request guard (SERVICE and LOAD refused, decided on a full parse) runs in the worker processes: see
``lskg.api.worker`` and ``lskg.kg.sparql_text.guard``.

``negotiate`` picks the response format from the Accept header (q-values and wildcards honoured), by query
form, with the ``format``/``output`` aliases that SPARQLWrapper and browsers send.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lskg.kg.rdf import iri
from lskg.kg.sparql_text import TOKENS


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """The protocol's ``using-graph-uri`` / ``using-named-graph-uri``: a USING / USING NAMED clause before the
    WHERE of every operation (the caller has checked that the request has no USING/WITH of its own). The IRIs
    are validated and written by pyoxigraph, so a value cannot change the request's structure; the result is
    guarded again before it runs. Runs in a worker."""
    clause = "".join(f" USING {iri(g)}" for g in using) + "".join(f" USING NAMED {iri(g)}" for g in using_named) + " "
    depth, cuts = 0, []
    for m in TOKENS.finditer(update):
        if m.lastgroup == "brace":
            depth += 1 if m.group() == "{" else -1
        elif m.lastgroup == "word" and depth == 0 and m.group().upper() == "WHERE":
            cuts.append(m.start())
    for cut in reversed(cuts):
        update = update[:cut] + clause + update[cut:]
    return update


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
