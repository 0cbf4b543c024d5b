"""Where SPARQL queries run: a pool of worker processes (hard deadline), or inline for stores a worker cannot open.

``ProcessPool``: ``size`` processes, each holding a read-only pyoxigraph store of the live store folder. A job is
written to a worker's socket at once when the worker is idle, or queued behind its running job when that job
started less than ``pipeline_s`` ago (pipelining: the worker starts the next job the moment it answers, without
waiting for the server's event loop to hand it over); otherwise the request waits, in a bounded queue (past
``max_queue`` waiting jobs, or when no worker frees up before the deadline, it is refused as overloaded). The
answer comes back as bytes already serialised. A watchdog kills the worker of a job still running at the deadline
(counted from when the worker began it) and starts a fresh one; the caller gets QueryTimeoutError (503) and a job
queued behind it goes to another worker. The event loop never blocks: the sockets are asyncio protocols.

``InlinePool``: for a remote SPARQL server or an in-memory store (and the writable store of an update-enabled
server when it is not on disk) the job runs in a thread. The deadline still answers the client with 503, but the
thread runs on until the store returns (a remote server enforces its own limits).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from lskg.api.errors import OverloadedError
from lskg.api.worker import _HEADER, QueryJob, Reply, Runner, evaluate
from lskg.errors import QueryTimeoutError, StoreError

log = logging.getLogger(__name__)


def _start_process(child: socket.socket) -> subprocess.Popen[bytes]:
    # A plain subprocess (not multiprocessing): it never re-imports the server's __main__ module, starts no
    # resource tracker, and holds nothing of the server but the socket.
    fd = child.fileno()
    return subprocess.Popen([sys.executable, "-m", "lskg.api.worker", str(fd)], pass_fds=(fd,),
                            stdin=subprocess.DEVNULL, close_fds=True)


class _Requeue(Exception):
    """The job was queued on a worker that was killed before it started: send it to another worker."""


class _Entry:
    __slots__ = ("future", "started")

    def __init__(self, future: asyncio.Future[Reply]) -> None:
        self.future = future
        self.started: float | None = None
        """When the worker began this job (the previous answer arrived), None while it waits behind another."""


class _Worker(asyncio.Protocol):
    """One worker process and its socket. Jobs are written at once (at most ``depth`` in flight, answered in
    order); ``data_received`` resolves them as the framed answers arrive, and the next job's clock starts."""

    def __init__(self, pool: ProcessPool, process: Any) -> None:
        self.pool = pool
        self.process = process
        self.transport: asyncio.Transport | None = None
        self.inflight: collections.deque[_Entry] = collections.deque()
        self.buffer = bytearray()
        self.dead = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def submit(self, data: bytes, entry: _Entry) -> None:
        if not self.inflight:
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
            entry = self.inflight.popleft()
            if self.inflight:
                self.inflight[0].started = time.monotonic()
            if not entry.future.done():
                entry.future.set_result(reply)
            self.pool._freed(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.dead:  # the process died on its own (out of memory?)
            self.pool._replace(self, StoreError("the query worker stopped unexpectedly (out of memory?)",
                                                hint="retry; if it happens again, narrow the query"))

    def fail(self, head: BaseException) -> None:
        """Kill the process; the running job gets ``head``, the jobs queued behind it go to other workers."""
        self.dead = True
        with contextlib.suppress(ProcessLookupError, OSError):
            self.process.kill()
        if self.transport is not None:
            self.transport.close()
        for n, entry in enumerate(self.inflight):
            if not entry.future.done():
                entry.future.set_exception(head if n == 0 else _Requeue())
        self.inflight.clear()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


class ProcessPool:
    """Worker processes fed over sockets, with pipelining: a worker whose current job started less than
    ``pipeline_s`` ago gets the next job queued behind it (written to its socket at once), so a worker never idles
    while the server hands over the next job. A job's time limit counts from when the worker begins it; a job
    queued behind one that is killed at its deadline is sent to another worker."""

    def __init__(self, path: Callable[[], str], *, size: int, timeout: float, max_queue: int, depth: int = 2,
                 pipeline_s: float = 0.05) -> None:
        self._path = path
        self.size = max(1, size)
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
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def _spawn(self) -> None:
        parent, child = socket.socketpair()
        try:
            process = await asyncio.to_thread(_start_process, child)
        finally:
            child.close()
        _, worker = await asyncio.get_running_loop().create_unix_connection(lambda: _Worker(self, process),
                                                                              sock=parent)
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
        """Kill the worker of a job past the time limit (checked every 50 ms; no timer per request)."""
        while not self._closed:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.inflight and (started := worker.inflight[0].started) is not None \
                        and now - started > self.timeout:
                    self._replace(worker, QueryTimeoutError(
                        f"the query ran longer than this endpoint's limit of {self.timeout:g} s and was stopped",
                        hint="add LIMIT, narrow the patterns, or avoid unconnected patterns (cartesian products)"))

    def reopen(self) -> None:
        """The store changed (an update, or a rebuild swapped the folder): workers reopen it on their next job."""
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

    async def run(self, job: QueryJob) -> Reply:
        if self._queued() >= self.max_queue:
            raise OverloadedError(f"{self._queued()} queries are already waiting for this endpoint",
                                  hint="retry in a few seconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        data = pickle.dumps((self.generation, self._path(), job), protocol=pickle.HIGHEST_PROTOCOL)
        data = _HEADER.pack(len(data)) + data
        while True:
            worker = await self._acquire(deadline)
            entry = _Entry(loop.create_future())
            worker.submit(data, entry)
            try:
                return await entry.future
            except _Requeue:  # it never ran: its wait starts over (worst case about twice the time limit)
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

    @property
    def alive(self) -> int:
        return sum(1 for w in self._workers if w.process.poll() is None)


class InlinePool:
    def __init__(self, runner: Callable[[], Runner], *, timeout: float, max_queue: int) -> None:
        self._runner = runner
        self.timeout = timeout
        self.max_queue = max_queue
        self.generation = 0
        self._running = 0
        self.replaced = 0
        self.size = 0

    async def start(self) -> None:
        pass

    def reopen(self) -> None:
        self.generation += 1

    async def run(self, job: QueryJob) -> Reply:
        if self._running >= self.max_queue:
            raise OverloadedError(f"{self._running} queries are already running", hint="retry in a few seconds")
        self._running += 1
        try:
            async with asyncio.timeout(self.timeout):
                return await run_in_threadpool(evaluate, self._runner(), job)
        except TimeoutError:
            raise QueryTimeoutError(f"the query ran longer than this endpoint's limit of {self.timeout:g} s",
                                    hint="add LIMIT or narrow the patterns") from None
        finally:
            self._running -= 1

    async def close(self) -> None:
        pass
