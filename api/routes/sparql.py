"""``/sparql``: the SPARQL 1.1 Protocol (query; update when enabled) and ``/sparql/check`` for the web page.

Errors here follow the protocol's convention, not the REST JSON shape: a status code and a plain-text message
(400 malformed or refused, 401/403 update auth, 405 method, 406 Accept, 413/414 too long, 415 media type,
503 timeout, overload or memory limit, with Retry-After).

This module reads the HTTP request only: the SPARQL text is pre-checked, parsed, guarded (SERVICE and LOAD
refused) and evaluated in the worker processes (``lskg.api.worker``), updates and the syntax check included; a
point lookup is answered in this process (``lskg.api.lookup``, through the pool).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from lskg.api.deps import AppState, get_state
from lskg.api.errors import retry_headers
from lskg.api.lookup import is_lookup
from lskg.api.pool import ProcessPool
from lskg.api.protocol import accepted_media, negotiate
from lskg.api.schemas import SyntaxCheck
from lskg.api.worker import CheckJob, DatasetJob, Kind, QueryJob, Reply, UpdateJob, Verdict
from lskg.errors import LskgError, QueryError
from lskg.kg.rdf import iri
from lskg.kg.store import DatasetDescription
from lskg.settings import Settings


class RequestRoute(APIRoute):
    """A route documented in the OpenAPI schema like any other, whose endpoint reads the ``Request`` itself and
    returns a ``Response``: FastAPI's per-request parameter solving is skipped (about 80 µs of CPU per request,
    measured)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


router = APIRouter(tags=["SPARQL"], route_class=RequestRoute)
"""The protocol's routes (``/sparql``)."""
checks = APIRouter(tags=["SPARQL"])
"""``/sparql/check``, with FastAPI's parameter validation and response model."""

ALLOW = "GET, HEAD, POST, OPTIONS"
FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

_DOC = """SPARQL 1.1 Protocol endpoint (https://www.w3.org/TR/sparql11-protocol/).

* `GET /sparql?query=...`, `POST` with `application/x-www-form-urlencoded` (`query=...`), or `POST` with
  `application/sparql-query` (the raw query). `default-graph-uri` / `named-graph-uri` (repeatable) set the dataset
  and override FROM / FROM NAMED; without them the default graph is the union of all named graphs.
* Results by content negotiation: SELECT/ASK as `application/sparql-results+json` (default), `+xml`, `text/csv`,
  `text/tab-separated-values`; CONSTRUCT/DESCRIBE as `text/turtle` (default), `application/n-triples`,
  `application/rdf+xml`, `application/ld+json`. `format=json|xml|csv|tsv|turtle|nt|json-ld` is honoured too.
* Limits: a request is at most `max_query_bytes` long and nests brackets at most `max_query_depth` deep (else
  400); a query or update runs at most `query_timeout` seconds (then 503) in a worker of at most
  `worker_memory_mib` MiB (else 503), returns at most `max_rows` rows (else 413); overload answers 503 with
  Retry-After. SERVICE and LOAD are refused (400), decided on a full parse; the workers have no network.
* Updates (`update=` or `application/sparql-update`) only when the server runs with updates enabled, with
  `Authorization: Bearer <token>`."""


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


def _error(exc: LskgError) -> PlainTextResponse:
    message = f"{exc.message}\nhint: {exc.hint}" if exc.hint else exc.message
    return _text(exc.http_status, message, retry_headers(exc))


def _media(request: Request) -> tuple[str, str | None]:
    """(media type, charset) of the request body."""
    header = request.headers.get("content-type", "")
    fields = [f.strip() for f in header.split(";")]
    charset = next((f.partition("=")[2].strip().strip('"').lower() for f in fields[1:]
                    if f.lower().startswith("charset=")), None)
    return fields[0].lower(), charset


class _Params:
    """Protocol parameters from the URL (and a form body): repeatable ones kept as lists."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in pairs:
            self.values.setdefault(key, []).append(value)

    def all(self, key: str) -> list[str]:
        return self.values.get(key, [])

    def one(self, key: str) -> str | None:
        values = self.all(key)
        if len(values) > 1:
            raise QueryError(f"the request has {len(values)} '{key}' parameters; the protocol allows one")
        return values[0] if values else None


HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?"
                  r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
"""A Host header this server accepts: a hostname, an IPv4 address or a bracketed IPv6 address, and a port."""


def host_refused(host: bytes | None) -> bool:
    """Whether the app refuses a request with this Host header (None: no header, as HTTP/1.0 may send)."""
    return host is not None and not HOST.fullmatch(host.decode("latin-1"))


def public_base(request: Request) -> str:
    """The server's own URL (no trailing slash): the configured ``base_url``, else from the Host header, which
    the app has already checked against ``HOST`` (see ``lskg.api.app``)."""
    settings: Settings = request.app.state.lskg.settings
    if settings.base_url:
        return settings.base_url.rstrip("/")
    host = request.headers.get("host") or "localhost"
    return f"{request.scope.get('scheme', 'http')}://{host}{request.scope.get('root_path', '')}"


def _base_iri(request: Request) -> str:
    """The endpoint's URL, the base IRI of relative IRIs in requests."""
    return public_base(request) + request.scope["path"]


ERROR_ANSWERS: dict[Kind, tuple[int, Callable[[str, str], str], dict[str, str] | None]] = {
    Kind.NOT_ACCEPTABLE: (406, lambda form, what: "none of the media types in Accept can carry this result; this "
                                                  f"endpoint sends {accepted_media(form)}", None),
    Kind.TOO_LARGE: (413, lambda message, what: f"{message}; add LIMIT (and OFFSET to page), or aggregate", None),
    Kind.SYNTAX: (400, lambda message, what: f"malformed SPARQL {what}: {message}", None),
    Kind.REFUSED: (400, lambda message, what: f"{message}\nhint: query the data of this graph only", None),
    Kind.BAD_REQUEST: (400, lambda message, what: message, None),
    Kind.MEMORY: (503, lambda message, what: f"{message}\nhint: narrow the {what}, or add LIMIT",
                  {"Retry-After": "2"}),
    Kind.UNAVAILABLE: (503, lambda message, what: message, {"Retry-After": "2"}),
    Kind.FAILED: (500, lambda message, what: f"the {what} failed: {message}", None),
}
"""The protocol's answer to each kind of error reply: status, message (from the reply's message and what was
asked: query, update, request), headers."""


def _reply_error(reply: Reply, what: str) -> PlainTextResponse:
    """The protocol's answer to a worker's error reply."""
    status, message, headers = ERROR_ANSWERS[reply.kind]
    return _text(status, message(reply.message, what), headers)


def _query_job(settings: Settings, text: str, params: _Params, accept: str | None, base_iri: str | None) -> QueryJob:
    """The job of a query request: its dataset, the negotiated formats and the endpoint's caps."""
    alias = next(iter(params.all("format") + params.all("output")), None)  # SPARQLWrapper may send several
    negotiated = negotiate(accept, alias)
    return QueryJob(
        text=text, default_graph=tuple(params.all("default-graph-uri")),
        named_graphs=tuple(params.all("named-graph-uri")), base_iri=base_iri,
        results_format=(negotiated.results.name, negotiated.results.media_type) if negotiated.results else None,
        graph_format=(negotiated.graph.name, negotiated.graph.media_type) if negotiated.graph else None,
        max_rows=settings.max_rows, max_bytes=settings.max_result_bytes)


class Answer(Response):
    """A query's result: ``Response(body, media_type=media_type, headers={"Vary": vary})`` with its header list
    written directly (the same bytes in the same order: every media type this endpoint sends that starts with
    ``text/`` names its charset), about 5 µs less per request than ``Response`` building it."""

    def __init__(self, body: bytes, media_type: str, vary: bytes = b"Accept") -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.body = body
        self.raw_headers = [(b"vary", vary), (b"content-length", b"%d" % len(body)),
                            (b"content-type", media_type.encode("latin-1"))]


def _query_response(reply: Reply, *, around_cors: bool = False) -> Response:
    """The protocol's answer to a query's reply. ``around_cors``: the request is answered around the app's CORS
    middleware (``LookupShortcut``, never for a request with ``Origin``): the answer gets what that middleware adds
    to it, ``Origin`` in ``Vary`` (a cache must not hand it to a cross-origin request, whose answer differs)."""
    if reply.ok:
        return Answer(reply.body, reply.media_type, b"Accept, Origin" if around_cors else b"Accept")
    response = _reply_error(reply, "query")
    return _vary_origin(response) if around_cors else response


def _vary_origin(response: Response) -> Response:
    """What the app's CORS middleware does to the answer to a request without ``Origin``."""
    response.headers["Vary"] = ", ".join([*response.headers.getlist("Vary"), "Origin"])
    return response


async def _query(request: Request, state: AppState, text: str, params: _Params) -> Response:
    job = _query_job(state.settings, text, params, request.headers.get("accept"), _base_iri(request))
    return _query_response(await state.pool.run(job))


GET_QUERY_BYTES = 16 * 1024
"""The longest URL query string a GET may carry (else 414)."""


class LookupShortcut:
    """A plain ``GET /sparql?query=<point lookup>`` (``lskg.api.lookup``), answered before the framework: the app
    (``lskg.api.app.App``) calls this first, ahead of its whole middleware stack (error handling, telemetry, body
    limit, Host check, CORS, routing, the request object), which costs a lookup more than the lookup itself. The
    answer is the route's (the same job, the same pool, the same response), so only the path to it is shorter.

    It checks the Host header as ``CheckedHost`` does, and leaves to the app anything else: a Host the app refuses,
    another method or path, a text that is not a lookup, or too long for ``max_query_bytes``, a dataset,
    ``update``, several ``query`` parameters, an ``Origin`` header (CORS is the app's), a long URL, and every
    server whose pool has no in-process lookups (a writable or remote store)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request (True), or leave it to the app (False) with nothing sent."""
        if scope["method"] != "GET" or scope["path"] != "/sparql" or len(scope["query_string"]) > GET_QUERY_BYTES:
            return False
        host = accept = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers.get reads them
            if name == b"host" and host is None:
                host = value
            elif name == b"accept" and accept is None:
                accept = value
            elif name == b"origin":
                return False
        if host_refused(host):
            return False
        params = _Params(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        queries = params.all("query")
        if len(queries) != 1 or not params.values.keys() <= SHORTCUT_PARAMETERS or not is_lookup(queries[0]):
            return False
        state: AppState = self.app.state.lskg
        pool = state.pool
        text = queries[0]
        if not isinstance(pool, ProcessPool) or pool.lookups is None \
                or len(text.encode("utf-8", "surrogatepass")) > state.settings.max_query_bytes:
            return False
        state.refresh()
        # no base IRI: a lookup's IRIs are absolute
        job = _query_job(state.settings, text, params, None if accept is None else accept.decode("latin-1"), None)
        try:
            response = _query_response(await pool.run(job, lookup=True), around_cors=True)
        except LskgError as exc:
            response = _vary_origin(_error(exc))
        await response(scope, receive, send)
        return True


SHORTCUT_PARAMETERS = frozenset({"query", "format", "output"})
"""The only parameters of a request ``LookupShortcut`` answers; any other (a dataset, ``update``) goes to the route."""


def write_denied(request: Request, settings: Settings) -> Response | None:
    """None when this request may write (updates enabled, the right bearer token), else the answer refusing it.
    Shared by SPARQL Update and the Graph Store Protocol's writes."""
    if not settings.allow_update:
        return _text(403, "this endpoint is read-only: updates (SPARQL Update, Graph Store writes) are disabled",
                     {"Allow": ALLOW})
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _text(401, "updates need Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"})
    if not settings.update_token or not hmac.compare_digest(token.strip(), settings.update_token):
        return _text(403, "wrong update token")
    return None


async def _update(request: Request, state: AppState, text: str, params: _Params) -> Response:
    denied = write_denied(request, state.settings)
    if denied is not None:
        return denied
    job = UpdateJob(text=text, base_iri=_base_iri(request), using=tuple(params.all("using-graph-uri")),
                    using_named=tuple(params.all("using-named-graph-uri")))
    reply = await state.write(job)
    if reply.ok:
        return Response(status_code=204)
    return _reply_error(reply, "update")


async def _dispatch(request: Request, state: AppState, query: str | None, update: str | None,
                    params: _Params) -> Response:
    try:
        if query is not None and update is not None:
            raise QueryError("the request has both 'query' and 'update'")
        text = query if query is not None else update
        if text is None:
            raise QueryError("the request has no 'query' (or 'update') parameter")
        limit = state.settings.max_query_bytes
        if len(text.encode("utf-8", "surrogatepass")) > limit:
            return _text(413, f"the request is longer than this endpoint's limit of {limit} bytes")
        if query is not None:
            return await _query(request, state, text, params)
        return await _update(request, state, text, params)
    except LskgError as exc:
        return _error(exc)


GET_PARAMETERS = [
    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The SPARQL query (without it: the service description)"},
    {"name": "default-graph-uri", "in": "query", "required": False,
     "schema": {"type": "array", "items": {"type": "string"}}, "explode": True},
    {"name": "named-graph-uri", "in": "query", "required": False,
     "schema": {"type": "array", "items": {"type": "string"}}, "explode": True},
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "json|xml|csv|tsv|turtle|nt|json-ld (overrides Accept)"},
]


@router.get("/sparql", summary="SPARQL query (GET)", description=_DOC,
                  response_class=Response, responses={
                      200: {"description": "Query results", "content": {
                          "application/sparql-results+json": {}, "application/sparql-results+xml": {},
                          "text/csv": {}, "text/tab-separated-values": {}, "text/turtle": {},
                          "application/n-triples": {}, "application/rdf+xml": {}, "application/ld+json": {}}},
                      400: {"description": "Malformed or refused query (plain text)"},
                      406: {"description": "No acceptable result format"},
                      413: {"description": "Result over the row or byte cap"},
                      414: {"description": "Query too long for a GET"},
                      503: {"description": "Timed out or overloaded (Retry-After)"}},
                  openapi_extra={"parameters": GET_PARAMETERS})
async def sparql_get(request: Request) -> Response:
    # Parameters are read from the URL directly (repeatable, any order, unknown ones ignored): no per-request
    # validation layer on the hot path. They are documented in GET_PARAMETERS.
    state = get_state(request)
    params = _Params(list(request.query_params.multi_items()))
    if "update" in params.values:
        return _text(405, "SPARQL Update must be POSTed (form update=... or application/sparql-update)",
                     {"Allow": "POST"})
    if not params.all("query"):
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        try:
            described = await state.pool.run(DatasetJob())
        except LskgError as exc:
            return _error(exc)
        dataset = described.value if described.ok else None
        return Response(_service_description(_base_iri(request), state, dataset),
                        media_type="text/turtle; charset=utf-8")
    if len(request.scope["query_string"]) > GET_QUERY_BYTES:
        return _text(414, "the query is too long for a GET URL; POST it (application/sparql-query)")
    try:
        text = params.one("query")
    except QueryError as exc:
        return _error(exc)
    response = await _dispatch(request, state, text, None, params)
    if request.method == "HEAD":
        return Response(status_code=response.status_code, headers=dict(response.headers))
    return response


@router.api_route("/sparql", methods=["HEAD"], include_in_schema=False)  # after GET: a GET matches first
async def sparql_head(request: Request) -> Response:
    return await sparql_get(request)


@router.post("/sparql", summary="SPARQL query or update (POST)", description=_DOC, response_class=Response,
             openapi_extra={"requestBody": {"required": True, "content": {
                 FORM: {"schema": {"type": "object", "properties": {
                     "query": {"type": "string"}, "update": {"type": "string"},
                     "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                     "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}},
                 QUERY_TYPE: {"schema": {"type": "string"}},
                 UPDATE_TYPE: {"schema": {"type": "string"}}}}},
             responses={204: {"description": "Update applied"},
                        415: {"description": "Unsupported request media type"}})
async def sparql_post(request: Request) -> Response:
    state = get_state(request)
    media, charset = _media(request)
    if charset not in (None, "utf-8", "utf8"):
        return _text(415, f"the request body must be UTF-8 (got charset={charset})")
    body = await request.body()
    if len(body) > 4 * state.settings.max_query_bytes:
        return _text(413, f"the request body is longer than this endpoint's limit of "
                          f"{4 * state.settings.max_query_bytes} bytes")
    url_pairs = list(request.query_params.multi_items())
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _text(400, "the request body is not valid UTF-8")
    if media == FORM:
        body_pairs = parse_qsl(text, keep_blank_values=True)
        names = {k for k, _ in body_pairs}
        if names & {"query", "update"} & {k for k, _ in url_pairs}:
            return _text(400, "'query'/'update' must be in the body or the URL, not both")
        params = _Params(url_pairs + body_pairs)
        try:
            query, update = params.one("query"), params.one("update")
        except QueryError as exc:
            return _error(exc)
        return await _dispatch(request, state, query, update, params)
    params = _Params(url_pairs)
    if "query" in params.values or "update" in params.values:
        return _text(400, "with a direct POST the query is the body; the URL must not carry 'query'/'update'")
    if media == QUERY_TYPE:
        return await _dispatch(request, state, text, None, params)
    if media == UPDATE_TYPE:
        return await _dispatch(request, state, None, text, params)
    shown = media or "no Content-Type"
    return _text(415, f"{shown} is not a SPARQL request type; use {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}")


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other(request: Request) -> Response:
    return _text(405, f"{request.method} is not a SPARQL Protocol operation; use GET or POST", {"Allow": ALLOW})


@checks.get("/sparql/check", response_model=SyntaxCheck, tags=["SPARQL"],
            summary="Check the syntax of a SPARQL query or update without running it against the graph")
async def sparql_check(request: Request,
                       q: Annotated[str, Query(description="SPARQL text")]) -> SyntaxCheck | Response:
    """Parsed and guarded in a query worker like a real request (the server process parses nothing); an update
    is applied to a throwaway empty store there, never to the graph."""
    state = get_state(request)
    if len(q.encode("utf-8", "surrogatepass")) > state.settings.max_query_bytes:
        return SyntaxCheck(ok=False, form=None, message=f"the text is longer than this endpoint's limit of "
                                                         f"{state.settings.max_query_bytes} bytes")
    try:
        reply = await state.pool.run(CheckJob(q))
    except LskgError as exc:
        return _error(exc)
    if not reply.ok:
        return _reply_error(reply, "request")
    verdict: Verdict = reply.value
    return SyntaxCheck(ok=verdict.ok, form=verdict.form, message=verdict.message)


def _service_description(endpoint: str, state: AppState, dataset: DatasetDescription | None) -> bytes:
    """The SPARQL 1.1 Service Description, with the store's default dataset. IRIs are written by pyoxigraph
    (validated), and the workers' confinement is stated in a comment."""
    results = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "RDF_XML", "JSON-LD"]
    formats = " , ".join(f"<http://www.w3.org/ns/formats/{f}>" for f in results)
    languages = "sd:SPARQL11Query , sd:SPARQL11Update" if state.settings.allow_update else "sd:SPARQL11Query"
    confinement = state.pool.confinement
    network = confinement.network or "not isolated"
    features = "sd:UnionDefaultGraph" if dataset is None or dataset.union_default_graph else ""
    named = "".join(f" ;\n    sd:namedGraph [ a sd:NamedGraph ; sd:name {g} ]"
                    for g in (dataset.named_graphs if dataset else ()))
    return (f"@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .\n"
            f"# query workers: network {network.replace(chr(10), ' ')}; memory limit "
            f"{confinement.memory_mib} MiB; SERVICE and LOAD refused\n"
            f"[] a sd:Service ;\n  sd:endpoint {iri(endpoint)} ;\n"
            f"  sd:supportedLanguage {languages} ;\n"
            + (f"  sd:feature {features} ;\n" if features else "")
            + f"  sd:defaultDataset [ a sd:Dataset ;\n    sd:defaultGraph [ a sd:Graph ]{named} ] ;\n"
            f"  sd:resultFormat {formats} .\n").encode()


router.include_router(checks)
