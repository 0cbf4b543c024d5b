"""Fixtures of the security tests: a loopback canary (a TCP listener on 127.0.0.1 that must receive no
connection), a read-only server and an update-enabled server, each on its own store built from the tiny corpus."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lskg.settings import Settings
from tests.api.conftest import TOKEN, LiveServer, api_settings

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny_corpus.jsonl"


class Canary:
    """A TCP listener on 127.0.0.1 that counts the connections made to it (there must be none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def seen(self, settle: float = 0.2) -> int:
        time.sleep(settle)
        return self.connections

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


def build_store(root: Path) -> str:
    from lskg.build import build

    build([TINY], Settings(store=str(root)), check=False)
    return str(root)


@pytest.fixture(scope="module")
def ro_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("sec-ro") / "store")


@pytest.fixture(scope="module")
def ro_server(ro_store: str) -> Iterator[LiveServer]:
    with LiveServer(api_settings(ro_store, query_timeout=5.0)) as server:
        yield server


@pytest.fixture(scope="module")
def rw_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("sec-rw") / "store")


@pytest.fixture(scope="module")
def rw_server(rw_store: str) -> Iterator[LiveServer]:
    with LiveServer(api_settings(rw_store, allow_update=True, update_token=TOKEN, query_timeout=3.0)) as server:
        yield server


AUTH = {"Authorization": f"Bearer {TOKEN}"}
