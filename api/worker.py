"""Where every SPARQL request is read and evaluated: the worker processes of the API (and ``handle`` for inline use).

The server process never parses SPARQL. It sends each request (a query, an update, a syntax check, a Graph Store
operation; not a point lookup, which ``lskg.api.lookup`` recognises and answers in the server) to a worker over
a socket (length-prefixed pickles); the worker

1. pre-checks the text in linear time: size and bracket nesting (``lskg.kg.sparql_text.precheck``);
2. parses it with a real SPARQL parser (rdflib's grammar, ``sparql_text.guard``) and refuses ``SERVICE`` and
   ``LOAD`` wherever they occur in the parse tree; a text that parser cannot read is never evaluated;
3. evaluates it through the ``Store`` interface (``lskg.kg.store``: the same operations for an embedded and a
   remote store) and serialises the answer in the negotiated format (``lskg.kg.rdf.encode``), checked against the
   row cap and the byte cap before anything is sent: an over-cap result is an error, never a truncated body.

Each job is a frozen record with a ``run(store, limits)`` method; each answer is one ``Reply``.

Defence in depth, at the operating-system level, set up when a worker starts (``confine``): the worker leaves
the network (a new, empty network namespace: even the loopback interface is down, so a request that slipped
past the parser cannot connect anywhere) and gets an address-space limit (``RLIMIT_AS``), so a runaway query ends
that worker with a clear "used more than N MiB" instead of eating the machine. The API kills a worker whose job
runs past the deadline (pyoxigraph cannot cancel a query) and starts a fresh one; a worker that crashes costs
only the request it was running.

A read-only server runs N workers, each with a read-only handle that pins the store generation it reads
(``StoreDir.open_reader``). A server with updates enabled runs one read-write worker that serves queries and
updates in order, so no reader ever sees the store mid-write.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import json
import logging
import os
import pickle
import resource
import select
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from lskg.errors import LskgError, QueryError, ResultTooLargeError, StoreError
from lskg.kg.rdf import (
    DefaultGraph,
    FormatNotAcceptedError,
    GraphName,
    QueryResult,
    Triple,
    encode,
    iri,
    parse_graph,
)
from lskg.kg.sparql_text import GuardSyntaxError, Parsed, guard, precheck
from lskg.kg.store import EmbeddedStore, SparqlSyntaxError, Store, StoreDir, syntax_error

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")
STACK_BYTES = 64 * 2**20
"""The worker's evaluation thread: room for the deepest nesting the pre-check lets through."""


@dataclass(frozen=True)
class Limits:
    """What the pre-check allows, and the worker's memory; sent to each worker when it starts."""

    max_bytes: int = 256 * 1024
    max_depth: int = 64
    memory_mib: int = 2048


# ---- replies --------------------------------------------------------------------------------------------------

class Kind(enum.Enum):
    """What a reply says. The API maps each kind to its HTTP answer (``lskg.api.routes.sparql``)."""

    ANSWER = "answer"
    """A query's result, serialised: ``media_type``, ``body``, ``rows``."""
    DONE = "done"
    """Any other job's result: ``value``."""
    SYNTAX = "syntax"
    BAD_REQUEST = "bad_request"
    REFUSED = "refused"
    NOT_ACCEPTABLE = "not_acceptable"
    """No accepted media type carries the result; ``message`` is the query form (SELECT or CONSTRUCT)."""
    TOO_LARGE = "too_large"
    MEMORY = "memory"
    UNAVAILABLE = "unavailable"
    """The store cannot answer now (a remote server unreachable)."""
    FAILED = "failed"


@dataclass(frozen=True)
class Reply:
    """A worker's answer to one job."""

    kind: Kind
    message: str = ""
    media_type: str = ""
    body: bytes = b""
    rows: int = 0
    value: Any = None

    @property
    def ok(self) -> bool:
        return self.kind in (Kind.ANSWER, Kind.DONE)

    @classmethod
    def done(cls, value: Any = None) -> Reply:
        return cls(Kind.DONE, value=value)

    @classmethod
    def error(cls, kind: Kind, message: str) -> Reply:
        return cls(kind, message=message)


@dataclass(frozen=True)
class Verdict:
    """The syntax check's answer: would this endpoint run the text, what form is it, and if not, why not."""

    ok: bool
    form: str | None
    message: str | None


@dataclass(frozen=True)
class Hello:
    """A worker's first frame: how it is confined."""

    network: str | None
    """How the network was taken away (None: it was not; SERVICE and LOAD are then refused by the parser only)."""
    memory_mib: int | None
    pid: int
    writable: bool


def memory_reply(limits: Limits) -> Reply:
    return Reply.error(Kind.MEMORY, f"the request used more than this endpoint's limit of {limits.memory_mib} MiB")


FAILURES: tuple[tuple[type[BaseException], Kind], ...] = (
    (SparqlSyntaxError, Kind.SYNTAX),
    (FormatNotAcceptedError, Kind.NOT_ACCEPTABLE),
    (ResultTooLargeError, Kind.TOO_LARGE),
    (QueryError, Kind.BAD_REQUEST),
    (ValueError, Kind.BAD_REQUEST),  # pyoxigraph's evaluation errors
    (StoreError, Kind.UNAVAILABLE),
    (LskgError, Kind.FAILED),
    (OSError, Kind.FAILED),
    (RuntimeError, Kind.FAILED),
    (SyntaxError, Kind.FAILED),
)
"""What a client-caused exception is answered with (the first matching type wins)."""


def failure(exc: BaseException) -> Reply | None:
    """The reply for an exception a request can cause, or None for a bug (which then raises)."""
    for kind_of, kind in FAILURES:
        if isinstance(exc, kind_of):
            if isinstance(exc, SparqlSyntaxError):
                return Reply.error(kind, exc.detail)
            if isinstance(exc, FormatNotAcceptedError):
                return Reply.error(kind, "CONSTRUCT" if exc.graph else "SELECT")
            return Reply.error(kind, exc.message if isinstance(exc, LskgError) else str(exc))
    return None


# ---- reading a request: pre-check and guard ----------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _guard(text: str, update: bool) -> Parsed:
    return guard(text, update=update)


class Refused(Exception):
    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.reply = Reply.error(kind, message)


def _engine_message(text: str, update: bool) -> str | None:
    """The engine's own syntax message, only for text the guard already rejected, and only inside a worker
    without network."""
    return syntax_error(text, update=update) if CONFINEMENT.network else None


def read_request(text: str, limits: Limits, *, update: bool) -> Parsed:
    """Pre-check and guard-parse client text; raises Refused with the reply for the client."""
    why = precheck(text, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    if why is not None:
        raise Refused(Kind.BAD_REQUEST, why)
    try:
        parsed = _guard(text, update)
    except GuardSyntaxError as exc:
        if not update and exc.is_update:
            raise Refused(Kind.BAD_REQUEST, "this is a SPARQL Update request sent as a query; POST it as "
                                            "update=... or with Content-Type application/sparql-update") from None
        engine = _engine_message(text, update)
        if engine is not None:
            raise Refused(Kind.SYNTAX, engine) from None
        raise Refused(Kind.SYNTAX, f"{exc} (this endpoint evaluates only what its SPARQL 1.1 guard parser "
                                   "can read)") from None
    if parsed.refused:
        raise Refused(Kind.REFUSED, parsed.refused)
    return parsed


# ---- the jobs -------------------------------------------------------------------------------------------------

Format = tuple[str, str]
"""(format name as ``lskg.kg.rdf`` names it, media type of the answer)."""


@dataclass(frozen=True)
class QueryJob:
    """One query, as the API sends it to a worker (or evaluates it inline)."""

    writes: ClassVar[bool] = False
    text: str
    default_graph: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    results_format: Format | None = None
    """For SELECT/ASK; None when the client accepts none."""
    graph_format: Format | None = None
    """For CONSTRUCT/DESCRIBE."""
    max_rows: int = 100_000
    max_bytes: int = 256 * 2**20
    trusted: bool = False
    """The server's own named queries (REST, the recommender): no guard parse. Never set for client text."""

    def run(self, store: Store, limits: Limits) -> Reply:
        if not self.trusted:
            read_request(self.text, limits, update=False)
        return self.answer(store.query(self.text, default_graph=[iri(g) for g in self.default_graph] or None,
                                       named_graphs=[iri(g) for g in self.named_graphs] or None,
                                       base_iri=self.base_iri), self.max_bytes)

    def answer(self, result: QueryResult, max_bytes: int) -> Reply:
        """The reply carrying ``result``, serialised in the negotiated format and checked against the caps."""
        encoded = encode(result, results_format=self.results_format and self.results_format[0],
                         graph_format=self.graph_format and self.graph_format[0], max_rows=self.max_rows,
                         max_bytes=max_bytes)
        chosen = self.graph_format if encoded.graph else self.results_format
        assert chosen is not None  # encode refuses a kind of result without a format
        return Reply(Kind.ANSWER, media_type=chosen[1], body=encoded.body, rows=encoded.rows)


@dataclass(frozen=True)
class UpdateJob:
    """A SPARQL Update request (protocol ``using-graph-uri`` / ``using-named-graph-uri`` applied in the worker)."""

    writes: ClassVar[bool] = True
    text: str
    base_iri: str | None = None
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()

    def run(self, store: Store, limits: Limits) -> Reply:
        from lskg.api.protocol import add_using

        parsed = read_request(self.text, limits, update=True)
        text = self.text
        if self.using or self.using_named:
            if parsed.has_using:
                return Reply.error(Kind.BAD_REQUEST, "the request has using-graph-uri/using-named-graph-uri "
                                                     "parameters and its own USING/WITH clause; the protocol "
                                                     "allows only one of them")
            text = add_using(text, list(self.using), list(self.using_named))
            read_request(text, limits, update=True)
        try:
            store.update(text, base_iri=self.base_iri)
        except ValueError as exc:
            raise QueryError(f"the update failed: {exc}") from None
        return Reply.done()


@dataclass(frozen=True)
class CheckJob:
    """Is this text a valid query or update that this endpoint would run? (Nothing is evaluated on the graph.)"""

    writes: ClassVar[bool] = False
    text: str

    def run(self, store: Store, limits: Limits) -> Reply:
        return Reply.done(self.verdict(limits))

    def verdict(self, limits: Limits) -> Verdict:
        text = self.text
        why = precheck(text, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
        if why is not None:
            return Verdict(False, None, why)
        try:
            parsed: Parsed | None = _guard(text, False)
        except GuardSyntaxError as query_error:
            try:
                parsed = _guard(text, True) if query_error.is_update else None
            except GuardSyntaxError:
                parsed = None
            if parsed is None:
                return Verdict(False, None, _engine_message(text, False) or str(query_error))
        assert parsed is not None
        if parsed.refused:
            return Verdict(False, parsed.form, parsed.refused)
        message = syntax_error(text, update=parsed.form == "UPDATE")  # against a throwaway empty store
        return Verdict(message is None, parsed.form, message)


GraphOp = Literal["exists", "get", "put", "post", "delete"]


@dataclass(frozen=True)
class GraphJob:
    """A Graph Store Protocol operation on one graph. ``put`` replaces the graph in one atomic update, ``post``
    merges into it; the payload is parsed completely before the store is touched, so a malformed one (400)
    changes nothing."""

    op: GraphOp
    graph: str | None
    """The graph's IRI, or None for the default graph."""
    parts: tuple[tuple[str, bytes], ...] = ()
    """(format name, payload) of each document, for ``put``/``post``."""
    base_iri: str | None = None
    graph_format: Format | None = None
    """For ``get``."""
    max_rows: int = 100_000
    max_bytes: int = 256 * 2**20

    @property
    def writes(self) -> bool:
        return self.op in ("put", "post", "delete")

    def run(self, store: Store, limits: Limits) -> Reply:
        graph: GraphName = DefaultGraph() if self.graph is None else iri(self.graph)
        return GRAPH_OPS[self.op](self, store, graph)

    def _exists(self, store: Store, graph: GraphName) -> Reply:
        return Reply.done(store.has_graph(graph))

    def _get(self, store: Store, graph: GraphName) -> Reply:
        if self.graph_format is None:
            raise FormatNotAcceptedError(graph=True)
        name, media = self.graph_format
        encoded = encode(store.get_graph(graph), results_format=None, graph_format=name, max_rows=self.max_rows,
                         max_bytes=self.max_bytes)
        return Reply(Kind.ANSWER, media_type=media, body=encoded.body, rows=encoded.rows)

    def _triples(self) -> list[Triple]:
        return [t for name, data in self.parts for t in parse_graph(data, name, base_iri=self.base_iri)]

    def _put(self, store: Store, graph: GraphName) -> Reply:
        return Reply.done(store.put_graph(graph, self._triples()))

    def _post(self, store: Store, graph: GraphName) -> Reply:
        return Reply.done(store.post_graph(graph, self._triples()))

    def _delete(self, store: Store, graph: GraphName) -> Reply:
        return Reply.done(store.delete_graph(graph))


GRAPH_OPS: dict[str, Callable[[GraphJob, Store, GraphName], Reply]] = {
    "exists": GraphJob._exists, "get": GraphJob._get, "put": GraphJob._put, "post": GraphJob._post,
    "delete": GraphJob._delete}


@dataclass(frozen=True)
class DatasetJob:
    """The store's dataset, for the service description."""

    writes: ClassVar[bool] = False

    def run(self, store: Store, limits: Limits) -> Reply:
        return Reply.done(store.dataset())


Job = QueryJob | UpdateJob | CheckJob | GraphJob | DatasetJob


def handle(store: Store, job: Job, limits: Limits) -> Reply:
    """Answer one job; never raises for what a client can cause (the reply says what went wrong)."""
    if job.writes and store.read_only:
        return Reply.error(Kind.FAILED, "this worker is read-only: updates and Graph Store writes need a server "
                                        "with updates enabled")
    try:
        return job.run(store, limits)
    except Refused as exc:
        return exc.reply
    except MemoryError:
        return memory_reply(limits)
    except Exception as exc:
        reply = failure(exc)
        if reply is None:
            raise
        return reply


# ---- the worker process ---------------------------------------------------------------------------------------

@dataclass
class Confinement:
    network: str | None = None
    """How the network was taken away (None: it was not; the worker then evaluates only what the guard read)."""
    memory_mib: int | None = None


CONFINEMENT = Confinement()
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


def confine(limits: Limits) -> Confinement:
    """Take the network from this process (an empty network namespace) and cap its address space. Linux only;
    where neither namespace call is allowed the worker runs without it (logged, and shown by /health)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        for flags, name in ((_CLONE_NEWNET, "network namespace (unshare CLONE_NEWNET)"),
                            (_CLONE_NEWUSER | _CLONE_NEWNET,
                             "user + network namespace (unshare CLONE_NEWUSER|CLONE_NEWNET)")):
            if libc.unshare(flags) == 0:
                CONFINEMENT.network = name
                break
    if limits.memory_mib > 0:
        cap = limits.memory_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        CONFINEMENT.memory_mib = limits.memory_mib
    return CONFINEMENT


def send_frame(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


class OpenedStore:
    """The store a worker reads (or writes), or the server's handle for lookups (``lskg.api.lookup``): reopened
    when the server names another generation."""

    def __init__(self, writable: bool) -> None:
        self.writable = writable
        self.key: tuple[str, str] | None = None
        self.store: EmbeddedStore | None = None

    def get(self, key: tuple[str, str]) -> EmbeddedStore:
        if key == self.key and self.store is not None:
            return self.store
        root, _generation = key
        previous = self.store
        if self.writable:
            store = StoreDir(root).open(read_only=False) if previous is None else previous
        else:
            store = StoreDir(root).open_reader()  # pins the generation it opens
        self.key, self.store = key, store
        if previous is not None and previous is not store:
            previous.close()
        return store

    def release_if_stale(self) -> None:
        """Idle: when ``current`` has moved past the generation this read-only worker holds, close it, so the
        next build or add can delete it (the next job opens the new one)."""
        if self.writable or self.store is None or self.store.path is None or self.key is None:
            return
        try:
            current = StoreDir(self.key[0]).generation()
        except Exception:  # noqa: BLE001 - `current` missing for a moment: check again later
            return
        if current != self.store.path.name:
            self.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = self.key = None


IDLE_S = 2.0
"""An idle read-only worker checks this often whether ``current`` moved, and lets go of an old generation."""


class _Frames:
    """Length-prefixed frames from the server's socket; calls ``idle`` whenever nothing arrives for IDLE_S."""

    def __init__(self, sock: socket.socket, idle: Callable[[], None]) -> None:
        self.sock = sock
        self.idle = idle
        self.buffer = bytearray()

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            ready, _, _ = select.select([self.sock], [], [], IDLE_S)
            if not ready:
                self.idle()
                continue
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def next(self) -> Any:
        if not self._fill(_HEADER.size):
            return None
        size = _HEADER.unpack_from(self.buffer)[0]
        if not self._fill(_HEADER.size + size):
            return None
        payload = bytes(self.buffer[_HEADER.size:_HEADER.size + size])
        del self.buffer[:_HEADER.size + size]
        return pickle.loads(payload)


def main(sock: socket.socket, limits: Limits, writable: bool) -> None:
    """Worker loop: (store key, job) in, Reply out, until the socket closes. The first frame out says how the
    worker is confined."""
    guard("ASK { ?s ?p ?o FILTER(?o > 1) }", update=False)  # warm the parser (its first parse builds caches)
    guard("DELETE WHERE { ?s ?p ?o }", update=True)
    send_frame(sock, Hello(network=CONFINEMENT.network, memory_mib=CONFINEMENT.memory_mib, pid=os.getpid(),
                           writable=writable))
    opened = OpenedStore(writable)
    frames = _Frames(sock, opened.release_if_stale)
    while (frame := frames.next()) is not None:
        key, job = frame
        try:
            store = opened.get(key)
        except Exception as exc:  # noqa: BLE001 - any failure to open is this job's answer
            send_frame(sock, Reply.error(Kind.FAILED, f"cannot open the store at {key[0]}: {exc}"))
            continue
        try:
            reply = handle(store, job, limits)
        except MemoryError:
            reply = memory_reply(limits)
        send_frame(sock, reply)


def run_process(argv: list[str]) -> None:
    """``python -m lskg.api.worker FD LIMITS-JSON ro|rw`` (started by lskg.api.pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server; it ends the workers itself
    connection = socket.socket(fileno=int(argv[1]))
    limits = Limits(**json.loads(argv[2]))
    confine(limits)
    sys.setrecursionlimit(20_000)
    threading.stack_size(STACK_BYTES)
    thread = threading.Thread(target=main, args=(connection, limits, argv[3] == "rw"))
    thread.start()
    thread.join()
    connection.close()
    os._exit(0)


if __name__ == "__main__":
    # Run the module's importable copy, so that the jobs the server pickles are instances of these classes.
    from lskg.api.worker import run_process as _run

    _run(sys.argv)
