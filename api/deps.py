"""Shared state of a running app (settings, the store, the query pool) and the FastAPI dependencies that hand it
to the routes. Created by the app's lifespan; nothing here exists at import time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from lskg.api.pool import InlinePool, ProcessPool
from lskg.kg.store import EmbeddedStore, Store, StoreDir, open_store
from lskg.settings import Settings

REFRESH_EVERY_S = 1.0
T = TypeVar("T")


@dataclass
class AppState:
    settings: Settings
    store: Store
    pool: ProcessPool | InlinePool
    store_dir: StoreDir | None = None
    live: Path | None = None
    """The data folder currently served (``current`` resolved), for embedded stores."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per-generation memo of derived, read-mostly answers (concept counts, stats)."""
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _checked: float = 0.0

    @classmethod
    async def open(cls, settings: Settings) -> AppState:
        timeout, queue = settings.query_timeout, settings.query_queue
        if settings.is_remote:
            store = open_store(settings.store, read_only=not settings.allow_update,
                               update_url=settings.update_url, gsp_url=settings.gsp_url)
            pool: ProcessPool | InlinePool = InlinePool(lambda: _remote_runner(store), timeout=timeout,
                                                        max_queue=queue)
            state = cls(settings, store, pool)
        else:
            store_dir = StoreDir(settings.store)
            live = store_dir.current.resolve()
            store = store_dir.open(read_only=not settings.allow_update)
            state = cls(settings, store, None, store_dir, live)  # type: ignore[arg-type]
            state.pool = ProcessPool(lambda: str(state.live), size=settings.query_workers, timeout=timeout,
                                     max_queue=queue)
        await state.pool.start()
        return state

    def refresh(self) -> None:
        """Follow a rebuild (``lskg build`` swapped ``current``): reopen the store, tell the workers. Checked at
        most once a second; a read-write store (updates enabled) is the only writer and never swaps."""
        if self.store_dir is None or self.settings.allow_update:
            return
        now = time.monotonic()
        if now - self._checked < REFRESH_EVERY_S:
            return
        self._checked = now
        live = self.store_dir.current.resolve()
        if live != self.live:
            old, self.store, self.live = self.store, EmbeddedStore(live, read_only=True), live
            self.changed()
            old.close()

    async def write(self, apply: Callable[..., T], *args: Any) -> T:
        """The single writer path (SPARQL Update and Graph Store writes): one write at a time, in a thread, then
        the memos are dropped and the query workers reopen the store before their next query."""
        async with self.write_lock:
            try:
                return await run_in_threadpool(apply, *args)
            finally:
                self.changed()

    def changed(self) -> None:
        """The data changed (an update, a rebuild): drop memos, workers reopen the store."""
        self.cache.clear()
        self.pool.reopen()

    @property
    def generation(self) -> int:
        return self.pool.generation

    async def close(self) -> None:
        await self.pool.close()
        self.store.close()


def _remote_runner(store: Store) -> Any:
    def run(job: Any) -> Any:
        from pyoxigraph import NamedNode

        from lskg.ontology.terms import sparql_prefixes

        return store.query(sparql_prefixes() + job.text, default_graph=[NamedNode(g) for g in job.default_graph] or None,
                           named_graphs=[NamedNode(g) for g in job.named_graphs] or None)

    return run


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.lskg
    state.refresh()
    return state


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    return state.store


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
