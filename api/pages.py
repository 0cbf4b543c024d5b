"""The Jinja environment of the web page (autoescaping on: every string from the graph is escaped)."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@functools.cache
def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(TEMPLATE_DIR))
