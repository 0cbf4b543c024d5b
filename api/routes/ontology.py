"""``/ontology``: the ontology as Turtle or JSON-LD, or a readable HTML page of its concepts."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lskg.api.ids import concept_id
from lskg.api.pages import templates
from lskg.kg.rdf import serialize
from lskg.kg.store import PREDECLARED
from lskg.ontology import concept_index, ontology_quads
from lskg.ontology.terms import ONTOLOGY_GRAPH
from lskg.records import FACETS

router = APIRouter(tags=["ontology"])
MEDIA = {"turtle": "text/turtle; charset=utf-8", "jsonld": "application/ld+json", "html": "text/html; charset=utf-8"}


@functools.lru_cache(maxsize=4)
def _serialized(fmt: str) -> bytes:
    triples = [q.triple for q in ontology_quads() if q.graph_name == ONTOLOGY_GRAPH]
    return serialize(triples, "TURTLE" if fmt == "turtle" else "JSON_LD", prefixes=PREDECLARED)


def _pick(request: Request, fmt: str | None) -> str:
    if fmt:
        return fmt
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return "html"
    if "ld+json" in accept or "application/json" in accept:
        return "jsonld"
    return "turtle"


@router.get("/ontology", response_class=Response, summary="The ontology (Turtle, JSON-LD or an HTML page)",
            responses={200: {"content": {"text/turtle": {}, "application/ld+json": {}, "text/html": {}}}})
def ontology(request: Request,
             fmt: Annotated[Literal["turtle", "jsonld", "html"] | None,
                            Query(description="Overrides the Accept header")] = None) -> Response:
    """The TBox and the SKOS concept schemes (model families and architectures, data sources, landslide types,
    tasks). Browsers get a page listing every concept with its labels, definition and hierarchy."""
    chosen = _pick(request, fmt)
    if chosen == "html":
        index = concept_index()
        facets = {f: sorted(index.facet(f), key=lambda c: (index.depth(c.iri), c.pref_label.lower()))
                  for f in FACETS}
        return templates().TemplateResponse(request, "ontology.html", {
            "facets": facets, "index": index, "concept_id": concept_id})
    return Response(_serialized(chosen), media_type=MEDIA[chosen])
