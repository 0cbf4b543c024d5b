"""``/sparql``: the SPARQL 1.1 Protocol (query; update when enabled) and ``/sparql/check`` for the web page.

Errors here follow the protocol's convention, not the REST JSON shape: a status code and a plain-text message
(400 malformed or refused, 401/403 update auth, 405 method, 406 Accept, 413/414 too long, 415 media type,
503 timeout or overload with Retry-After).
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from lskg.api.deps import AppState, get_state
from lskg.api.errors import retry_headers
from lskg.api.protocol import accepted_media, add_using, negotiate
from lskg.api.schemas import SyntaxCheck
from lskg.api.worker import QueryJob
from lskg.errors import LskgError, QueryError
from lskg.kg.sparql_text import inspect_sparql
from lskg.ontology.terms import PREFIXES
from lskg.settings import Settings

router = APIRouter(tags=["SPARQL"])
_PREFIXES = {name: ns.iri for name, ns in PREFIXES.items()}

MAX_QUERY_BYTES = 256 * 1024
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
* Limits: a query runs at most `query_timeout` seconds (then 503), returns at most `max_rows` rows (else 413),
  overload answers 503 with Retry-After. SERVICE and LOAD are refused (400).
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


def _base_iri(request: Request) -> str:
    """The endpoint's URL, the base IRI of relative IRIs in requests."""
    scope = request.scope
    host = request.headers.get("host") or "localhost"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"


async def _query(request: Request, state: AppState, text: str, params: _Params) -> Response:
    inspection = inspect_sparql(text)
    if inspection.refused:
        raise QueryError(inspection.refused, hint="query the data of this graph only")
    if inspection.form == "UPDATE":
        raise QueryError("this is a SPARQL Update request sent as a query",
                         hint="POST it as update=... or with Content-Type application/sparql-update")
    alias = next(iter(params.all("format") + params.all("output")), None)  # SPARQLWrapper may send several
    negotiated = negotiate(request.headers.get("accept"), alias)
    graph_form = inspection.form in ("CONSTRUCT", "DESCRIBE")
    if inspection.form and (negotiated.graph if graph_form else negotiated.results) is None:
        return _text(406, f"none of the media types in Accept can carry a {inspection.form} result; "
                          f"this endpoint sends {accepted_media(inspection.form)}")
    settings = state.settings
    job = QueryJob(
        text=text, form=inspection.form or "", default_graph=tuple(params.all("default-graph-uri")),
        named_graphs=tuple(params.all("named-graph-uri")), has_dataset=inspection.has_dataset,
        base_iri=_base_iri(request),
        results_format=(negotiated.results.name, negotiated.results.media_type) if negotiated.results else None,
        graph_format=(negotiated.graph.name, negotiated.graph.media_type) if negotiated.graph else None,
        max_rows=settings.max_rows, max_bytes=settings.max_result_bytes)
    reply = await state.pool.run(job)
    kind = reply[0]
    if kind == "ok":
        _, media, body, _rows = reply
        return Response(body, media_type=media, headers={"Vary": "Accept"})
    message = reply[1]
    if kind == "not_acceptable":
        form = "CONSTRUCT" if message == "graph" else "SELECT"
        return _text(406, f"none of the media types in Accept can carry this result; this endpoint sends "
                          f"{accepted_media(form)}")
    if kind == "too_large":
        return _text(413, f"{message}; add LIMIT (and OFFSET to page), or aggregate")
    if kind in ("syntax", "bad_request"):
        return _text(400, f"malformed SPARQL query: {message}" if kind == "syntax" else message)
    return _text(500, f"the query failed: {message}")


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
    inspection = inspect_sparql(text)
    if inspection.refused:
        raise QueryError(inspection.refused)
    using, using_named = params.all("using-graph-uri"), params.all("using-named-graph-uri")
    if using or using_named:
        if inspection.has_using:
            raise QueryError("the request has using-graph-uri/using-named-graph-uri parameters and its own "
                             "USING/WITH clause; the protocol allows only one of them")
        text = add_using(text, using, using_named)
    base = _base_iri(request)
    await state.write(_apply_update, state, text, base)
    return Response(status_code=204)


def _apply_update(state: AppState, text: str, base: str) -> None:
    native = getattr(state.store, "native", None)
    if native is None:  # a remote store
        state.store.update(text)
        return
    try:
        native.update(text, base_iri=base)
    except SyntaxError as exc:
        raise QueryError(f"malformed SPARQL update: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"the update failed: {exc}") from exc


async def _dispatch(request: Request, state: AppState, query: str | None, update: str | None,
                    params: _Params) -> Response:
    try:
        if query is not None and update is not None:
            raise QueryError("the request has both 'query' and 'update'")
        text = query if query is not None else update
        if text is None:
            raise QueryError("the request has no 'query' (or 'update') parameter")
        if len(text.encode()) > MAX_QUERY_BYTES:
            return _text(413, f"the query is longer than this endpoint's limit of {MAX_QUERY_BYTES} bytes")
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


@router.api_route("/sparql", methods=["HEAD"], include_in_schema=False)
async def sparql_head(request: Request) -> Response:
    return await sparql_get(request)


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
        return Response(_service_description(_base_iri(request), state.settings.allow_update), media_type="text/turtle; charset=utf-8")
    if len(request.url.query) > 16 * 1024:
        return _text(414, "the query is too long for a GET URL; POST it (application/sparql-query)")
    try:
        text = params.one("query")
    except QueryError as exc:
        return _error(exc)
    response = await _dispatch(request, state, text, None, params)
    if request.method == "HEAD":
        return Response(status_code=response.status_code, headers=dict(response.headers))
    return response


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
    if len(body) > 4 * MAX_QUERY_BYTES:
        return _text(413, f"the request body is longer than this endpoint's limit of {4 * MAX_QUERY_BYTES} bytes")
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


@router.get("/sparql/check", response_model=SyntaxCheck, tags=["SPARQL"],
            summary="Check the syntax of a SPARQL query or update without running it against the graph")
async def sparql_check(q: Annotated[str, Query(max_length=MAX_QUERY_BYTES, description="SPARQL text")]) -> SyntaxCheck:
    inspection = inspect_sparql(q)
    if inspection.refused:
        return SyntaxCheck(ok=False, form=inspection.form, message=inspection.refused)
    try:
        if inspection.form == "UPDATE":  # parsed by applying it to a throwaway empty store
            ox.Store().update(q)
        else:  # parsed and planned against an empty store; results are lazy and never read
            ox.Store().query(q, use_default_graph_as_union=True, prefixes=_PREFIXES)
    except SyntaxError as exc:
        return SyntaxCheck(ok=False, form=inspection.form, message=str(exc))
    except (OSError, RuntimeError, ValueError) as exc:
        return SyntaxCheck(ok=False, form=inspection.form, message=str(exc))
    return SyntaxCheck(ok=True, form=inspection.form, message=None)


def _service_description(endpoint: str, allow_update: bool) -> bytes:
    results = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "RDF_XML", "JSON-LD"]
    formats = " , ".join(f"<http://www.w3.org/ns/formats/{f}>" for f in results)
    languages = "sd:SPARQL11Query , sd:SPARQL11Update" if allow_update else "sd:SPARQL11Query"
    return (f"@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .\n"
            f"[] a sd:Service ;\n  sd:endpoint <{endpoint}> ;\n"
            f"  sd:supportedLanguage {languages} ;\n"
            f"  sd:feature sd:UnionDefaultGraph ;\n"
            f"  sd:resultFormat {formats} .\n").encode()
