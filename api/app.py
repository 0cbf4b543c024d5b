"""``create_app(settings)``: the FastAPI application (SPARQL endpoint, REST API, web page).

Nothing is created at import time: the lifespan opens the store and starts the query workers, and closes them.

    uvicorn --factory "lskg.api.app:app_from_env"        # settings from LSKG_* variables
    lskg serve --store lskg-store                         # the same, from the command line
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from lskg import __version__
from lskg.api import errors
from lskg.api.deps import AppState
from lskg.api.routes import ask, concepts, health, ontology, pages, recommend, sparql, store, studies
from lskg.api.routes.sparql import host_refused
from lskg.errors import ConfigError
from lskg.settings import Settings

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """The knowledge graph of deep learning for potential-landslide identification.

* **/sparql**: a standard SPARQL 1.1 endpoint (any SPARQL tool works against it).
* **/store**: the SPARQL 1.1 Graph Store HTTP Protocol (reads open; writes only with updates enabled + token).
* **REST**: studies with their facts and evidence sentences, ontology concepts, statistics, model
  recommendations for a context, research gaps, plain-English questions (`/ask`).
* **/**: the web page.

Errors of the REST endpoints share one JSON shape: `{"error": {"code", "message", "hint"}, "status"}`."""


def create_app(settings: Settings) -> FastAPI:
    if settings.allow_update and not settings.update_token:
        raise ConfigError("updates are enabled but no update token is set",
                          hint="set LSKG_UPDATE_TOKEN, or pass --token-file FILE")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await AppState.open(settings)
        app.state.lskg = state
        log.info("serving %s with %d query workers", settings.store, state.pool.size)
        try:
            yield
        finally:
            await state.close()

    app = App(title="lskg", version=__version__, description=DESCRIPTION, lifespan=lifespan,
              responses={}, docs_url=None, redoc_url=None)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"],
                       allow_headers=["*"], expose_headers=["Retry-After", "Content-Type"], max_age=3600)
    errors.install(app)

    app.add_middleware(CheckedHost)
    for module in (sparql, store, studies, concepts, recommend, ask, ontology, pages, health):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _swagger_ui(app)
    return app


class App(FastAPI):
    """The FastAPI application, which hands each HTTP request to ``LookupShortcut`` before its own middleware
    stack: a plain GET point lookup is answered there (Host checked as ``CheckedHost`` does), anything else here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shortcut = sparql.LookupShortcut(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not await self.shortcut(scope, receive, send):
            await super().__call__(scope, receive, send)


class CheckedHost:
    """Absolute URLs (the page's script links, the service description, Location headers) are built from the Host
    header unless ``base_url`` is set: a Host that is not hostname[:port] is refused. A plain ASGI middleware: no
    task or stream per request (``@app.middleware("http")`` costs about 0.35 ms CPU per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if host_refused(next((value for name, value in scope["headers"] if name == b"host"), None)):
                response = PlainTextResponse("the Host header must be a hostname or an address, with an optional "
                                             "port\n", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _swagger_ui(app: FastAPI) -> None:
    """``/docs``: Swagger UI served from the ``swagger-ui-bundle`` package's files (no CDN)."""
    import swagger_ui_bundle

    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="lskg API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon-32x32.png")


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from the environment."""
    return create_app(Settings())
