"""Evaluating one SPARQL request into response bytes, and the worker process that does it for the API.

A worker holds a read-only pyoxigraph store of the live store folder and answers requests sent over a socket
(length-prefixed pickles). The API kills a worker whose query runs past the deadline (pyoxigraph cannot cancel a
query) and starts a fresh one. This module imports only pyoxigraph and the standard library, so a worker starts
fast.

The result is serialised in the worker (in Rust) in the negotiated format and checked against the row cap and the
byte cap before anything is sent: an over-cap result is an error, never a truncated body.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class QueryJob:
    """One query, as the API sends it to a worker (or evaluates it inline)."""

    text: str
    form: str
    default_graph: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    has_dataset: bool = False
    base_iri: str | None = None
    results_format: tuple[str, str] | None = None
    """(pyoxigraph QueryResultsFormat name, media type) for SELECT/ASK, None when the client accepts none."""
    graph_format: tuple[str, str] | None = None
    """(pyoxigraph RdfFormat name, media type) for CONSTRUCT/DESCRIBE."""
    max_rows: int = 100_000
    max_bytes: int = 256 * 2**20


# Replies are tuples: ("ok", media_type, body, rows) or (kind, message) where kind is one of
# "syntax" (400), "bad_request" (400), "not_acceptable" (406), "too_large" (413), "failed" (500).
Reply = tuple[Any, ...]


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


Runner = Callable[[QueryJob], Any]


def evaluate(run: Runner, job: QueryJob) -> Reply:
    """Run ``job`` with ``run`` (which calls the store) and serialise the answer; never raises for user errors."""
    try:
        result = run(job)
    except SyntaxError as exc:
        return ("syntax", str(exc))
    except ValueError as exc:  # an invalid IRI in default-graph-uri / named-graph-uri, or an evaluation error
        return ("bad_request", str(exc))
    except (OSError, RuntimeError) as exc:
        return ("failed", str(exc))
    try:
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            if job.results_format is None:
                return ("not_acceptable", "results")
            name, media = job.results_format
            buffer = _CappedBuffer(job.max_bytes)
            result.serialize(buffer, format=getattr(ox.QueryResultsFormat, name))
            body = buffer.getvalue()
            rows = 1
            if isinstance(result, ox.QuerySolutions) and (rows := _upper_bound(body, name)) > job.max_rows:
                rows = count_rows(body, name)
            if rows > job.max_rows:
                return ("too_large", f"the result has {rows} rows, more than this endpoint's cap of "
                                     f"{job.max_rows}")
            return ("ok", media, body, rows)
        if job.graph_format is None:
            return ("not_acceptable", "graph")
        name, media = job.graph_format
        triples = list(itertools.islice(result, job.max_rows + 1))
        if len(triples) > job.max_rows:
            return ("too_large", f"the result has more than this endpoint's cap of {job.max_rows} triples")
        body = ox.serialize(triples, format=getattr(ox.RdfFormat, name))
        if len(body) > job.max_bytes:
            raise _TooLarge
        return ("ok", media, body, len(triples))
    except _TooLarge:
        return ("too_large", f"the result is larger than this endpoint's cap of {job.max_bytes} bytes")
    except (OSError, RuntimeError, ValueError) as exc:
        return ("failed", str(exc))


def store_runner(store: ox.Store) -> Runner:
    """A runner over a pyoxigraph store: protocol dataset first, then FROM in the text, else the union graph.
    The lskg prefixes (lskg:, skos:, model:, data:...) are predeclared; a query's own PREFIX lines win."""
    from lskg.ontology.terms import PREFIXES

    prefixes = {name: ns.iri for name, ns in PREFIXES.items()}

    def run(job: QueryJob) -> Any:
        kwargs: dict[str, Any] = {}
        if job.default_graph:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph]
        if job.named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
        if not kwargs and not job.has_dataset:
            kwargs["use_default_graph_as_union"] = True
        return store.query(job.text, base_iri=job.base_iri, prefixes=prefixes, **kwargs)

    return run


# ---- the worker process -----------------------------------------------------------------------------------

def send_frame(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def main(sock: socket.socket) -> None:
    """Worker loop: (generation, store path, QueryJob) in, Reply out, until the socket closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server; it ends the workers itself
    store: ox.Store | None = None
    opened: tuple[int, str] | None = None
    run: Runner | None = None
    reader = sock.makefile("rb", buffering=1 << 16)  # pipelined jobs arrive together: one read for both
    while True:
        header = reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        size = _HEADER.unpack(header)[0]
        payload = reader.read(size)
        if len(payload) < size:
            return
        generation, path, job = pickle.loads(payload)
        if opened != (generation, path):
            try:
                store = ox.Store.read_only(path)
            except OSError as exc:
                send_frame(sock, ("failed", f"cannot open the store at {path}: {exc}"))
                continue
            opened, run = (generation, path), store_runner(store)
        assert run is not None
        send_frame(sock, evaluate(run, job))


if __name__ == "__main__":  # python -m lskg.api.worker FD  (started by lskg.api.pool)
    import sys

    connection = socket.socket(fileno=int(sys.argv[1]))
    try:
        main(connection)
    finally:
        connection.close()
        os._exit(0)
