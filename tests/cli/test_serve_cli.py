"""`lskg serve` before it starts: a busy port is named with its process and a free --port, before the "serving"
line; requests are logged by default and --quiet silences them."""

from __future__ import annotations

import os
import socket

import pytest
from typer.testing import CliRunner

from lskg.cli import app

runner = CliRunner()


@pytest.fixture
def empty_store(tmp_path) -> str:
    from lskg.kg.store import StoreDir

    root = tmp_path / "store"
    with StoreDir(root).rebuild():
        pass
    return str(root)


def test_busy_port_fails_first_naming_the_process_and_a_free_port(empty_store, monkeypatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("started on a busy port"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--store", empty_store, "--port", str(port)])
    assert result.exit_code == 3, result.output
    assert "serving" not in result.output
    assert f"127.0.0.1:{port}" in result.output and f"process {os.getpid()}" in result.output
    assert "--port" in result.output


@pytest.mark.parametrize("args, logged", [([], True), (["--quiet"], False)])
def test_access_log_is_on_by_default(empty_store, monkeypatch, args, logged) -> None:
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **kwargs: seen.update(kwargs))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = runner.invoke(app, ["serve", "--store", empty_store, "--port", str(port), *args])
    assert result.exit_code == 0, result.output
    assert seen["access_log"] is logged and (seen["log_level"] == "info") is logged
