"""One error shape for the REST API: LskgError -> its HTTP status with ``{"error": {code, message, hint},
"status": n}``. The SPARQL endpoint answers in plain text instead (the protocol's convention; see routes/sparql.py).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lskg.errors import LskgError, QueryError, StoreError

RETRY_AFTER_S = 2


class OverloadedError(LskgError):
    """More requests are waiting than the endpoint accepts; retry later (answered with Retry-After)."""

    code = "LSKG-E106"
    http_status = 503


class WorkerMemoryError(StoreError):
    """A request made its worker process hit the worker memory limit (answered 503 with Retry-After)."""

    code = "LSKG-E108"


class WorkerCrashedError(QueryError):
    """A request crashed the query engine in its worker process; only that request fails (400)."""

    code = "LSKG-E109"


class NotFoundError(LskgError):
    """No study or concept with this id."""

    code = "LSKG-E107"
    http_status = 404


def retry_headers(exc: LskgError) -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)} if exc.http_status in (429, 503) else {}


def error_body(exc: LskgError) -> dict[str, object]:
    return {"error": exc.to_dict(), "status": exc.http_status}


async def _lskg_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LskgError)
    return JSONResponse(error_body(exc), status_code=exc.http_status, headers=retry_headers(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(LskgError, _lskg_error)
