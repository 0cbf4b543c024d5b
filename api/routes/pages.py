"""The web page at ``/``: query box, examples, results with links to studies and evidence, recommendation form,
gap maps. Static files only (no CDN); the page talks to the JSON endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from lskg.api.pages import templates
from lskg.kg.read import EXAMPLES as QUESTIONS

router = APIRouter(include_in_schema=False)

EXAMPLES = ("example_insar_creeping", "example_studies_per_family", "example_lstm_evidence",
            "example_latest_studies")
"""Named queries shown as examples on the page (kg/queries/example_*.rq), in this order."""


def example_queries() -> list[tuple[str, str]]:
    """(title, SPARQL text) of each example, the query text without its header."""
    from lskg.kg.queries import named_query

    return [(q.summary, "\n".join(line for line in q.text.splitlines() if not line.startswith("#+")))
            for q in map(named_query, EXAMPLES)]


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    from lskg.ontology.terms import sparql_prefixes

    return templates().TemplateResponse(request, "index.html", {
        "examples": example_queries(), "questions": QUESTIONS, "prefixes": sparql_prefixes()})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page says: the same icon as the pages' <link rel="icon">."""
    from lskg.api.app import STATIC_DIR

    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")
