"""``lskg serve``: the SPARQL endpoint, REST API and web page."""

from __future__ import annotations

from typing import Annotated

import typer

from lskg.cli._app import StoreOption, app, err, get_settings, out


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port (default 8000)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Query worker processes (default 2)")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds a SPARQL query may run (default 10)")] = None,
    allow_update: Annotated[bool, typer.Option("--allow-update", help="Accept SPARQL Update (needs --token)")] = False,
    token: Annotated[str | None, typer.Option("--token", envvar="LSKG_UPDATE_TOKEN",
                                              help="Bearer token required for updates")] = None,
) -> None:
    """Serve the graph: SPARQL 1.1 endpoint at /sparql, REST API (docs at /docs), web page at /.

    Examples:

      lskg serve

      lskg serve --store ./my-store --port 8080

      lskg serve --allow-update --token s3cret     # then: curl -H 'Authorization: Bearer s3cret' ...
    """
    import uvicorn

    from lskg.api import create_app
    from lskg.kg.store import StoreDir

    settings = get_settings(store, host=host, port=port, query_workers=workers, query_timeout=timeout,
                            allow_update=allow_update or None, update_token=token)
    if not settings.is_remote and not StoreDir(settings.store).exists():
        from lskg.errors import StoreError

        raise StoreError(f"no graph at {settings.store}", hint="run `lskg build` first (or pass --store)")
    application = create_app(settings)
    out.print(f"lskg: serving {settings.store} on http://{settings.host}:{settings.port}/ "
              f"(SPARQL at /sparql, API docs at /docs)", highlight=False)
    if settings.allow_update:
        err.print("[yellow]SPARQL Update is enabled (bearer token required)[/]")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning", access_log=False)
