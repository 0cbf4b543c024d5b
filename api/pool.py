"""Where SPARQL requests run: a pool of worker processes (hard deadline), or inline for a remote SPARQL server.

``ProcessPool``: ``size`` processes (see ``lskg.api.worker``), each holding a handle on the live store generation
(read-only; or one read-write worker for a server with updates enabled). A job is written to a worker's socket
at once when the worker is idle, or queued behind its running job when that job started less than
``pipeline_s`` ago (pipelining: the worker starts the next job the moment it answers, without waiting for the
server's event loop to hand it over); otherwise the request waits, in a bounded queue (past ``max_queue`` waiting
jobs, or when no worker frees up before the deadline, it is refused as overloaded). The answer comes back as
bytes already serialised. A watchdog kills the worker of a job still running at the deadline (counted from when
the worker began it; updates included) and starts a fresh one; the caller gets QueryTimeoutError (503) and a job
queued behind it goes to another worker. A worker that dies on its own (out of memory, a crash in the engine)
costs only the request it was running, and a fresh worker starts: out of memory, the caller gets a 503; after a
crash the request is tried once more on another worker (it may have been handed to a worker that was already
dying), and crashing that one too, the caller gets a 400. The event loop never blocks: the sockets are asyncio protocols.

A read-only pool answers point lookups (``lskg.api.lookup``) itself, on its own read-only handle, before any of
this: the hand-off would cost more than the lookup.

``InlinePool``: for a remote SPARQL server the job runs in a thread (the guard included), through the same
``handle`` over the remote ``Store``. The deadline still answers the client with 503, but the thread runs on until
the remote server returns (it enforces its own limits).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import IO, Any

from starlette.concurrency import run_in_threadpool

from lskg.api.errors import OverloadedError, WorkerCrashedError, WorkerMemoryError
from lskg.api.lookup import Lookups
from lskg.api.worker import _HEADER, IDLE_S, Hello, Job, Limits, QueryJob, Reply, handle
from lskg.errors import LskgError, QueryTimeoutError, StoreError
from lskg.kg.store import Store

log = logging.getLogger(__name__)


def _start_process(child: socket.socket, limits: Limits, writable: bool,
                   stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    # A plain subprocess (not multiprocessing): it never re-imports the server's __main__ module, starts no
    # resource tracker, and holds nothing of the server but the socket. Its stderr goes to a temporary file that
    # tells, if it dies, whether it ran out of memory.
    # Few malloc arenas: each reserves 64 MiB of address space, which counts against the worker's memory limit.
    fd = child.fileno()
    return subprocess.Popen([sys.executable, "-m", "lskg.api.worker", str(fd), json.dumps(asdict(limits)),
                             "rw" if writable else "ro"], pass_fds=(fd,), stdin=subprocess.DEVNULL,
                            stderr=stderr, close_fds=True, env={**os.environ, "MALLOC_ARENA_MAX": "2"})


MEMORY_SIGNS = ("memory allocation", "MemoryError", "std::bad_alloc", "std::system_error", "Cannot allocate memory")
"""What a worker's last words say when it hit its address-space limit (Rust, Python, RocksDB's C++)."""


def _death(process: Any, stderr: IO[bytes], limits: Limits) -> LskgError:
    """What to tell the client whose request was running when its worker died on its own."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=1)
    tail = b""
    with contextlib.suppress(OSError, ValueError):
        stderr.seek(0, 2)
        stderr.seek(max(0, stderr.tell() - 65536))
        tail = stderr.read()
    text = tail.decode("utf-8", "replace")
    code = process.returncode
    if any(sign in text for sign in MEMORY_SIGNS) or "out of memory" in text.lower():
        log.warning("a query worker ran out of memory (%d MiB): %s", limits.memory_mib, text.strip()[-300:])
        return WorkerMemoryError(f"the request used more than this endpoint's limit of {limits.memory_mib} MiB "
                                 "and was stopped", hint="narrow the query, or add LIMIT")
    log.error("a query worker died (exit status %s): %s", code, text.strip()[:1500])
    return WorkerCrashedError(f"the request crashed the query engine (exit status {code}); it was not answered",
                              hint="simplify the request; the endpoint itself is unaffected")


class _Requeue(Exception):
    """Send the job to another worker: it was queued on a worker that was killed before it started, or
    (``crashed``) its worker crashed under it, which a job sent to a worker already dying but not yet reaped
    cannot tell from a crash it caused. A crashed job is tried once more; crashing a second worker, it is answered
    as the crash."""

    def __init__(self, *, crashed: bool = False) -> None:
        super().__init__()
        self.crashed = crashed


class _Entry:
    __slots__ = ("future", "started", "retry")

    def __init__(self, future: asyncio.Future[Reply], *, retry: bool) -> None:
        self.future = future
        self.started: float | None = None
        """When the worker began this job (the previous answer arrived), None while it waits behind another."""
        self.retry = retry
        """Whether a crash of its worker sends it to another worker (once) rather than to the client."""


class _Worker(asyncio.Protocol):
    """One worker process and its socket. Jobs are written at once (at most ``depth`` in flight, answered in
    order); ``data_received`` resolves them as the framed answers arrive, and the next job's clock starts."""

    def __init__(self, pool: ProcessPool, process: Any, stderr: IO[bytes]) -> None:
        self.pool = pool
        self.process = process
        self.stderr = stderr
        self.transport: asyncio.Transport | None = None
        self.inflight: collections.deque[_Entry] = collections.deque()
        self.buffer = bytearray()
        self.dead = False
        self.greeted = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def submit(self, data: bytes, entry: _Entry) -> None:
        if not self.inflight and self.greeted:  # a starting worker's clock starts when it is ready
            entry.started = time.monotonic()
        self.inflight.append(entry)
        assert self.transport is not None
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        header = _HEADER.size
        while len(buffer) >= header:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < header + size:
                break
            reply = pickle.loads(memoryview(buffer)[header:header + size])
            del buffer[:header + size]
            if not self.greeted:  # the first frame: how the worker is confined
                self.greeted = True
                self.pool.confinement = reply
                if self.inflight:
                    self.inflight[0].started = time.monotonic()
                if not self.ready.done():
                    self.ready.set_result(None)
                continue
            entry = self.inflight.popleft()
            if self.inflight:
                self.inflight[0].started = time.monotonic()
            if not entry.future.done():
                entry.future.set_result(reply)
            self.pool._freed(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(None)
        if not self.dead:  # the process died on its own (out of memory, a crash in the engine)
            self.pool._replace(self, _death(self.process, self.stderr, self.pool.limits))

    def fail(self, head: BaseException) -> None:
        """Kill the process; the running job gets ``head``, the jobs queued behind it go to other workers."""
        self.dead = True
        with contextlib.suppress(ProcessLookupError, OSError):
            self.process.kill()
        if self.transport is not None:
            self.transport.close()
        for n, entry in enumerate(self.inflight):
            if entry.future.done():
                continue
            if n > 0:
                entry.future.set_exception(_Requeue())
            elif isinstance(head, WorkerCrashedError) and entry.retry:
                entry.future.set_exception(_Requeue(crashed=True))
            else:
                entry.future.set_exception(head)
        self.inflight.clear()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.stderr.close()


class ProcessPool:
    """Worker processes fed over sockets, with pipelining: a worker whose current job started less than
    ``pipeline_s`` ago gets the next job queued behind it (written to its socket at once), so a worker never idles
    while the server hands over the next job. A job's time limit counts from when the worker begins it; a job
    queued behind one that is killed at its deadline is sent to another worker."""

    def __init__(self, key: Callable[[], tuple[str, str]], *, size: int, timeout: float, max_queue: int,
                 limits: Limits, writable: bool = False, depth: int = 2, pipeline_s: float = 0.05) -> None:
        self._key = key
        """(store root, generation name) the workers should read: they reopen when it changes."""
        self.limits = limits
        self.writable = writable
        self.lookups = None if writable else Lookups()
        """Point lookups answered in this process (``lskg.api.lookup``); None: every query goes to a worker."""
        self.confinement = Hello(network=None, memory_mib=None, pid=0, writable=writable)
        """What the latest worker reported: its network isolation and memory limit."""
        self.size = 1 if writable else max(1, size)
        self.timeout = timeout
        self.max_queue = max_queue
        self.depth = max(1, depth)
        self.pipeline_s = pipeline_s
        self.generation = 0
        self._workers: list[_Worker] = []
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._waiting = 0
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self.replaced = 0

    async def start(self) -> None:
        """Start the workers and wait (at most 60 s) until each has said how it is confined."""
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await asyncio.gather(*(w.ready for w in self._workers))
        if not self.confinement.network:
            log.warning("the query workers could not be cut off the network; SERVICE and LOAD are refused by the "
                        "parser only")
        else:
            log.info("query workers: %s, memory limit %s MiB", self.confinement.network,
                     self.confinement.memory_mib)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def _spawn(self) -> None:
        parent, child = socket.socketpair()
        stderr = tempfile.TemporaryFile()
        try:
            process = await asyncio.to_thread(_start_process, child, self.limits, self.writable, stderr)
        finally:
            child.close()
        _, worker = await asyncio.get_running_loop().create_unix_connection(
            lambda: _Worker(self, process, stderr), sock=parent)
        if self._closed:
            worker.fail(StoreError("the server is stopping"))
            return
        self._workers.append(worker)
        for _ in range(self.depth):
            self._wake()

    def _replace(self, worker: _Worker, head: BaseException) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
        worker.fail(head)
        self.replaced += 1
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._spawn())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _watch(self) -> None:
        """Kill the worker of a job past the time limit (checked every 50 ms; no timer per request). Every IDLE_S,
        the lookups' handle lets go of a generation ``current`` has moved past, as idle workers do."""
        release = time.monotonic() + IDLE_S
        while not self._closed:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if self.lookups is not None and now > release:
                self.lookups.release_if_stale()
                release = now + IDLE_S
            for worker in list(self._workers):
                if worker.inflight and (started := worker.inflight[0].started) is not None \
                        and now - started > self.timeout:
                    self._replace(worker, QueryTimeoutError(
                        f"the request ran longer than this endpoint's limit of {self.timeout:g} s and was stopped",
                        hint="add LIMIT, narrow the patterns, or avoid unconnected patterns (cartesian products)"))

    def reopen(self) -> None:
        """The data changed (an update through this server): memos keyed on the generation are dropped."""
        self.generation += 1

    def _pick(self) -> _Worker | None:
        """An idle worker, else one whose young job can take another behind it, else None."""
        best, now = None, time.monotonic()
        for worker in self._workers:
            queued = len(worker.inflight)
            if queued == 0:
                return worker
            if queued < self.depth and (best is None or queued < len(best.inflight)):
                started = worker.inflight[0].started
                if started is not None and now - started < self.pipeline_s:
                    best = worker
        return best

    def _freed(self, worker: _Worker) -> None:
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _queued(self) -> int:
        """Jobs waiting: for a worker, or on a worker behind its running job."""
        return self._waiting + sum(max(0, len(w.inflight) - 1) for w in self._workers)

    async def _acquire(self, deadline: float) -> _Worker:
        loop = asyncio.get_running_loop()
        first = True
        while True:
            if not self._waiters or not first:
                worker = self._pick()
                if worker is not None:
                    return worker
            waiter: asyncio.Future[None] = loop.create_future()
            if first:
                self._waiters.append(waiter)
            else:
                self._waiters.appendleft(waiter)
            first = False
            self._waiting += 1
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken just as it gave up: pass the free slot on
                if isinstance(exc, TimeoutError):
                    raise OverloadedError(f"no query worker became free within {self.timeout:g} s",
                                          hint="the endpoint is busy; retry in a few seconds") from None
                raise
            finally:
                self._waiting -= 1
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)

    async def run(self, job: Job, *, lookup: bool = False) -> Reply:
        """``job``'s reply; ``lookup``: the caller has recognised it as a point lookup (``is_lookup``), which is
        then not checked again."""
        if self.lookups is not None and isinstance(job, QueryJob):
            answered = self.lookups.answer(self._key(), job, recognised=lookup)
            if answered is not None:
                return answered
        if self._queued() >= self.max_queue:
            raise OverloadedError(f"{self._queued()} queries are already waiting for this endpoint",
                                  hint="retry in a few seconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        data = pickle.dumps((self._key(), job), protocol=pickle.HIGHEST_PROTOCOL)
        data = _HEADER.pack(len(data)) + data
        retry = True
        while True:
            worker = await self._acquire(deadline)
            entry = _Entry(loop.create_future(), retry=retry)
            worker.submit(data, entry)
            try:
                return await entry.future
            except _Requeue as requeued:  # its wait starts over (worst case about twice the time limit)
                retry = retry and not requeued.crashed
                deadline = loop.time() + self.timeout
                continue
            except asyncio.CancelledError:
                # the client went away: stop its running query (a job still queued is answered and dropped)
                if worker.inflight and worker.inflight[0] is entry and worker in self._workers:
                    self._replace(worker, StoreError("the request was cancelled"))
                raise

    async def close(self) -> None:
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._workers):
            worker.fail(StoreError("the server is stopping"))
        self._workers.clear()
        if self.lookups is not None:
            self.lookups.close()

    @property
    def alive(self) -> int:
        return sum(1 for w in self._workers if w.process.poll() is None)


class InlinePool:
    """A remote SPARQL server's jobs, in threads: the guard runs here (there is no local engine to crash), then
    the remote server evaluates."""

    def __init__(self, store: Store, *, timeout: float, max_queue: int, limits: Limits) -> None:
        self.store = store
        self.writable = not store.read_only
        self.timeout = timeout
        self.max_queue = max_queue
        self.limits = limits
        self.generation = 0
        self._running = 0
        self.replaced = 0
        self.size = 0
        self.confinement = Hello(network=None, memory_mib=None, pid=os.getpid(), writable=self.writable)
        self.lookups: Lookups | None = None
        """None: a remote store has no local handle to answer lookups from (``ProcessPool.lookups``)."""

    async def start(self) -> None:
        pass

    def reopen(self) -> None:
        self.generation += 1

    def _handle(self, job: Job) -> Reply:
        return handle(self.store, job, self.limits)

    async def run(self, job: Job) -> Reply:
        if self._running >= self.max_queue:
            raise OverloadedError(f"{self._running} queries are already running", hint="retry in a few seconds")
        self._running += 1
        try:
            async with asyncio.timeout(self.timeout):
                return await run_in_threadpool(self._handle, job)
        except TimeoutError:
            raise QueryTimeoutError(f"the request ran longer than this endpoint's limit of {self.timeout:g} s",
                                    hint="add LIMIT or narrow the patterns") from None
        finally:
            self._running -= 1

    async def close(self) -> None:
        pass
