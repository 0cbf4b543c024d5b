"""Where SPARQL queries run: a pool of worker processes (hard deadline), or inline for stores a worker cannot open.

``ProcessPool``: ``size`` processes, each holding a read-only pyoxigraph store of the live store folder. A request
waits for an idle worker (a bounded queue: past ``max_queue`` waiting requests, or when no worker frees up before
the deadline, it is refused as overloaded), the job goes over a socket, and the answer comes back as bytes already
serialised. A query still running at the deadline has its worker killed and replaced; the caller gets
QueryTimeoutError (503). The event loop never blocks: sockets are read with asyncio streams.

``InlinePool``: for a remote SPARQL server or an in-memory store (and the writable store of an update-enabled
server when it is not on disk) the job runs in a thread. The deadline still answers the client with 503, but the
thread runs on until the store returns (a remote server enforces its own limits).
"""

from __future__ import annotations

import asyncio
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


class _Worker:
    def __init__(self, process: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer

    async def call(self, message: tuple[int, str, QueryJob]) -> Reply:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(_HEADER.pack(len(data)) + data)
        await self.writer.drain()
        (size,) = _HEADER.unpack(await self.reader.readexactly(_HEADER.size))
        return pickle.loads(await self.reader.readexactly(size))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            self.process.kill()
        self.writer.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


class ProcessPool:
    def __init__(self, path: Callable[[], str], *, size: int, timeout: float, max_queue: int) -> None:
        self._path = path
        self.size = max(1, size)
        self.timeout = timeout
        self.max_queue = max_queue
        self.generation = 0
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._waiting = 0
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.replaced = 0

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def _spawn(self) -> None:
        parent, child = socket.socketpair()
        try:
            process = await asyncio.to_thread(_start_process, child)
        finally:
            child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=1 << 20)
        worker = _Worker(process, reader, writer)
        if self._closed:
            worker.kill()
            return
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def _replace(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()
        self.replaced += 1
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._spawn())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def reopen(self) -> None:
        """The store changed (an update, or a rebuild swapped the folder): workers reopen it on their next job."""
        self.generation += 1

    async def run(self, job: QueryJob) -> Reply:
        if self._waiting >= self.max_queue:
            raise OverloadedError(f"{self._waiting} queries are already waiting for this endpoint",
                                  hint="retry in a few seconds")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.timeout):
                worker = await self._idle.get()
        except TimeoutError:
            raise OverloadedError(f"no query worker became free within {self.timeout:g} s",
                                  hint="the endpoint is busy; retry in a few seconds") from None
        finally:
            self._waiting -= 1
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                reply = await worker.call((self.generation, self._path(), job))
        except TimeoutError:
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query ran longer than this endpoint's limit of {self.timeout:g} s and was stopped",
                hint="add LIMIT, narrow the patterns, or avoid unconnected patterns (cartesian products)") from None
        except BaseException as exc:  # the worker died (or the request was cancelled mid-answer): replace it
            self._replace(worker)
            if isinstance(exc, ConnectionError | asyncio.IncompleteReadError | EOFError):
                raise StoreError("the query worker stopped unexpectedly (out of memory?)",
                                 hint="retry; if it happens again, narrow the query") from exc
            raise
        self._idle.put_nowait(worker)
        log.debug("query done in %.1f ms", (time.monotonic() - started) * 1000)
        return reply

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._all):
            worker.kill()
        self._all.clear()

    @property
    def alive(self) -> int:
        return sum(1 for w in self._all if w.process.poll() is None)


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
