"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/).

A graph is named indirectly (``/store?graph=<absolute IRI>``, ``/store?default``) or directly (``/store/<path>``
names the graph whose IRI is that request URL). GET/HEAD read a graph; PUT replaces it, POST merges into it, DELETE
removes it; POST to ``/store`` itself creates a new graph and answers 201 with its IRI in ``Location``.

* Reads are open, like ``/sparql`` queries, and run in the query workers with the same deadline and caps; a
  missing named graph is 404 (the default graph always exists). Every operation is the store's own
  (``Store.has_graph``, ``get_graph``, ``put_graph``, ``post_graph``, ``delete_graph``), so an embedded and a
  remote store are served alike.
* Writes need the server's updates enabled and ``Authorization: Bearer <token>`` (as SPARQL Update; 403 when
  updates are disabled, 401/403 for a missing/wrong token). They go through the same single writer as SPARQL
  Update (``AppState.write``: the read-write worker, under the same deadline). A payload is parsed there,
  completely, before the store is touched, so a malformed one (400) changes nothing.
* Payloads: Turtle, N-Triples, RDF/XML, JSON-LD, N3 (by Content-Type; anything else is 415), or
  ``multipart/form-data`` whose parts each carry one of them. Responses to GET: Turtle (default), N-Triples,
  RDF/XML, JSON-LD by Accept (else 406).
"""

from __future__ import annotations

import re
import uuid
from email.parser import BytesParser
from email.policy import HTTP

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lskg.api.deps import AppState, get_state
from lskg.api.protocol import accepted_media, negotiate
from lskg.api.routes.sparql import _base_iri, _error, _reply_error, _text, write_denied
from lskg.api.worker import GraphJob, Kind, Reply
from lskg.errors import LskgError
from lskg.kg.rdf import DefaultGraph, GraphName, NamedNode, graph_format, iri

router = APIRouter(tags=["Graph Store"])

MAX_PAYLOAD_BYTES = 64 * 2**20
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
ALLOW = ", ".join([*METHODS, "OPTIONS"])
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
DEFAULT = DefaultGraph()


class _Bad(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _target(request: Request, direct: str | None) -> GraphName | None:
    """The graph a request names: the default graph, a named graph, or None (the graph store itself)."""
    params = request.query_params
    graphs = params.getlist("graph")
    has_default = "default" in params
    if direct is not None:
        if graphs or has_default:
            raise _Bad(400, "a graph named by the request URL takes neither 'graph' nor 'default' parameters")
        return iri(_base_iri(request))
    if len(graphs) > 1 or (graphs and has_default):
        raise _Bad(400, "name exactly one graph: one 'graph=<IRI>' parameter, or 'default'")
    if has_default:
        return DEFAULT
    if not graphs:
        return None
    if not _SCHEME.match(graphs[0]):
        raise _Bad(400, f"'graph' must be an absolute IRI, got {graphs[0]!r}")
    try:
        return iri(graphs[0])
    except LskgError as exc:
        raise _Bad(400, f"'graph' is not a valid IRI: {exc.message}") from None


def _rdf_format(content_type: str) -> str:
    """The format name of a payload's media type (415 when it is not a graph format)."""
    media = content_type.split(";")[0].strip().lower()
    fmt = graph_format(media)
    if fmt is None:
        shown = media or "no Content-Type"
        raise _Bad(415, f"{shown} is not a graph format this store accepts; send text/turtle, "
                        "application/n-triples, application/rdf+xml, application/ld+json or multipart/form-data")
    return fmt


def _parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(format, bytes) of each RDF document in the request body."""
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        return [(_rdf_format(content_type), body)]
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
                                                  + body)
    if not message.is_multipart():
        raise _Bad(400, "the multipart/form-data body could not be read (boundary?)")
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        parts.append((_rdf_format(part.get("content-type", "")), payload if isinstance(payload, bytes) else b""))
    return parts


def _iri(graph: GraphName) -> str | None:
    return graph.value if isinstance(graph, NamedNode) else None


async def _run(state: AppState, job: GraphJob) -> Reply:
    reply = await (state.write(job) if job.writes else state.pool.run(job))
    if not reply.ok:
        raise _Replied(reply)
    return reply


class _Replied(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


# ---- the routes -----------------------------------------------------------------------------------------------

async def _read(request: Request, state: AppState, graph: GraphName) -> Response:
    if not (await _run(state, GraphJob("exists", _iri(graph)))).value:
        return _text(404, f"no graph {graph} in this store")
    negotiated = negotiate(request.headers.get("accept"), None)
    if negotiated.graph is None:
        return _text(406, f"none of the media types in Accept can carry a graph; this store sends "
                          f"{accepted_media('CONSTRUCT')}")
    settings = state.settings
    reply = await state.pool.run(GraphJob("get", _iri(graph), graph_format=(negotiated.graph.name,
                                                                            negotiated.graph.media_type),
                                          max_rows=settings.max_rows, max_bytes=settings.max_result_bytes))
    if reply.ok:
        if request.method == "HEAD":
            return Response(status_code=200, headers={"Content-Type": reply.media_type,
                                                      "Content-Length": str(len(reply.body)), "Vary": "Accept"})
        return Response(reply.body, media_type=reply.media_type, headers={"Vary": "Accept"})
    if reply.kind is Kind.TOO_LARGE:
        return _text(413, f"{reply.message}; query the graph through /sparql with LIMIT and OFFSET")
    return _text(500, f"reading the graph failed: {reply.message}")


async def _handle(request: Request, direct: str | None) -> Response:
    state = get_state(request)
    try:
        graph = _target(request, direct)
        if request.method in ("GET", "HEAD"):
            if graph is None:
                raise _Bad(400, "name a graph: /store?graph=<IRI>, /store?default or /store/<path>")
            return await _read(request, state, graph)
        denied = write_denied(request, state.settings)
        if denied is not None:
            return denied
        if request.method == "DELETE":
            if graph is None:
                raise _Bad(400, "name the graph to delete: /store?graph=<IRI>, /store?default or /store/<path>")
            found = (await _run(state, GraphJob("delete", _iri(graph)))).value
            return Response(status_code=204) if found else _text(404, f"no graph {graph} in this store")
        body = await request.body()
        if len(body) > MAX_PAYLOAD_BYTES:
            return _text(413, f"the payload is larger than this store's limit of {MAX_PAYLOAD_BYTES} bytes")
        parts = _parts(request.headers.get("content-type", ""), body)
        location = None
        if graph is None:
            if request.method == "PUT":
                raise _Bad(400, "name the graph to replace: /store?graph=<IRI>, /store?default or /store/<path>")
            location = f"{_base_iri(request).rstrip('/')}/{uuid.uuid4().hex}"
            graph = iri(location)
        base = graph.value if isinstance(graph, NamedNode) else _base_iri(request)
        job = GraphJob("put" if request.method == "PUT" else "post", _iri(graph), tuple(parts), base)
        created = (await _run(state, job)).value
        if location is not None:
            return Response(status_code=201, headers={"Location": location})
        return Response(status_code=201 if created else 204)
    except _Bad as exc:
        return _text(exc.status, exc.message)
    except _Replied as exc:
        return _reply_error(exc.reply, "request")
    except LskgError as exc:
        return _error(exc)


_RESPONSES = {200: {"description": "The graph (GET/HEAD)", "content": {
                  "text/turtle": {}, "application/n-triples": {}, "application/rdf+xml": {},
                  "application/ld+json": {}}},
              201: {"description": "Graph created (PUT/POST; POST to /store gives its IRI in Location)"},
              204: {"description": "Graph replaced, merged or deleted"},
              400: {"description": "Bad graph IRI or malformed payload"},
              401: {"description": "Write without a bearer token"},
              403: {"description": "Updates disabled, or a wrong token"},
              404: {"description": "No such graph"},
              406: {"description": "No acceptable graph format"},
              413: {"description": "Payload or graph over a cap"},
              415: {"description": "Unsupported payload media type"}}
_PARAMETERS = [
    {"name": "graph", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Absolute IRI of the graph (indirect identification)"},
    {"name": "default", "in": "query", "required": False, "schema": {"type": "string"}, "allowEmptyValue": True,
     "description": "Present (`?default`): the default graph"},
]


async def graph_store(request: Request) -> Response:
    return await _handle(request, None)


async def graph_store_direct(request: Request, path: str) -> Response:
    return await _handle(request, path)


for _method in METHODS:
    router.add_api_route("/store", graph_store, methods=[_method], operation_id=f"graph_store_{_method.lower()}",
                         summary=f"Graph Store Protocol: {_method} a graph (?graph=IRI or ?default)",
                         description=__doc__, response_class=Response, responses=_RESPONSES,  # type: ignore[arg-type]
                         openapi_extra={"parameters": _PARAMETERS}, include_in_schema=_method != "HEAD")
router.add_api_route("/store/{path:path}", graph_store_direct, methods=METHODS, response_class=Response,
                     include_in_schema=False)
