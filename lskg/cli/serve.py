"""``lskg serve``: the SPARQL endpoint, REST API and web page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lskg.cli._app import StoreOption, app, err, get_settings, out


def _read_token(path: Path) -> str:
    from lskg.errors import ConfigError

    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token file {path}: {exc.strerror}",
                          hint="pass a readable file holding the bearer token (one line)") from None
    if not token:
        raise ConfigError(f"the token file {path} is empty", hint="write the bearer token into it (one line)")
    return token


def _listener_pids(port: int) -> list[int]:
    """Processes listening on a TCP port, as far as /proc shows them (Linux; empty elsewhere or when the
    process belongs to another user)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                pids.append(int(proc.name))
        except OSError:
            continue
    return sorted(pids)


def check_port(host: str, port: int) -> None:
    """Fail before start-up, naming the process to stop or a --port to pass, when the port is taken."""
    import socket

    from lskg.errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: only a listener blocks
        try:
            probe.bind((host, port))
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    free = None
    for candidate in range(port + 1, port + 50):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, candidate))
                free = candidate
                break
            except OSError:
                continue
    holders = []
    for pid in _listener_pids(port):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        holders.append(f"process {pid} ({cmd[:80]})")
    who = f" by {', '.join(holders)}" if holders else ""
    hint = (f"stop it (kill {' '.join(h.split()[1] for h in holders)}) or " if holders else "stop the server using "
            "it or ") + (f"pass --port {free}" if free else "pass another --port")
    raise ConfigError(f"cannot serve on {host}:{port}: {reason}{who}", hint=hint)


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port (default 8000)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Query worker processes (default 2)")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds a SPARQL query or update may run "
                                                                     "(default 10)")] = None,
    allow_update: Annotated[bool, typer.Option("--allow-update", help="Accept SPARQL Update and Graph Store "
                                                                      "writes (needs a token)")] = False,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="File holding the bearer token for "
                                                                         "updates (or set LSKG_UPDATE_TOKEN)")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Public URL of the server, for absolute "
                                                                    "URLs (default: from the Host header)")] = None,
    token: Annotated[str | None, typer.Option("--token", hidden=True, help="Removed: visible in `ps`")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request (the access log is on by "
                                                              "default)")] = False,
) -> None:
    """Serve the graph: SPARQL 1.1 endpoint at /sparql, REST API (docs at /docs), web page at /.

    With --allow-update the server holds the store's writer lock while it runs (`lskg build` and `lskg add`
    then fail at once and say so): write through its /sparql update endpoint or /store instead.

    Examples:

      lskg serve

      lskg serve --store ./my-store --port 8080

      LSKG_UPDATE_TOKEN=s3cret lskg serve --allow-update   # then: curl -H 'Authorization: Bearer s3cret' ...

      lskg serve --allow-update --token-file /run/secrets/lskg-token
    """
    import uvicorn

    from lskg.api import create_app
    from lskg.errors import ConfigError
    from lskg.kg.store import StoreDir

    if token is not None:
        raise ConfigError("--token was removed: a token on the command line is visible to every user in `ps`",
                          hint="set LSKG_UPDATE_TOKEN in the environment, or pass --token-file FILE")
    settings = get_settings(store, host=host, port=port, query_workers=workers, query_timeout=timeout,
                            allow_update=allow_update or None, base_url=base_url,
                            update_token=_read_token(token_file) if token_file else None)
    if not settings.is_remote and not StoreDir(settings.store).exists():
        from lskg.errors import StoreError

        raise StoreError(f"no graph at {settings.store}", hint="run `lskg build` first (or pass --store)")
    if settings.allow_update and not settings.is_remote:  # a clear message now, not a failed start-up later
        with StoreDir(settings.store).lock(wait=0, holder="lskg serve --allow-update (starting)"):
            pass
    check_port(settings.host, settings.port)
    application = create_app(settings)
    out.print(f"lskg: serving {settings.store} on http://{settings.host}:{settings.port}/ "
              f"(SPARQL at /sparql, API docs at /docs)", highlight=False)
    if settings.allow_update:
        err.print("[yellow]SPARQL Update is enabled (bearer token required)[/]")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning" if quiet else "info",
                access_log=not quiet, timeout_graceful_shutdown=2)
