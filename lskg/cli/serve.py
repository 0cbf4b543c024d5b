"""``lskg serve``: the SPARQL endpoint, REST API and web page."""

from __future__ import annotations

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
    application = create_app(settings)
    out.print(f"lskg: serving {settings.store} on http://{settings.host}:{settings.port}/ "
              f"(SPARQL at /sparql, API docs at /docs)", highlight=False)
    if settings.allow_update:
        err.print("[yellow]SPARQL Update is enabled (bearer token required)[/]")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=2)
