"""Where every SPARQL request is read and evaluated: the worker processes of the API (and ``handle`` for inline use).

The server process never parses SPARQL. It sends each request (a query, an update, a syntax check, a Graph Store
operation) to a worker over a socket (length-prefixed pickles); the worker

1. pre-checks the text in linear time: size and bracket nesting (``lskg.kg.sparql_text.precheck``);
2. parses it with a real SPARQL parser (rdflib's grammar, ``sparql_text.guard``) and refuses ``SERVICE`` and
   ``LOAD`` wherever they occur in the parse tree; a text that parser cannot read is never evaluated;
3. evaluates it with pyoxigraph and serialises the answer (in Rust) in the negotiated format, checked against the
   row cap and the byte cap before anything is sent: an over-cap result is an error, never a truncated body.

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

import csv
import ctypes
import functools
import io
import itertools
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
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from lskg.errors import LskgError
from lskg.kg.sparql_text import GuardSyntaxError, Parsed, guard, precheck

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


@dataclass(frozen=True)
class QueryJob:
    """One query, as the API sends it to a worker (or evaluates it inline)."""

    text: str
    default_graph: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    results_format: tuple[str, str] | None = None
    """(pyoxigraph QueryResultsFormat name, media type) for SELECT/ASK, None when the client accepts none."""
    graph_format: tuple[str, str] | None = None
    """(pyoxigraph RdfFormat name, media type) for CONSTRUCT/DESCRIBE."""
    max_rows: int = 100_000
    max_bytes: int = 256 * 2**20
    trusted: bool = False
    """The server's own named queries (REST, Graph Store reads): no guard parse. Never set for client text."""
    has_dataset: bool = False
    """For a trusted query: it names its dataset (FROM). Client text is read by the guard instead."""


@dataclass(frozen=True)
class UpdateJob:
    """A SPARQL Update request (protocol ``using-graph-uri`` / ``using-named-graph-uri`` applied in the worker)."""

    text: str
    base_iri: str | None = None
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckJob:
    """Is this text a valid query or update that this endpoint would run? (Nothing is evaluated on the graph.)"""

    text: str


@dataclass(frozen=True)
class GraphJob:
    """A Graph Store Protocol operation on one graph: ``exists``, ``put``, ``post`` or ``delete``."""

    op: str
    graph: str | None
    """The graph's IRI, or None for the default graph."""
    parts: tuple[tuple[str, bytes], ...] = field(default=())
    """(media type, payload) of each document, for ``put``/``post``."""
    base_iri: str | None = None


Job = QueryJob | UpdateJob | CheckJob | GraphJob

# Replies are tuples: ("ok", media_type, body, rows) for a query, ("done", value) for the other jobs, or
# (kind, message) where kind is one of "syntax" (400), "bad_request" (400), "refused" (400), "not_acceptable"
# (406), "too_large" (413), "memory" (503), "failed" (500).
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


# ---- reading a request: pre-check and guard ----------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _guard(text: str, update: bool) -> Parsed:
    return guard(text, update=update)


@functools.cache
def _prefixes() -> dict[str, str]:
    from lskg.ontology.terms import PREFIXES

    return {name: ns.iri for name, ns in PREFIXES.items()}


class Refused(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.reply = (kind, message)


def _engine_message(text: str, update: bool) -> str | None:
    """pyoxigraph's own syntax message for ``text`` (parsed against a throwaway empty store), or None when it
    accepts the text. Used only for text the guard already rejected, and only inside a worker without network."""
    try:
        if update:
            ox.Store().update(text, prefixes=_prefixes())
        else:
            ox.Store().query(text, prefixes=_prefixes())
    except SyntaxError as exc:
        return str(exc)
    except (OSError, RuntimeError, ValueError):
        return None
    return None


def read_request(text: str, limits: Limits, *, update: bool) -> Parsed:
    """Pre-check and guard-parse client text; raises Refused with the reply for the client."""
    why = precheck(text, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    if why is not None:
        raise Refused("bad_request", why)
    try:
        parsed = _guard(text, update)
    except GuardSyntaxError as exc:
        if not update and exc.is_update:
            raise Refused("bad_request", "this is a SPARQL Update request sent as a query; POST it as "
                                          "update=... or with Content-Type application/sparql-update") from None
        engine = _engine_message(text, update) if CONFINEMENT.network else None
        if engine is not None:
            raise Refused("syntax", engine) from None
        raise Refused("syntax", f"{exc} (this endpoint evaluates only what its SPARQL 1.1 guard parser "
                                 "can read)") from None
    if parsed.refused:
        raise Refused("refused", parsed.refused)
    return parsed


# ---- evaluating a job ----------------------------------------------------------------------------------------

Runner = Callable[[QueryJob, bool], Any]
"""(job, has_dataset) -> the pyoxigraph result (or a remote store's)."""


def serialise(result: Any, job: QueryJob) -> Reply:
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


def run_query(run: Runner, job: QueryJob, limits: Limits) -> Reply:
    has_dataset = job.has_dataset if job.trusted else read_request(job.text, limits, update=False).has_dataset
    try:
        result = run(job, has_dataset)
    except SyntaxError as exc:
        return ("syntax", str(exc))
    except ValueError as exc:  # an invalid IRI in default-graph-uri / named-graph-uri, or an evaluation error
        return ("bad_request", str(exc))
    return serialise(result, job)


def check(job: CheckJob, limits: Limits) -> Reply:
    """("done", (ok, form, message)): the syntax check of the web page's query box."""
    text = job.text
    why = precheck(text, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    if why is not None:
        return ("done", (False, None, why))
    try:
        parsed = _guard(text, False)
    except GuardSyntaxError as query_error:
        try:
            parsed = _guard(text, True) if query_error.is_update else None
        except GuardSyntaxError:
            parsed = None
        if parsed is None:
            engine = _engine_message(text, False) if CONFINEMENT.network else None
            return ("done", (False, None, engine or str(query_error)))
    if parsed.refused:
        return ("done", (False, parsed.form, parsed.refused))
    message = _engine_message(text, parsed.form == "UPDATE")  # against a throwaway empty store
    return ("done", (message is None, parsed.form, message))


def run_update(store: ox.Store, job: UpdateJob, limits: Limits) -> Reply:
    from lskg.api.protocol import add_using

    parsed = read_request(job.text, limits, update=True)
    text = job.text
    if job.using or job.using_named:
        if parsed.has_using:
            return ("bad_request", "the request has using-graph-uri/using-named-graph-uri parameters and its own "
                                   "USING/WITH clause; the protocol allows only one of them")
        try:
            text = add_using(text, list(job.using), list(job.using_named))
        except LskgError as exc:
            return ("bad_request", exc.message)
        read_request(text, limits, update=True)
    try:
        store.update(text, base_iri=job.base_iri, prefixes=_prefixes())
    except SyntaxError as exc:
        return ("syntax", str(exc))
    except ValueError as exc:
        return ("bad_request", f"the update failed: {exc}")
    return ("done", None)


def _graph(iri: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if iri is None else ox.NamedNode(iri)


def _exists(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> bool:
    return isinstance(graph, ox.DefaultGraph) or store.contains_named_graph(graph)


def run_graph(store: ox.Store, job: GraphJob) -> Reply:
    """Graph Store operations. ``put`` replaces the graph in one atomic update, ``post`` merges into it; the
    payload is parsed completely before the store is touched, so a malformed one (400) changes nothing."""
    from lskg.kg.store import replace_graph_update

    graph = _graph(job.graph)
    if job.op == "exists":
        return ("done", _exists(store, graph))
    if job.op == "delete":
        if isinstance(graph, ox.DefaultGraph):
            store.clear_graph(graph)
            return ("done", True)
        if not store.contains_named_graph(graph):
            return ("done", False)
        store.remove_graph(graph)
        return ("done", True)
    quads = []
    for media, data in job.parts:
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            return ("bad_request", f"{media} is not a graph format this store accepts")
        try:
            quads.extend(ox.Quad(q.subject, q.predicate, q.object, graph)
                         for q in ox.parse(data, format=fmt, base_iri=job.base_iri))
        except SyntaxError as exc:
            return ("bad_request", f"the {fmt.name} payload is malformed: {exc}")
    existed = _exists(store, graph)
    if not existed:
        store.add_graph(graph)
    if job.op == "put":
        store.update(replace_graph_update(graph, [q.triple for q in quads]))
    else:
        store.extend(quads)
    return ("done", not existed)


def store_runner(store: ox.Store) -> Runner:
    """A runner over a pyoxigraph store: protocol dataset first, then FROM in the text, else the union graph.
    The lskg prefixes (lskg:, skos:, model:, data:...) are predeclared; a query's own PREFIX lines win."""

    def run(job: QueryJob, has_dataset: bool) -> Any:
        kwargs: dict[str, Any] = {}
        if job.default_graph:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph]
        if job.named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
        if not kwargs and not has_dataset:
            kwargs["use_default_graph_as_union"] = True
        return store.query(job.text, base_iri=job.base_iri, prefixes=_prefixes(), **kwargs)

    return run


def handle(store: ox.Store | None, run: Runner, job: Job, limits: Limits, *, writable: bool) -> Reply:
    """Answer one job; never raises for what a client can cause (the reply says what went wrong)."""
    try:
        if isinstance(job, QueryJob):
            return run_query(run, job, limits)
        if isinstance(job, CheckJob):
            return check(job, limits)
        if store is None or not (writable or (isinstance(job, GraphJob) and job.op == "exists")):
            return ("failed", "this worker is read-only: updates and Graph Store writes need a server with "
                              "updates enabled")
        if isinstance(job, UpdateJob):
            return run_update(store, job, limits)
        return run_graph(store, job)
    except Refused as exc:
        return exc.reply
    except MemoryError:
        return ("memory", f"the request used more than this endpoint's limit of {limits.memory_mib} MiB")
    except (OSError, RuntimeError, ValueError, SyntaxError) as exc:
        return ("failed", str(exc))


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


class _Opened:
    """The store this worker reads (or writes): reopened when the server names another generation."""

    def __init__(self, writable: bool) -> None:
        self.writable = writable
        self.key: tuple[Any, ...] | None = None
        self.handle: Any = None
        self.store: ox.Store | None = None
        self.run: Runner | None = None

    def get(self, key: tuple[Any, ...]) -> None:
        if key == self.key:
            return
        from lskg.kg.store import StoreDir

        root, _generation = key
        previous = self.handle
        if self.writable:
            self.handle = StoreDir(root).open(read_only=False) if previous is None else previous
        else:
            self.handle = StoreDir(root).open_reader()  # pins the generation it opens
        self.key, self.store = key, self.handle.native
        self.run = store_runner(self.store)
        if previous is not None and previous is not self.handle:
            previous.close()

    def release_if_stale(self) -> None:
        """Idle: when ``current`` has moved past the generation this read-only worker holds, close it, so the
        next build or add can delete it (the next job opens the new one)."""
        if self.writable or self.handle is None or self.key is None:
            return
        from lskg.kg.store import StoreDir

        try:
            current = StoreDir(self.key[0]).generation()
        except Exception:  # noqa: BLE001 - `current` missing for a moment: check again later
            return
        if current != self.handle.path.name:
            self.handle.close()
            self.handle = self.store = self.run = self.key = None


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
    send_frame(sock, ("hello", {"network": CONFINEMENT.network, "memory_mib": CONFINEMENT.memory_mib,
                                "pid": os.getpid(), "writable": writable}))
    opened = _Opened(writable)
    frames = _Frames(sock, opened.release_if_stale)
    while (frame := frames.next()) is not None:
        key, job = frame
        try:
            opened.get(key)
        except Exception as exc:  # noqa: BLE001 - any failure to open is this job's answer
            send_frame(sock, ("failed", f"cannot open the store at {key[0]}: {exc}"))
            continue
        assert opened.run is not None
        try:
            reply = handle(opened.store, opened.run, job, limits, writable=writable)
        except MemoryError:
            reply = ("memory", f"the request used more than this endpoint's limit of {limits.memory_mib} MiB")
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
