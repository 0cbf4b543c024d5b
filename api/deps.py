"""Shared state of a running app (settings, the query pool, the store seen through it, the recommender's training)
and the FastAPI dependencies that hand it to the routes. Created by the app's lifespan; nothing here exists at
import time.

Every read (SPARQL, REST, Graph Store) and every write runs in the worker processes (``lskg.api.pool``), but
for point lookups, which a read-only server answers on its own read-only handle (``lskg.api.lookup``).
``state.store`` is a :class:`PoolStore`, the ``Store`` interface over the pool, for the REST routes and the
recommender.

* Read-only server: N read-only workers. Before each request the server reads ``StoreDir.generation()`` (one
  readlink); when a build or ``lskg add`` has swapped ``current``, the memos are dropped and the workers open the
  new generation on their next job.
* Server with updates enabled: it holds ``StoreDir.lock()`` for its whole life (a build or an add fails at once
  with a message naming the server), and one read-write worker answers queries and updates in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from lskg.api.pool import InlinePool, ProcessPool
from lskg.api.worker import DatasetJob, GraphJob, Job, Kind, Limits, QueryJob, Reply
from lskg.errors import QueryError, StoreError
from lskg.kg.rdf import GraphName, NamedNode, Quad, QueryResult, RdfFormat, Triple, decode
from lskg.kg.store import DatasetDescription, Store, StoreDir, open_store
from lskg.settings import Settings

log = logging.getLogger(__name__)
TRUSTED_MAX_ROWS = 10_000_000
TRUSTED_MAX_BYTES = 2**31
_N_TRIPLES = ("N_TRIPLES", "application/n-triples")


class PoolStore(Store):
    """The ``Store`` interface over the query pool, for code of the server that reads the graph (REST routes, the
    recommender's snapshot). Call it from a thread (FastAPI runs sync routes in one), never from the event loop."""

    def __init__(self, pool: ProcessPool, loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.loop = loop
        self.read_only = True  # writes go through AppState.write (SPARQL Update, Graph Store), not here

    def call(self, job: Job) -> Reply:
        """Run a job in the pool; an error reply raises (QueryError for a bad request, else StoreError)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError("PoolStore is called from the event loop; call it from a thread (a sync route)")
        reply = asyncio.run_coroutine_threadsafe(self.pool.run(job), self.loop).result()
        if not reply.ok:
            raise (QueryError if reply.kind in (Kind.SYNTAX, Kind.BAD_REQUEST) else StoreError)(
                f"the graph could not be read: {reply.message}")
        return reply

    def query(self, sparql: str, *, default_graph: list[NamedNode] | None = None,
              named_graphs: list[NamedNode] | None = None, base_iri: str | None = None) -> QueryResult:
        reply = self.call(QueryJob(
            text=sparql, default_graph=tuple(g.value for g in default_graph or ()),
            named_graphs=tuple(g.value for g in named_graphs or ()), base_iri=base_iri,
            results_format=("JSON", "application/sparql-results+json"), graph_format=_N_TRIPLES,
            max_rows=TRUSTED_MAX_ROWS, max_bytes=TRUSTED_MAX_BYTES, trusted=True))
        return decode(reply.body, reply.media_type)

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        self._writable()

    def load(self, quads: Iterable[Quad]) -> None:
        self._writable()

    def named_graphs(self) -> list[NamedNode]:
        return list(self.dataset().named_graphs)

    def dataset(self) -> DatasetDescription:
        description: DatasetDescription = self.call(DatasetJob()).value
        return description

    def has_graph(self, graph: GraphName) -> bool:
        return bool(self.call(GraphJob("exists", _iri(graph))).value)

    def get_graph(self, graph: GraphName) -> list[Triple]:
        reply = self.call(GraphJob("get", _iri(graph), graph_format=_N_TRIPLES, max_rows=TRUSTED_MAX_ROWS,
                                   max_bytes=TRUSTED_MAX_BYTES))
        return decode(reply.body, reply.media_type)  # type: ignore[return-value]

    def dump(self, fmt: RdfFormat) -> bytes:
        raise StoreError("the API does not dump its store", hint="use /store?graph=... or lskg export")

    def __len__(self) -> int:
        return int(self.select("store_quad_count")[0]["n"].value)


def _iri(graph: GraphName) -> str | None:
    return graph.value if isinstance(graph, NamedNode) else None


@dataclass
class AppState:
    settings: Settings
    store: Store
    pool: ProcessPool | InlinePool
    store_dir: StoreDir | None = None
    live: str | None = None
    """The generation (data folder name) served, for embedded stores."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per-generation memo of derived, read-mostly answers (concept counts, stats)."""
    resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """What the server holds for its life: the store's writer lock when updates are enabled."""
    training: Any = None
    """The recommender's background training (``lskg.api.training.Training``), created on first use."""
    graphs: Any = None
    """Snapshots and loaded recommenders by graph fingerprint (``lskg.gnn.service.GraphCache``); use
    ``graph_cache()``."""
    warming: threading.Thread | None = None
    """Loads the served generation's recommender beside start-up (``lskg.gnn.service.preload``)."""
    graphs_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    async def open(cls, settings: Settings) -> AppState:
        timeout, queue = settings.query_timeout, settings.query_queue
        limits = Limits(max_bytes=settings.max_query_bytes, max_depth=settings.max_query_depth,
                        memory_mib=settings.worker_memory_mib)
        if settings.is_remote:
            remote = open_store(settings, write=settings.allow_update)
            pool: ProcessPool | InlinePool = InlinePool(remote, timeout=timeout, max_queue=queue, limits=limits)
            state = cls(settings, remote, pool)
        else:
            store_dir = StoreDir(settings.store)
            resources = contextlib.ExitStack()
            if settings.allow_update:  # the only writer of this store while it runs
                resources.enter_context(store_dir.lock(wait=0, holder="lskg serve --allow-update"))
            try:
                live = store_dir.generation()
            except BaseException:
                resources.close()
                raise
            state = cls(settings, None, None, store_dir, live, resources=resources)  # type: ignore[arg-type]
            state.pool = ProcessPool(lambda: (str(store_dir.root), state.live or ""),
                                     size=settings.query_workers, timeout=timeout, max_queue=queue,
                                     limits=limits, writable=settings.allow_update)
            state.store = PoolStore(state.pool, asyncio.get_running_loop())
            state.warming = threading.Thread(target=state._preload, name="lskg-preload", daemon=True)
            state.warming.start()  # beside the workers' start
        try:
            await state.pool.start()
        except BaseException:
            state.resources.close()
            raise
        return state

    def _preload(self) -> None:
        """Load the recommender of the generation served, when ``lskg build`` saved its snapshot (no graph read,
        no training), so the first recommendation does not wait for the modules, the concept index or the model."""
        try:
            from lskg.api import training  # noqa: F401  (imported here, off the first request's path)
            from lskg.gnn import service

            with self.graphs_lock:
                self.graphs = self.graphs or service.GraphCache()
            if service.preload(self.store, self.settings, self.graphs, self.graph_version):
                log.info("recommender loaded for %s", self.live)
        except Exception:  # the first request then does the same work, and reports what fails
            log.warning("could not preload the recommender", exc_info=True)

    def graph_cache(self) -> Any:
        """The app's ``GraphCache``, once the start-up preload is done (a first request waits for it rather than
        doing the same work beside it)."""
        if self.warming is not None:
            self.warming.join()
        from lskg.gnn import service

        with self.graphs_lock:
            self.graphs = self.graphs or service.GraphCache()
        return self.graphs

    def refresh(self) -> None:
        """Follow a rebuild or an ``lskg add`` (``current`` moved): drop the memos; the workers open the new
        generation on their next job. One readlink per request. A server with updates enabled holds the writer
        lock, so nothing else moves ``current`` under it."""
        if self.store_dir is None or self.settings.allow_update:
            return
        try:
            live = self.store_dir.generation()
        except StoreError:
            return  # `current` is missing for a moment: keep serving the generation the workers hold
        if live != self.live:
            log.info("the store now points at %s (was %s): switching", live, self.live)
            self.live = live
            self.changed()

    async def write(self, job: Job) -> Reply:
        """The single writer path (SPARQL Update and Graph Store writes): the read-write worker applies it, in
        order with the queries; then the memos are dropped."""
        try:
            return await self.pool.run(job)
        finally:
            self.changed()

    def changed(self) -> None:
        """The data changed (an update, a rebuild): drop memos."""
        self.cache.clear()
        self.pool.reopen()

    @property
    def generation(self) -> int:
        return self.pool.generation

    @property
    def graph_version(self) -> str:
        """Which content the server answers from, known without reading the graph: the generation served (it never
        changes once built), plus the number of updates made through this server when it takes updates. A remote
        endpoint is told apart by its quad count (a change that keeps the count goes unnoticed until restart)."""
        if self.live is None:
            return f"{self.settings.store}#{len(self.store)}+{self.pool.generation}"
        return self.live if not self.settings.allow_update or not self.pool.generation else \
            f"{self.live}+{self.pool.generation}"

    async def close(self) -> None:
        if self.training is not None:
            self.training.stop()
        await self.pool.close()
        if not isinstance(self.store, PoolStore):
            self.store.close()
        self.resources.close()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.lskg
    state.refresh()
    return state


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    return state.store


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
