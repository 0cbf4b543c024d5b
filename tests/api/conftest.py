"""Fixtures of the API tests: a store built from the tiny corpus, the app under TestClient, and the real app
served by uvicorn on a free 127.0.0.1 port for the third-party clients and the browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from lskg.api import create_app
from lskg.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"
TOKEN = "test-token"


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An on-disk store built (the real build) from the tiny corpus; shared by the API tests, never written."""
    from lskg.build import build

    root = tmp_path_factory.mktemp("api") / "store"
    corpus = Path(__file__).resolve().parents[1] / "data" / "tiny_corpus.jsonl"
    build([corpus], Settings(store=str(root)), check=False)
    return str(root)


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty on-disk store (for update tests)."""
    from lskg.kg.store import StoreDir

    root = tmp_path_factory.mktemp("api-rw") / "store"
    with StoreDir(root).rebuild():
        pass
    return str(root)


def api_settings(store: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"store": store, "query_workers": 2, "query_timeout": 30.0}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def client(api_store: str) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings(api_store))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def update_client(empty_store: str) -> Iterator[TestClient]:
    settings = api_settings(empty_store, allow_update=True, update_token=TOKEN)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app served by uvicorn in a thread of this process, on 127.0.0.1."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(api_store: str) -> Iterator[LiveServer]:
    with LiveServer(api_settings(api_store)) as server:
        yield server


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and other test artifacts (artifacts/api/ at the repository root, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def until_trained(client: Any, path: str, params: dict[str, Any] | None = None, *, timeout: float = 300) -> Any:
    """GET ``path`` until the recommender's background training is over (503 + Retry-After meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path, params=params)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        assert response.headers["retry-after"]
        time.sleep(0.5)
