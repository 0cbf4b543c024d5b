"""One store interface for everything: embedded pyoxigraph (on disk or in memory) or any SPARQL 1.1 server.

    store = open_store("lskg-store")                 # embedded, read-only unless read_only=False
    store = open_store("http://127.0.0.1:7878/query") # remote: SPARQL 1.1 Query, Update, Graph Store Protocol
    for row in store.select("models_for_context", data=[iri]): ...

Queries see the union of all named graphs as their default graph (each study lives in its own named graph),
unless they name their dataset (FROM, or the protocol's default and named graphs): that rule is written once, in
``EmbeddedStore.query``. A remote server must be configured the same way (``oxigraph serve
--union-default-graph``). The lskg prefixes (``lskg:``, ``skos:``, ``model:``...) are predeclared for every query
and update (``PREDECLARED``); a request's own PREFIX lines win.

Besides queries and updates, every backend offers what the SPARQL protocols need: a description of its dataset
(``dataset``, for a service description), a base IRI for relative IRIs in a request (``base_iri=``), and the
Graph Store Protocol's per-graph operations (``has_graph``, ``get_graph``, ``put_graph``, ``post_graph``,
``delete_graph``), the default graph included.

On disk, a store directory holds ``current`` (a symlink to the live ``data-*`` folder). A build writes a fresh
folder and swaps the link atomically (``StoreDir.rebuild``), so a failed or killed build leaves the previous
graph as it was; ``lskg add`` does the same with a copy of the live folder (``StoreDir.update``). Writers hold
the store's lock (``StoreDir.lock``); readers pin the generation they read (``StoreDir.open_reader``), and a
folder is deleted only when it is neither ``current`` nor pinned.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
import pyoxigraph as ox
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Triple

from lskg.errors import QueryError, StoreError
from lskg.forking import private
from lskg.kg import queries
from lskg.kg.rdf import GraphName, QueryResult, decode
from lskg.kg.sparql_text import inspect_sparql
from lskg.ontology.terms import PREFIXES
from lskg.settings import cores

if TYPE_CHECKING:
    from lskg.settings import Settings

log = logging.getLogger(__name__)

Row = dict[str, Any]
T = TypeVar("T")
R = TypeVar("R")
PREDECLARED = {name: ns.iri for name, ns in PREFIXES.items()}
"""The prefixes every query and update may use without declaring them."""
_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z0-9_.\-]*):", re.IGNORECASE)


@dataclass(frozen=True)
class DatasetDescription:
    """The store's default dataset, as a SPARQL service description states it."""

    union_default_graph: bool
    """Without a dataset in the request, the default graph is the union of the named graphs."""
    named_graphs: tuple[NamedNode, ...]


class Store(ABC):
    """What every backend offers. Terms are pyoxigraph terms."""

    read_only: bool = True

    @abstractmethod
    def query(self, sparql: str, *, default_graph: list[NamedNode] | None = None,
              named_graphs: list[NamedNode] | None = None, base_iri: str | None = None) -> QueryResult:
        """Evaluate a SPARQL query (the lskg prefixes predeclared; ``default_graph``/``named_graphs``: the
        protocol's dataset, which overrides the query's FROM); raises SparqlSyntaxError on a malformed query."""

    @abstractmethod
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Apply a SPARQL Update request atomically (the lskg prefixes predeclared)."""

    @abstractmethod
    def load(self, quads: Iterable[Quad]) -> None:
        """Bulk-add quads (fast path for fresh builds)."""

    @abstractmethod
    def named_graphs(self) -> list[NamedNode]: ...

    @abstractmethod
    def dump(self, fmt: RdfFormat) -> bytes:
        """The whole dataset (quad formats) or the union default graph (triple formats)."""

    @abstractmethod
    def __len__(self) -> int: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the backend."""

    def each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[work(item) for item in items]``, where each ``work`` runs independent read queries on this store
        (and consumes their rows): one after another here; an embedded store runs them on its cores."""
        return [work(item) for item in items]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Shared behaviour, written once on top of the primitives.

    def replace_graphs(self, graphs: Mapping[NamedNode, Iterable[Triple]]) -> None:
        """Replace each graph's content, all in one atomic update (idempotent re-ingest)."""
        self._writable()
        if graphs:
            self.update(" ;\n".join(replace_graph_update(graph, triples) for graph, triples in graphs.items()))

    def replace_dataset(self, quads: Iterable[Quad]) -> None:
        """Replace everything with these quads in one atomic update (a remote rebuild)."""
        self._writable()
        by_graph: dict[NamedNode | BlankNode | DefaultGraph, list[str]] = {}
        for q in quads:
            by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
        blocks = ["\n".join(lines) if isinstance(graph, DefaultGraph) else
                  f"GRAPH {graph} {{\n" + "\n".join(lines) + "\n}" for graph, lines in by_graph.items()]
        self.update("DROP SILENT ALL ;\nINSERT DATA {\n" + "\n".join(blocks) + "\n}")

    def remove_graphs(self, graphs: Iterable[NamedNode]) -> None:
        self._writable()
        request = " ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs)
        if request:
            self.update(request)

    def select(self, query: str, **params: Any) -> list[Row]:
        """Run a named query (``models_for_context``) or SPARQL text, with parameters bound safely."""
        text = queries.prepare(query, params)
        result = self.query(text)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError(f"{query!r} is not a SELECT query")
        names = [v.value for v in result.variables]
        return [{name: solution[name] for name in names} for solution in result]

    def ask(self, query: str, **params: Any) -> bool:
        return bool(self.query(queries.prepare(query, params)))

    # The protocols' view of the store.

    def dataset(self) -> DatasetDescription:
        return DatasetDescription(union_default_graph=True, named_graphs=tuple(self.named_graphs()))

    def has_graph(self, graph: GraphName) -> bool:
        """Whether the graph exists (the default graph always does)."""
        return isinstance(graph, DefaultGraph) or self.ask("store_graph_exists", graph=graph)

    @abstractmethod
    def get_graph(self, graph: GraphName) -> Iterable[Triple]:
        """The graph's own triples (for the default graph: its own, not the union)."""

    def put_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        """Replace the graph's content, atomically; True when the graph was created."""
        self._writable()
        created = not self.has_graph(graph)
        self.update(replace_graph_update(graph, triples))
        return created

    def post_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        """Merge triples into the graph, atomically; True when the graph was created."""
        self._writable()
        created = not self.has_graph(graph)
        self.update(insert_update(graph, triples))
        return created

    def delete_graph(self, graph: GraphName) -> bool:
        """Remove a named graph, or empty the default graph; False when the named graph does not exist."""
        self._writable()
        if not self.has_graph(graph):
            return False
        self.update("CLEAR SILENT DEFAULT" if isinstance(graph, DefaultGraph) else f"DROP SILENT GRAPH {graph}")
        return True

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only", hint="open it with read_only=False to write")


def replace_graph_update(graph: GraphName, triples: Iterable[Triple]) -> str:
    """A SPARQL Update that empties a graph and fills it again: applied as one request, it is atomic. Terms are
    written in their N-Triples form by pyoxigraph, so no value can change the request's structure."""
    drop = "CLEAR SILENT DEFAULT" if isinstance(graph, DefaultGraph) else f"DROP SILENT GRAPH {graph}"
    return f"{drop} ;\n{insert_update(graph, triples)}"


def insert_update(graph: GraphName, triples: Iterable[Triple]) -> str:
    """A SPARQL Update adding triples to a graph (terms written by pyoxigraph, as above)."""
    body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    if isinstance(graph, DefaultGraph):
        return f"INSERT DATA {{\n{body}\n}}"
    return f"INSERT DATA {{ GRAPH {graph} {{\n{body}\n}} }}"


class SparqlSyntaxError(QueryError):
    """The engine could not parse a query or update; ``detail`` is its own message."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"malformed SPARQL {what}: {detail}")
        self.detail = detail


def syntax_error(text: str, *, update: bool) -> str | None:
    """The engine's own syntax message for ``text`` (parsed against a throwaway empty store, the lskg prefixes
    predeclared), or None when it accepts the text. An update is applied to that empty store, never a graph."""
    try:
        if update:
            ox.Store().update(text, prefixes=PREDECLARED)
        else:
            ox.Store().query(text, prefixes=PREDECLARED)
    except SyntaxError as exc:
        return str(exc)
    except (OSError, RuntimeError, ValueError):
        return None
    return None


class EmbeddedStore(Store):
    """pyoxigraph in this process: in memory (``path=None``) or a RocksDB folder."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path else None
        self.read_only = read_only and path is not None
        self._pins: list[int] = []
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open store at {path}: {exc}",
                             hint="is another `lskg` process writing it? is it a store folder?") from exc

    def each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[work(item) for item in items]`` on up to one thread per core, in order: pyoxigraph evaluates a
        query without holding the GIL (the build's aggregate queries on 10,000 studies: 4.4 s one after another,
        2.8 s on two threads). Only for reads: nothing else may write the store meanwhile."""
        threads = min(len(items), cores())
        if threads < 2:
            return super().each(work, items)
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(work, items))

    @property
    def native(self) -> ox.Store:
        """The pyoxigraph store, for code that must call it directly (benchmarks, the API's workers)."""
        return self._store

    def quads(self) -> Iterator[Quad]:
        """Every quad of every graph, streamed (to copy this store into another with one bulk load)."""
        return iter(self._store.quads_for_pattern(None, None, None, None))

    def query(self, sparql: str, *, default_graph: list[NamedNode] | None = None,
              named_graphs: list[NamedNode] | None = None, base_iri: str | None = None) -> QueryResult:
        # The union default graph rule: the union of the named graphs is the default graph, unless the request
        # names its dataset (the protocol's graphs, or FROM in the text: in pyoxigraph the union flag would
        # override the query's own FROM).
        union = not default_graph and not named_graphs and not inspect_sparql(sparql).has_dataset
        try:
            return self._store.query(sparql, use_default_graph_as_union=union, base_iri=base_iri,
                                     prefixes=PREDECLARED, default_graph=list(default_graph or []) or None,
                                     named_graphs=list(named_graphs or []) or None)
        except SyntaxError as exc:
            raise SparqlSyntaxError("query", str(exc)) from exc

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        self._writable()
        try:
            self._store.update(sparql, base_iri=base_iri, prefixes=PREDECLARED)
        except SyntaxError as exc:
            raise SparqlSyntaxError("update", str(exc)) from exc

    def load(self, quads: Iterable[Quad]) -> None:
        self._writable()
        self._store.bulk_extend(quads)

    def named_graphs(self) -> list[NamedNode]:
        return [g for g in self._store.named_graphs() if isinstance(g, NamedNode)]

    def has_graph(self, graph: GraphName) -> bool:
        return isinstance(graph, DefaultGraph) or self._store.contains_named_graph(graph)

    def get_graph(self, graph: GraphName) -> Iterator[Triple]:
        return (q.triple for q in self._store.quads_for_pattern(None, None, None, graph))

    def put_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        created = super().put_graph(graph, triples)
        if created and isinstance(graph, NamedNode):
            self._store.add_graph(graph)  # an empty PUT still creates the graph
        return created

    def post_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        self._writable()
        created = not self.has_graph(graph)
        if created and isinstance(graph, NamedNode):
            self._store.add_graph(graph)
        self._store.extend([Quad(t.subject, t.predicate, t.object, graph) for t in triples])
        return created

    def dump(self, fmt: RdfFormat) -> bytes:
        if fmt.supports_datasets:
            return self._store.dump(format=fmt) or b""
        return serialize_result(self.query(queries.prepare("store_union_graph")), fmt)

    def __len__(self) -> int:
        return len(self._store)

    def pin(self, fd: int) -> None:
        """Hold ``fd`` (a shared lock on this generation's readers marker) until :meth:`close`."""
        self._pins.append(fd)

    def __del__(self) -> None:
        for fd in getattr(self, "_pins", ()):  # a handle dropped without close(): unpin its generation
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        if not hasattr(self, "_store"):
            return
        try:
            if not self.read_only and self.path is not None:
                self._store.flush()
        finally:
            del self._store
            while self._pins:
                os.close(self._pins.pop())


class RemoteStore(Store):
    """A SPARQL 1.1 server reached over HTTP: Query, Update and the Graph Store Protocol.

    ``query_url`` is the query endpoint; the update and graph-store endpoints default to oxigraph's layout
    (``.../query`` -> ``.../update`` and ``.../store``) and can be given explicitly for other servers. Queries are
    sent as form-encoded POSTs (the variant every server implements), asking for SPARQL JSON results or, for
    CONSTRUCT/DESCRIBE, N-Triples.

    Virtuoso is recognised by its ``Server`` header. Its endpoints are laid out differently (queries and updates
    both at ``/sparql``, the Graph Store at ``/sparql-graph-crud``), used unless given explicitly; and its default
    dataset also holds its own system graphs (``virtrdf:``, ``ldp:``, ...), so the store confines itself to lskg's
    graphs (IRIs under ``GRAPH``): ``named_graphs``, ``dump``, ``len`` and ``replace_dataset`` (which drops lskg's
    graphs one by one instead of ``DROP ALL``) see only those. See docs/design.md.
    """

    VIRTUOSO_GSP_PATH = "/sparql-graph-crud"

    def __init__(self, query_url: str, *, update_url: str | None = None, gsp_url: str | None = None,
                 read_only: bool = True, timeout: float = 60.0) -> None:
        self.query_url = query_url
        self._base = re.sub(r"/(query|sparql)/?$", "", query_url)
        self._explicit = (update_url, gsp_url)
        self.update_url = update_url or f"{self._base}/update"
        self.gsp_url = gsp_url or f"{self._base}/store"
        self.read_only = read_only
        self._server: str | None = None
        self._http = httpx.Client(timeout=timeout)

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._send("POST", url, **kwargs)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the SPARQL server at {url}: {exc}",
                             hint="is the server running? check --store / LSKG_STORE") from exc
        if self._server is None:
            self._recognise(response.headers.get("server", ""))
        if response.status_code == 400:
            raise QueryError(f"the server refused the request: {response.text.strip()[:500]}")
        if response.status_code >= 300:
            raise StoreError(f"{url} answered HTTP {response.status_code}: {response.text.strip()[:500]}")
        return response

    def _recognise(self, server: str) -> None:
        self._server = server
        if self.is_virtuoso:
            update_url, gsp_url = self._explicit
            self.update_url = update_url or self.query_url
            self.gsp_url = gsp_url or f"{self._base}{self.VIRTUOSO_GSP_PATH}"

    def _endpoint(self, kind: str) -> str:
        """The update or graph-store URL, once the server is known (its layout may depend on it)."""
        if self._server is None:
            self.query("ASK {}")
        return self.update_url if kind == "update" else self.gsp_url

    @property
    def is_virtuoso(self) -> bool:
        """Whether the server is Virtuoso (asks it once, with ``ASK {}``, if no request has been made yet)."""
        if self._server is None:
            self.query("ASK {}")
        return "virtuoso" in (self._server or "").lower()

    def _ours(self, graph: NamedNode | BlankNode | DefaultGraph) -> bool:
        """Whether a graph is lskg's (on Virtuoso, whose default dataset also holds its system graphs)."""
        from lskg.ontology.terms import GRAPH

        return not self.is_virtuoso or isinstance(graph, NamedNode) and graph.value.startswith(GRAPH.iri)

    @staticmethod
    def _prologue(sparql: str, base_iri: str | None) -> str:
        """The request with BASE and the predeclared prefixes it does not declare itself written before it (a
        server has no predeclared prefixes); IRIs written by pyoxigraph."""
        own = {m.group(1) for m in _PREFIX_DECL.finditer(sparql)}
        missing = "".join(f"PREFIX {p}: {NamedNode(iri)}\n" for p, iri in PREDECLARED.items() if p not in own)
        return (f"BASE {NamedNode(base_iri)}\n" if base_iri else "") + missing + sparql

    def query(self, sparql: str, *, default_graph: list[NamedNode] | None = None,
              named_graphs: list[NamedNode] | None = None, base_iri: str | None = None) -> QueryResult:
        form: list[tuple[str, str]] = [("query", self._prologue(sparql, base_iri))]
        form += [("default-graph-uri", g.value) for g in default_graph or []]
        form += [("named-graph-uri", g.value) for g in named_graphs or []]
        graph_result = inspect_sparql(sparql).form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph_result else "application/sparql-results+json"
        response = self._post(self.query_url, content=urllib.parse.urlencode(form).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        ctype = response.headers.get("content-type", "").split(";")[0].strip()
        if ctype == "application/n-triples" or graph_result and ctype == "text/plain":
            return decode(response.content, "application/n-triples")
        return decode(response.content, "application/sparql-results+json")

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        self._writable()
        self._post(self._endpoint("update"), content=self._prologue(sparql, base_iri).encode(),
                   headers={"Content-Type": "application/sparql-update"})

    def _ours_only(self, graph: GraphName) -> None:
        if isinstance(graph, DefaultGraph) and self.is_virtuoso:
            raise QueryError("Virtuoso's default graph holds its own system data: lskg reads and writes named "
                             "graphs only there", hint="name a graph (?graph=IRI)")

    def has_graph(self, graph: GraphName) -> bool:
        """A named graph exists when it holds a triple (a SPARQL server need not keep empty graphs)."""
        self._ours_only(graph)
        return super().has_graph(graph)

    def get_graph(self, graph: GraphName) -> list[Triple]:
        self._ours_only(graph)
        if isinstance(graph, NamedNode):
            result = self.query(queries.prepare("api_graph_get"), default_graph=[graph])
            return result if isinstance(result, list) else []
        # The default graph itself (a query would see the union): the Graph Store Protocol's GET.
        response = self._send("GET", self._endpoint("gsp"), params={"default": ""},
                              headers={"Accept": "application/n-triples"})
        return decode(response.content, "application/n-triples")  # type: ignore[return-value]

    def put_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        self._ours_only(graph)
        return super().put_graph(graph, triples)

    def post_graph(self, graph: GraphName, triples: Iterable[Triple]) -> bool:
        self._ours_only(graph)
        return super().post_graph(graph, triples)

    def delete_graph(self, graph: GraphName) -> bool:
        self._ours_only(graph)
        return super().delete_graph(graph)

    def load(self, quads: Iterable[Quad]) -> None:
        """Graph Store Protocol: POST each graph's triples as N-Triples."""
        self._writable()
        by_graph: dict[NamedNode | BlankNode | DefaultGraph, list[Triple]] = {}
        for q in quads:
            by_graph.setdefault(q.graph_name, []).append(q.triple)
        for graph, triples in by_graph.items():
            params = {"default": ""} if isinstance(graph, DefaultGraph) else {"graph": graph.value}
            self._post(self._endpoint("gsp"), params=params, content=ox.serialize(triples, format=RdfFormat.N_TRIPLES),
                       headers={"Content-Type": "application/n-triples"})

    def replace_dataset(self, quads: Iterable[Quad]) -> None:
        if not self.is_virtuoso:
            super().replace_dataset(quads)
            return
        # DROP ALL would take Virtuoso's system graphs with it: drop lskg's graphs, then insert, in one request.
        self._writable()
        by_graph: dict[NamedNode, list[str]] = {}
        for q in quads:
            if not isinstance(q.graph_name, NamedNode):
                raise StoreError("lskg writes every triple into a named graph; a default-graph quad cannot be "
                                 "stored apart from Virtuoso's own data")
            by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
        drops = [f"DROP SILENT GRAPH {g}" for g in {*self.named_graphs(), *by_graph}]
        inserts = [f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(lines) + "\n} }" for g, lines in by_graph.items()]
        self.update(" ;\n".join(drops + inserts))

    def named_graphs(self) -> list[NamedNode]:
        rows = self.select("store_named_graphs")
        return [r["g"] for r in rows if isinstance(r["g"], NamedNode) and self._ours(r["g"])]

    def dump(self, fmt: RdfFormat) -> bytes:
        if fmt.supports_datasets:
            quads = [Quad(r["s"], r["p"], r["o"], r["g"]) for r in self.select("store_all_quads")]
            return ox.serialize([q for q in quads if self._ours(q.graph_name)], format=fmt) or b""
        if self.is_virtuoso:
            triples = {Triple(r["s"], r["p"], r["o"]) for r in self.select("store_all_quads") if self._ours(r["g"])}
            return ox.serialize(sorted(triples, key=str), format=fmt) or b""
        return serialize_result(self.query(queries.prepare("store_union_graph")), fmt)

    def __len__(self) -> int:
        if self.is_virtuoso:
            return sum(int(r["n"].value) for r in self.select("store_graph_sizes") if self._ours(r["g"]))
        rows = self.select("store_quad_count")
        return int(rows[0]["n"].value)

    def close(self) -> None:
        self._http.close()


class StoreLockedError(StoreError):
    """Another process holds the store's writer lock (a build, an add, or a server with updates enabled)."""

    code = "LSKG-E203"


class StoreDir:
    """A store folder on disk: ``current`` -> ``data-<stamp>``, one writer at a time, readers that pin a generation.

    * ``lock()``: the writer lock (``fcntl.flock`` on ``<root>/.lock``). Builds, ``lskg add`` and servers with
      updates enabled hold it, so two writers never interleave.
    * ``rebuild()`` / ``update()``: write a new generation (empty, or a copy of the current one) in a fresh folder
      and swap ``current`` to it in one atomic step. ``current`` never points to a missing folder.
    * ``open_reader()``: a read-only handle on the current generation that holds a shared lock on
      ``<data-folder>.readers`` until closed. Old generations are deleted only when no reader holds them, so a
      server that still answers from one never sees it vanish; it switches by calling ``open_reader()`` again.
    """

    LOCK_FILE = ".lock"
    READERS_SUFFIX = ".readers"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._current = str(self.current)
        """``current`` as a string for ``generation``, which a server calls per request: making the Path costs
        more than the readlink."""

    @property
    def current(self) -> Path:
        return self.root / "current"

    def exists(self) -> bool:
        return self.current.exists()

    def generation(self) -> str:
        """The name of the data folder ``current`` points to (one readlink: cheap enough to poll per request)."""
        try:
            return os.path.basename(os.readlink(self._current))
        except OSError:
            raise self._missing() from None

    def _missing(self) -> StoreError:
        return StoreError(f"no graph at {self.root}", hint="run `lskg build` first (or pass --store)")

    # The writer lock.

    @contextlib.contextmanager
    def lock(self, *, wait: float | None = 0, holder: str = "") -> Iterator[None]:
        """Hold the store's exclusive writer lock. ``wait=0`` fails at once with :class:`StoreLockedError` naming
        the holder; a number waits that many seconds first; ``None`` waits for as long as it takes."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / self.LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            deadline = None if wait is None else time.monotonic() + max(wait, 0)
            delay = 0.01
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise self._locked_error(path, wait) from None
                    time.sleep(delay if deadline is None else min(delay, max(deadline - time.monotonic(), 0)))
                    delay = min(delay * 2, 0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{holder or 'lskg'}\n{os.getpid()}\n".encode(), 0)
            log.debug("%s: writer lock taken by %s", self.root, holder)
            try:
                with private(fd):  # helpers forked meanwhile must not keep the lock after this process dies
                    yield
            finally:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _locked_error(self, path: Path, wait: float | None) -> StoreLockedError:
        holder, pid = "another lskg process", ""
        with contextlib.suppress(OSError):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            if lines and lines[0].strip():
                holder = f"`{lines[0].strip()}`"
            if len(lines) > 1 and lines[1].strip().isdigit():
                pid = f" (pid {lines[1].strip()})"
        waited = f" (waited {wait:g} s)" if wait else ""
        return StoreLockedError(
            f"the store {self.root} is locked by {holder}{pid}{waited}",
            hint="wait for it to finish (or stop it) and try again, or pass --wait SECONDS to wait for the lock; "
                 "a server started with --allow-update holds the lock while it runs: write through its "
                 "/sparql update endpoint instead")

    # Readers.

    def open(self, *, read_only: bool = True) -> EmbeddedStore:
        """The current generation: read-only through :meth:`open_reader`; writable in place (the caller holds
        :meth:`lock`, and nothing else reads the folder while it writes)."""
        if read_only:
            return self.open_reader()
        if not self.exists():
            raise self._missing()
        return EmbeddedStore(self.current.resolve(), read_only=False)

    def open_reader(self) -> EmbeddedStore:
        """A read-only handle on the current generation that pins it (a shared lock on ``<folder>.readers``)
        until closed, so no writer deletes the folder underneath it."""
        for _ in range(100):
            name = self.generation()
            folder = self.root / name
            marker = folder.with_name(name + self.READERS_SUFFIX)
            fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a writer is deleting this very folder
                pinned = os.path.samestat(os.fstat(fd), os.stat(marker)) and folder.is_dir()
            except OSError:
                pinned = False
            if pinned:
                try:
                    store = EmbeddedStore(folder, read_only=True)
                except BaseException:
                    os.close(fd)
                    raise
                store.pin(fd)
                return store
            os.close(fd)
            if self.generation() == name and not folder.is_dir():
                raise StoreError(f"the store {self.root} is damaged: `current` points to {name}, which is missing",
                                 hint="rebuild it with `lskg build`")
            time.sleep(0.01)  # that generation was collected between readlink and flock: read `current` again
        raise StoreError(f"cannot pin a generation of {self.root}: `current` keeps moving",
                         hint="try again when the builds writing this store have finished")

    # Writers (the caller holds lock()).

    def _fresh_folder(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"data-{time.strftime('%Y%m%dT%H%M%S')}-", dir=self.root))

    @contextlib.contextmanager
    def rebuild(self) -> Iterator[EmbeddedStore]:
        """Yield an empty store in a fresh folder; on success it becomes ``current``, on failure it is deleted
        and ``current`` is untouched. The caller holds :meth:`lock`."""
        fresh = self._fresh_folder()
        with self._publish(fresh, EmbeddedStore(fresh)) as store:
            yield store

    @contextlib.contextmanager
    def update(self) -> Iterator[EmbeddedStore]:
        """Copy-on-write: yield a writable copy of the current generation; on success it becomes ``current``.
        Readers of the old generation never see a store mid-write. The caller holds :meth:`lock`.

        The copy is read through a read-only view of the current generation, which includes writes an in-place
        writer killed before its flush left in the log (a pyoxigraph ``backup()`` of a read-only view would
        silently drop those)."""
        fresh = self._fresh_folder()
        store = EmbeddedStore(fresh)
        try:
            with self.open_reader() as source:
                store.native.bulk_extend(source.native.quads_for_pattern(None, None, None, None))
        except BaseException:
            with contextlib.suppress(Exception):
                store.close()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        with self._publish(fresh, store) as store:
            yield store

    @contextlib.contextmanager
    def _publish(self, fresh: Path, store: EmbeddedStore) -> Iterator[EmbeddedStore]:
        try:
            yield store
            store.close()
        except BaseException:
            with contextlib.suppress(Exception):
                store.close()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        link = self.root / f".current-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(fresh.name)
        os.replace(link, self.current)  # the atomic step
        _fsync_dir(self.root)
        log.info("store %s now points at %s", self.root, fresh.name)
        self.collect()

    def collect(self) -> list[str]:
        """Delete the generations that are neither ``current`` nor pinned by a reader (old graphs, leftovers
        of killed builds). The caller holds :meth:`lock`. Returns the names deleted."""
        live = self.generation()
        deleted = []
        for path in sorted(self.root.glob("data-*")):
            if path.name.endswith(self.READERS_SUFFIX):  # a marker whose folder is gone (a reader raced a delete)
                base = path.name[: -len(self.READERS_SUFFIX)]
                if base != live and not (self.root / base).exists():
                    self._delete_unpinned(None, path)
            elif path.name != live and self._delete_unpinned(path, path.with_name(path.name + self.READERS_SUFFIX)):
                deleted.append(path.name)
        return deleted

    def _delete_unpinned(self, folder: Path | None, marker: Path) -> bool:
        """Delete ``folder`` and its readers marker if no reader holds the marker; False if one does."""
        try:
            fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("%s is still read by another process: kept until the next write", folder or marker)
                return False
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            marker.unlink(missing_ok=True)  # before unlocking: a reader waiting on it sees it gone and retries
            return True
        finally:
            os.close(fd)


def serialize_result(result: QueryResult, fmt: RdfFormat) -> bytes:
    """A CONSTRUCT's triples as a document."""
    if not isinstance(result, ox.QueryTriples | list):
        raise QueryError("not a CONSTRUCT or DESCRIBE result")
    return ox.serialize(result, format=fmt) or b""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_remote(location: str | Path | None) -> bool:
    """The one answer to "is this store a URL or a folder?": an http(s) URL is a SPARQL server."""
    return location is not None and str(location).startswith(("http://", "https://"))


def open_store(location: str | Path | Settings | None, *, write: bool | None = None, read_only: bool = True,
               update_url: str | None = None, gsp_url: str | None = None) -> Store:
    """A store handle from the settings (``open_store(settings, write=True)``: its store, update and graph store
    URLs), a folder, an http(s) URL, or None (a new in-memory store). ``write`` is the opposite of
    ``read_only``."""
    if write is not None:
        read_only = not write
    if location is not None and not isinstance(location, str | Path):
        settings = location
        location = settings.store
        update_url = update_url or settings.update_url
        gsp_url = gsp_url or settings.gsp_url
    if location is None:
        return EmbeddedStore(None)
    text = str(location)
    if is_remote(text):
        return RemoteStore(text, update_url=update_url, gsp_url=gsp_url, read_only=read_only)
    return StoreDir(text).open(read_only=read_only)
