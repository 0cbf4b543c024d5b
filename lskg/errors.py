"""Errors a user can cause.

Each carries a stable code, a message naming the culprit (file, record, term, query) and a hint saying what to
do. The CLI prints them without a traceback (exit code 3); the API maps them to 4xx/5xx with one JSON shape.
Bugs are not wrapped: they raise normally.
"""

from __future__ import annotations


class LskgError(Exception):
    """Base class for user-caused errors."""

    code = "LSKG-E000"
    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class InputError(LskgError):
    """A corpus file or record could not be read. Names the file and, where known, the record or line."""

    code = "LSKG-E101"

    def __init__(self, message: str, *, source: str | None = None, record: str | None = None,
                 hint: str | None = None) -> None:
        where = ", ".join(part for part in (source, f"record {record}" if record else None) if part)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source = source
        self.record = record


class UnknownConceptError(LskgError):
    """A label did not resolve to an ontology concept; carries the closest labels."""

    code = "LSKG-E102"

    def __init__(self, label: str, *, facet: str | None = None, suggestions: list[str] | None = None) -> None:
        self.label = label
        self.facet = facet
        self.suggestions = suggestions or []
        where = f" among {facet} concepts" if facet else ""
        hint = ("did you mean: " + ", ".join(repr(s) for s in self.suggestions)) if self.suggestions else (
            "run `lskg concepts list` to see the known labels")
        super().__init__(f"unknown concept {label!r}{where}", hint=hint)


class QueryError(LskgError):
    """A SPARQL query is malformed, refused or unknown by name."""

    code = "LSKG-E103"


class QueryTimeoutError(LskgError):
    """A SPARQL query ran past its time limit."""

    code = "LSKG-E104"
    http_status = 503


class ResultTooLargeError(LskgError):
    """A query returned more rows than the configured cap."""

    code = "LSKG-E105"
    http_status = 413


class StoreError(LskgError):
    """The store is missing, locked, read-only or unreachable."""

    code = "LSKG-E201"
    http_status = 503


class ValidationFailed(LskgError):
    """The graph does not conform to the SHACL shapes."""

    code = "LSKG-E202"
    http_status = 500


class ConfigError(LskgError):
    """A setting has an invalid value."""

    code = "LSKG-E301"


class ModelNotFoundError(LskgError):
    """No trained recommender exists for this store (or it is stale)."""

    code = "LSKG-E401"
    http_status = 503
