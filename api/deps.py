"""Shared state of a running app (settings, the query pool, the store seen through it, the recommender's training)
and the FastAPI dependencies that hand it to the routes. Created by the app's lifespan; nothing here exists at
import time.

The server process never opens an embedded store itself: every read (SPARQL, REST, Graph Store) and every write
runs in the worker processes (``lskg.api.pool``). ``state.store`` is a :class:`PoolStore`, the ``Store``
interface over the pool, for the REST routes and the recommender.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import Depends, Request

from lskg.api.pool import InlinePool, ProcessPool
from lskg.api.worker import Job, Limits, QueryJob, Reply
from lskg.errors import QueryError, StoreError
from lskg.kg.sparql_text import inspect_sparql
from lskg.kg.store import Store, StoreDir, open_store
from lskg.settings import Settings

log = logging.getLogger(__name__)
TRUSTED_MAX_ROWS = 10_000_000
TRUSTED_MAX_BYTES = 2**31


class PoolStore(Store):
    """The ``Store`` interface over the query pool, for code of the server that reads the graph (REST routes, the
    recommender's snapshot). Call it from a thread (FastAPI runs sync routes in one), never from the event loop."""

    def __init__(self, pool: ProcessPool, loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.loop = loop
        self.read_only = True  # writes go through AppState.write (SPARQL Update, Graph Store), not here

    def call(self, job: Job) -> Reply:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError("PoolStore is called from the event loop; call it from a thread (a sync route)")
        return asyncio.run_coroutine_threadsafe(self.pool.run(job), self.loop).result()

    def query(self, sparql: str, *, default_graph: list[ox.NamedNode] | None = None,
              named_graphs: list[ox.NamedNode] | None = None) -> Any:
        job = QueryJob(text=sparql, default_graph=tuple(g.value for g in default_graph or ()),
                       named_graphs=tuple(g.value for g in named_graphs or ()),
                       results_format=("JSON", "application/sparql-results+json"),
                       graph_format=("N_TRIPLES", "application/n-triples"), max_rows=TRUSTED_MAX_ROWS,
                       max_bytes=TRUSTED_MAX_BYTES, trusted=True, has_dataset=inspect_sparql(sparql).has_dataset)
        reply = self.call(job)
        if reply[0] != "ok":
            raise (QueryError if reply[0] in ("syntax", "bad_request") else StoreError)(
                f"the graph could not be read: {reply[1]}")
        _, media, body, _rows = reply
        if media == "application/n-triples":
            return list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

    def update(self, sparql: str) -> None:
        self._writable()

    def load(self, quads: Iterable[ox.Quad]) -> None:
        self._writable()

    def named_graphs(self) -> list[ox.NamedNode]:
        return [r["g"] for r in self.select("store_named_graphs") if isinstance(r["g"], ox.NamedNode)]

    def dump(self, fmt: ox.RdfFormat) -> bytes:
        raise StoreError("the API does not dump its store", hint="use /store?graph=... or lskg export")

    def __len__(self) -> int:
        return int(self.select("store_quad_count")[0]["n"].value)


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

    @classmethod
    async def open(cls, settings: Settings) -> AppState:
        timeout, queue = settings.query_timeout, settings.query_queue
        limits = Limits(max_bytes=settings.max_query_bytes, max_depth=settings.max_query_depth,
                        memory_mib=settings.worker_memory_mib)
        if settings.is_remote:
            remote = open_store(settings, write=settings.allow_update)
            pool: ProcessPool | InlinePool = InlinePool(_remote_runner(remote), remote.update, timeout=timeout,
                                                        max_queue=queue, limits=limits)
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
        try:
            await state.pool.start()
        except BaseException:
            state.resources.close()
            raise
        return state

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

    async def close(self) -> None:
        if self.training is not None:
            self.training.stop()
        await self.pool.close()
        if not isinstance(self.store, PoolStore):
            self.store.close()
        self.resources.close()


def _remote_runner(store: Store) -> Any:
    def run(job: Any, has_dataset: bool) -> Any:
        from lskg.ontology.terms import sparql_prefixes

        return store.query(sparql_prefixes() + job.text,
                           default_graph=[ox.NamedNode(g) for g in job.default_graph] or None,
                           named_graphs=[ox.NamedNode(g) for g in job.named_graphs] or None)

    return run


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.lskg
    state.refresh()
    return state


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    return state.store


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
