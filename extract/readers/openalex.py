"""OpenAlex: fetch works by search (cursor paging, polite pool, retries with backoff, a local cache) and read
saved OpenAlex responses.

    fetch_openalex("deep learning landslide", from_year=2018, out=Path("studies.jsonl"), mailto="me@example.org")

Abstracts come from ``abstract_inverted_index`` (word -> positions), which OpenAlex serves instead of plain text.
Written records are lskg JSONL (the ``jsonl`` reader reads them back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lskg.errors import InputError
from lskg.extract.document import Document
from lskg.extract.readers.registry import clean_field, read_text, register
from lskg.records import Study

log = logging.getLogger(__name__)

API = "https://api.openalex.org/works"
PER_PAGE = 200
RETRY_STATUS = {429, 500, 502, 503, 504}
SELECT = "id,doi,title,display_name,publication_year,authorships,primary_location,abstract_inverted_index"


def abstract_from_inverted_index(index: dict[str, list[int]] | None) -> str:
    """The abstract text from OpenAlex's inverted index: ``{"Deep": [0], "learning": [1]}`` -> ``Deep learning``."""
    if not index:
        return ""
    positions = {pos: word for word, places in index.items() for pos in places}
    return " ".join(positions[i] for i in sorted(positions))


def study_from_work(work: dict[str, Any]) -> Study:
    """A Study from one OpenAlex work object."""
    ident = str(work.get("id") or "").rsplit("/", 1)[-1]
    if not ident:
        raise KeyError("work has no id")
    location = work.get("primary_location") or {}
    venue = ((location.get("source") or {}) if isinstance(location, dict) else {}).get("display_name")
    authors = tuple(a.get("author", {}).get("display_name", "") for a in work.get("authorships") or ()
                    if a.get("author", {}).get("display_name"))
    return Study(id=ident, title=clean_field(work.get("title") or work.get("display_name") or ""),
                 year=work.get("publication_year"), authors=authors, doi=work.get("doi") or None, venue=venue,
                 abstract=abstract_from_inverted_index(work.get("abstract_inverted_index")),
                 source=f"openalex:{ident}")


def study_record(study: Study) -> dict[str, Any]:
    """The lskg JSONL record of a study."""
    return {"id": study.id, "title": study.title, "authors": list(study.authors), "year": study.year,
            "doi": study.doi, "venue": study.venue, "abstract": study.abstract, "source": study.source}


def _sniff(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return '"results"' in head or "openalex.org" in head


@register("openalex", suffixes=(".json",), sniff=_sniff)
def read_openalex(path: Path, problems: list[InputError]) -> Iterator[Document]:
    """A saved OpenAlex response: ``{"results": [work...]}``, a list of works, or a single work."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg}, line {exc.lineno})", source=str(path)) from None
    works = data.get("results", [data]) if isinstance(data, dict) else data
    for n, work in enumerate(works, 1):
        try:
            study = study_from_work(work)
        except (KeyError, AttributeError, TypeError) as exc:
            problems.append(InputError(f"unreadable work ({exc})", source=str(path), record=str(n)))
            continue
        if not study.title:
            problems.append(InputError("work has no title", source=str(path), record=study.id))
            continue
        yield Document.of_record(study)


class OpenAlexClient:
    """Cursor-paged search with retries, exponential backoff and an on-disk cache of raw pages."""

    def __init__(self, *, mailto: str | None = None, cache_dir: Path | None = None, client: Any = None,
                 retries: int = 4, backoff: float = 1.0, base_url: str = API,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.mailto = mailto
        self.cache_dir = cache_dir
        self.client = client or httpx.Client(timeout=30.0, headers={"User-Agent": "lskg (+https://w3id.org/lskg)"})
        self.retries = retries
        self.backoff = backoff
        self.base_url = base_url
        self.sleep = sleep

    def _cache_file(self, params: dict[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:20]
        return self.cache_dir / f"{key}.json"

    def get_page(self, params: dict[str, Any]) -> dict[str, Any]:
        import httpx

        cached = self._cache_file(params)
        if cached is not None and cached.exists():
            return json.loads(cached.read_text(encoding="utf-8"))
        last: str = ""
        for attempt in range(self.retries + 1):
            try:
                response = self.client.get(self.base_url, params=params)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    page = response.json()
                    if cached is not None:
                        cached.parent.mkdir(parents=True, exist_ok=True)
                        cached.write_text(json.dumps(page), encoding="utf-8")
                    return page
                if response.status_code not in RETRY_STATUS:
                    raise InputError(f"OpenAlex answered HTTP {response.status_code}: {response.text[:200]}",
                                     source=self.base_url, hint="check the --search and --from-year values")
                last = f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    self.sleep(float(retry_after))
                    continue
            if attempt < self.retries:
                delay = self.backoff * 2 ** attempt
                log.warning("OpenAlex request failed (%s); retrying in %.1f s", last, delay)
                self.sleep(delay)
        raise InputError(f"OpenAlex did not answer after {self.retries + 1} attempts ({last})",
                         source=self.base_url, hint="try again later, or use --cache to resume")

    def search(self, query: str, *, from_year: int | None = None, max_results: int | None = None,
               progress: Callable[[str, int, int | None], None] | None = None) -> Iterator[dict[str, Any]]:
        """Every work matching ``query`` (title and abstract search), newest filter applied, page by page."""
        filters = ["type:article|review|preprint|proceedings-article"]
        if from_year:
            filters.append(f"from_publication_date:{from_year}-01-01")
        params: dict[str, Any] = {"search": query, "filter": ",".join(filters), "per-page": PER_PAGE,
                                  "cursor": "*", "select": SELECT}
        if self.mailto:
            params["mailto"] = self.mailto
        seen = 0
        while params["cursor"]:
            page = self.get_page(params)
            total = (page.get("meta") or {}).get("count")
            results = page.get("results") or []
            for work in results:
                yield work
                seen += 1
                if progress:
                    progress("openalex", seen, min(total, max_results) if total and max_results else total)
                if max_results is not None and seen >= max_results:
                    return
            next_cursor = (page.get("meta") or {}).get("next_cursor")
            if not results or not next_cursor:
                return
            params = {**params, "cursor": next_cursor}


def fetch_openalex(search: str, *, out: Path, from_year: int | None = None, mailto: str | None = None,
                   max_results: int | None = None, cache_dir: Path | None = None, client: Any = None,
                   progress: Callable[[str, int, int | None], None] | None = None, **options: Any) -> int:
    """Write the works matching ``search`` to ``out`` as lskg JSONL; returns how many were written."""
    api = OpenAlexClient(mailto=mailto, cache_dir=cache_dir, client=client, **options)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        for work in api.search(search, from_year=from_year, max_results=max_results, progress=progress):
            try:
                study = study_from_work(work)
            except (KeyError, AttributeError, TypeError) as exc:
                log.warning("skipping an unreadable OpenAlex work: %s", exc)
                continue
            if study.title:
                handle.write(json.dumps(study_record(study), ensure_ascii=False) + "\n")
                written += 1
    tmp.replace(out)
    return written
