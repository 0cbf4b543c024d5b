"""``/recommend``, ``/gaps``, ``/gaps/map`` and ``/table``: thin calls into ``lskg.gnn.service``, which return
the records of ``lskg.records`` (served as they are).

The app state keeps the snapshots and loaded recommenders by graph fingerprint (``AppState.graphs``), and which
graph it serves (``AppState.graph_version``): the first request after ``lskg build`` loads the snapshot the build
saved instead of reading the graph through SPARQL.

A graph without a trained recommender gets one trained in the background, once, shared by every request
(``lskg.api.training``); meanwhile these endpoints answer 503 with Retry-After. Errors of the service (an unknown
concept label) map to 4xx through the one error handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lskg.api.deps import AppState, StateDep
from lskg.api.schemas import ErrorResponse, FacetName, GapReport, Recommendation

if TYPE_CHECKING:
    from lskg.gnn.service import GraphCache

router = APIRouter(tags=["recommendations and gaps"])
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}
Labels = Annotated[list[str] | None, Query(max_length=200, description="Concept labels or IRIs (repeatable)")]
TableAxis = Literal["family", "architecture", "model"]
"""Table rows: model families, or architectures (``model`` is the same as ``architecture``)."""


def served(state: AppState) -> dict[str, Any]:
    """The served graph, for the service's calls: ``cache``, the app's snapshots and recommenders by graph
    fingerprint; ``version``, the content served."""
    cache: GraphCache = state.graph_cache()
    return {"cache": cache, "version": state.graph_version}


def trained(state: AppState) -> dict[str, Any]:
    """``served(state)`` once a recommender for the served graph is saved; else 503 while the one background
    training runs."""
    from lskg.api.training import Training
    from lskg.gnn import service

    graph = served(state)
    if state.training is None:
        state.training = Training(state.settings)
    state.training.ensure(service.snapshot(state.store, state.settings, **graph))
    return graph


def _split(values: list[str] | None) -> list[str]:
    from lskg.kg.read import split_values

    return split_values(values)


@router.get("/recommend", response_model=Recommendation, responses=ERRORS, summary="Recommend model families")
def recommend(
    state: StateDep, data: Labels = None, landslide_type: Labels = None, task: Labels = None,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Recommendation:
    """Model families and architectures ranked for a context (data sources, landslide types, tasks), each with
    its score, uncertainty, the supporting studies and the basis of the score; ``evidence`` says, for each part
    of the context, how many studies support it at the asked concept, at narrower and at broader ones (which),
    names a few, and says plainly when no study combines the parts.

    Example: `/recommend?data=InSAR time series&landslide_type=creeping&task=displacement prediction`
    """
    from lskg.gnn import service

    graph = trained(state)
    return service.recommend(state.store, state.settings, data=_split(data), landslide_type=_split(landslide_type),
                             task=_split(task), top=top, **graph)


@router.get("/gaps", response_model=GapReport, responses=ERRORS, summary="Ranked research gaps")
def gaps(
    state: StateDep,
    facets: Annotated[list[FacetName] | None, Query(description="Facets whose combinations are scored "
                                                               "(default model, data)")] = None,
    top: Annotated[int, Query(ge=1, le=500)] = 50,
) -> GapReport:
    """Combinations of concepts that the graph makes plausible but few or no studies have tried."""
    from lskg.gnn import service

    chosen = tuple(dict.fromkeys(facets or ["model", "data"]))
    if len(chosen) < 2:
        from lskg.errors import QueryError

        raise QueryError("a gap needs at least two facets", hint="e.g. facets=model&facets=data")
    graph = trained(state)
    return service.gaps(state.store, state.settings, facets=chosen, top=top, **graph)


MAP_MEDIA = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html; charset=utf-8"}


@router.get("/gaps/map", responses={**ERRORS, 200: {"content": {
    "image/png": {}, "image/svg+xml": {}, "text/html": {}, "application/json": {}}}},
    summary="The gap map of two facets", response_class=Response)
def gap_map(
    state: StateDep, rows: FacetName = "model", cols: FacetName = "data",
    fmt: Literal["png", "svg", "html", "json"] = "svg",
) -> Response:
    """Observed study counts against plausibility for every pair of concepts of two facets, as an image, an HTML
    page (hover a cell for its details) or JSON."""
    from lskg.gnn import service

    result = service.gap_map(state.store, state.settings, rows=rows, cols=cols, fmt=fmt, **trained(state))
    if fmt == "json":
        return JSONResponse(result)
    body = result.encode() if isinstance(result, str) else result
    return Response(body, media_type=MAP_MEDIA[fmt])


TABLE_MEDIA = {"md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8",
               "latex": "application/x-latex; charset=utf-8", "html": "text/html; charset=utf-8"}


@router.get("/table", responses={**ERRORS, 200: {"content": {m.split(";")[0]: {} for m in TABLE_MEDIA.values()}}},
            summary="A synthesis table (like the review's Table 1)", response_class=Response)
def table(
    state: StateDep, rows: TableAxis = "family",
    cols: Annotated[list[FacetName] | None, Query(description="Column facets (default data, landslide_type, task)")] = None,
    fmt: Literal["md", "csv", "latex", "html"] = "md",
) -> Response:
    """Model families or architectures (rows) against the data, landslide types and tasks studies combined them
    with."""
    from lskg.gnn import service

    chosen = tuple(dict.fromkeys(cols or ["data", "landslide_type", "task"]))
    axis = "architecture" if rows == "model" else rows
    text = service.table(state.store, state.settings, rows=axis, cols=chosen, fmt=fmt, **served(state))
    if fmt == "html":
        return HTMLResponse(text)
    return Response(text, media_type=TABLE_MEDIA[fmt])
