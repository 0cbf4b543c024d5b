"""RDF at the store's edge, for code that must not touch the engine (the API): IRIs from text, graph payloads
parsed, query results written in a negotiated format within caps, and read back.

Formats are named as pyoxigraph names them: ``JSON``, ``XML``, ``CSV``, ``TSV`` for SELECT/ASK results, ``TURTLE``,
``N_TRIPLES``, ``RDF_XML``, ``JSON_LD`` for graphs. Terms are pyoxigraph terms (the ``Store``'s).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple

from lskg.errors import QueryError, ResultTooLargeError

__all__ = ["DefaultGraph", "Encoded", "FormatNotAcceptedError", "GraphName", "Literal", "NamedNode", "Quad",
           "QueryResult", "RdfFormat", "Triple", "count_rows", "decode", "encode", "graph_format", "iri", "parse_graph",
           "serialize"]

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[Triple]
GraphName = NamedNode | DefaultGraph
"""A graph of the Graph Store Protocol: a named graph, or the default graph."""


def iri(value: str) -> NamedNode:
    """An IRI from text, validated (QueryError if it is not one); its ``str`` is the ``<...>`` form, safe to write
    into a request."""
    try:
        return NamedNode(value)
    except ValueError as exc:
        raise QueryError(f"invalid IRI {value!r}: {exc}") from None


def graph_format(media_type: str) -> str | None:
    """The format name of a graph media type, or None when it is not one this store reads as one graph: a quad
    format (N-Quads, TriG) is not; JSON-LD is, as long as the document names no graph (see parse_graph)."""
    fmt = ox.RdfFormat.from_media_type(media_type) if media_type else None
    if fmt is None or fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD:
        return None
    return _RDF_NAMES.get(fmt)


def parse_graph(data: bytes, fmt: str, *, base_iri: str | None = None) -> list[Triple]:
    """Every triple of one document, read completely (QueryError, naming the format, if it is malformed or, in
    JSON-LD, names a graph of its own)."""
    rdf = getattr(ox.RdfFormat, fmt)
    try:
        quads = list(ox.parse(data, format=rdf, base_iri=base_iri))
    except SyntaxError as exc:
        raise QueryError(f"the {rdf.name} payload is malformed: {exc}") from None
    if any(not isinstance(q.graph_name, DefaultGraph) for q in quads):
        raise QueryError(f"the {rdf.name} payload names a graph of its own; send the triples of one graph")
    return [q.triple for q in quads]


def serialize(triples: Iterable[Triple], fmt: str, *, prefixes: dict[str, str] | None = None) -> bytes:
    """Triples as a document in a graph format."""
    return ox.serialize(triples, format=getattr(ox.RdfFormat, fmt), prefixes=prefixes) or b""


# ---- query results, encoded within caps ------------------------------------------------------------------------

class FormatNotAcceptedError(QueryError):
    """The client accepts no format for this kind of result (``graph``: CONSTRUCT/DESCRIBE, else SELECT/ASK)."""

    code = "LSKG-E110"
    http_status = 406

    def __init__(self, *, graph: bool) -> None:
        super().__init__("none of the accepted media types can carry this result")
        self.graph = graph


@dataclass(frozen=True)
class Encoded:
    body: bytes
    rows: int
    """Solutions (1 for ASK) or triples."""
    graph: bool
    """A graph (written in the graph format), else SELECT/ASK results."""


class _TooLarge(Exception):
    pass


class _CappedBuffer:
    """A write target that refuses to grow past ``limit`` bytes (a runaway result ends early)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def count_rows(body: bytes, fmt: str) -> int:
    """Solutions in a serialised SELECT result. Exact for XML and TSV; for JSON and CSV a cheap upper bound is
    tried first and the body is parsed only when the bound is over the cap."""
    if fmt == "TSV":
        return body.count(b"\n") - 1
    if fmt == "XML":
        return body.count(b"<result>")
    if fmt == "CSV":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) - 1
    return len(json.loads(body)["results"]["bindings"])


def _upper_bound(body: bytes, fmt: str) -> int:
    if fmt == "CSV":
        return body.count(b"\n") - 1
    if fmt == "JSON":
        return body.count(b",{") + 1
    return count_rows(body, fmt)


def encode(result: QueryResult | Iterable[Triple], *, results_format: str | None, graph_format: str | None, max_rows: int,
           max_bytes: int) -> Encoded:
    """A query's result serialised (in Rust) in the format for its kind, checked against the row cap and the byte
    cap before anything is returned: over a cap is ResultTooLargeError, never a truncated body."""
    try:
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            if results_format is None:
                raise FormatNotAcceptedError(graph=False)
            buffer = _CappedBuffer(max_bytes)
            result.serialize(buffer, format=getattr(ox.QueryResultsFormat, results_format))  # type: ignore[arg-type]
            body = buffer.getvalue()
            rows = 1
            if isinstance(result, ox.QuerySolutions) and (rows := _upper_bound(body, results_format)) > max_rows:
                rows = count_rows(body, results_format)
            if rows > max_rows:
                raise ResultTooLargeError(f"the result has {rows} rows, more than this endpoint's cap of {max_rows}")
            return Encoded(body, rows, graph=False)
        if graph_format is None:
            raise FormatNotAcceptedError(graph=True)
        triples = list(itertools.islice(result, max_rows + 1))
        if len(triples) > max_rows:
            raise ResultTooLargeError(f"the result has more than this endpoint's cap of {max_rows} triples")
        body = serialize(triples, graph_format)
        if len(body) > max_bytes:
            raise _TooLarge
        return Encoded(body, len(triples), graph=True)
    except _TooLarge:
        raise ResultTooLargeError(f"the result is larger than this endpoint's cap of {max_bytes} bytes") from None


def decode(body: bytes, media_type: str) -> QueryResult:
    """A result :func:`encode` wrote (or a server sent), read back: N-Triples for graphs, else SPARQL JSON."""
    if media_type.split(";")[0].strip() in ("application/n-triples", "text/plain"):
        return [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
    return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)


_RDF_NAMES = {getattr(ox.RdfFormat, name): name for name in dir(ox.RdfFormat) if name.isupper()}
