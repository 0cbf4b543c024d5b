"""The HTTP API: the SPARQL 1.1 endpoint, REST resources and the web page (``create_app``).

``create_app`` is imported lazily so that the query worker processes (``lskg.api.worker``) start without
importing FastAPI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from lskg.api.app import create_app

        return create_app
    raise AttributeError(name)
