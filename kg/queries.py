"""Named SPARQL queries (``kg/queries/*.rq``) and safe parameter binding.

Each file starts with ``#+`` header lines (grlc style)::

    #+ summary: Model families used for a context, with supporting studies
    #+ params: data=iri?, landslide_type=iri?, task=iri?
    #+ columns: family, familyLabel, studies

Parameters are written ``$name`` in the query. ``prepare()`` binds them by inserting a ``VALUES`` block at the
top of each ``WHERE`` group that uses them: the innermost ``SELECT ... WHERE { }`` around each mention, so a
parameter used inside a subquery binds there, where the subquery's own variables live (a block in the outer
group would not reach it). The block is built from the serialised form of typed pyoxigraph terms: a value can
never change the query's structure, whatever quotes or braces it holds. A parameter of kind ``limit`` (for
``LIMIT`` and ``OFFSET``, which take no variables) is written into the text as a non-negative integer instead.
A parameter marked ``?`` is optional: when it is not given, every line of the query that mentions it is dropped,
so the query does not filter on it. ``*`` allows several values (any of them may match). Blocks go in the order
the parameters are declared. The namespace prefixes of ``lskg.ontology.terms`` are declared for every query;
files never spell IRIs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from lskg.errors import QueryError
from lskg.ontology.terms import XSD, sparql_prefixes

QUERY_DIR = Path(__file__).resolve().parent / "queries"
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
KINDS = ("iri", "literal", "int", "year", "limit")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    optional: bool
    many: bool


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    summary: str
    params: dict[str, Param]
    columns: tuple[str, ...]


def _parse(name: str, text: str) -> NamedQuery:
    header: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#+"):
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
    params = {}
    for spec in filter(None, (s.strip() for s in header.get("params", "").split(","))):
        pname, _, kind = spec.partition("=")
        flags = kind[len(kind.rstrip("?*")):]
        kind = kind.rstrip("?*") or "iri"
        if kind not in KINDS:
            raise ValueError(f"{name}.rq: parameter {pname} has unknown kind {kind!r}")
        params[pname] = Param(pname, kind, optional="?" in flags, many="*" in flags)
    columns = tuple(c.strip() for c in header.get("columns", "").split(",") if c.strip())
    return NamedQuery(name, text, header.get("summary", ""), params, columns)


@functools.cache
def named_query(name: str) -> NamedQuery:
    path = QUERY_DIR / f"{name}.rq"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.exists():
        raise QueryError(f"no named query {name!r}", hint="known queries: " + ", ".join(list_queries()))
    return _parse(name, path.read_text(encoding="utf-8"))


def list_queries() -> list[str]:
    return sorted(p.stem for p in QUERY_DIR.glob("*.rq"))


def _term(value: Any, kind: str) -> NamedNode | Literal | BlankNode:
    if isinstance(value, NamedNode | Literal | BlankNode):
        return value
    if kind == "iri":
        try:
            return NamedNode(str(value))
        except ValueError as exc:
            raise QueryError(f"{value!r} is not a valid IRI: {exc}", hint="pass a concept IRI or a known label") from exc
    if kind == "int":
        return Literal(str(int(value)), datatype=XSD.integer)
    if kind == "year":
        return Literal(f"{int(value):04d}", datatype=XSD.gYear)
    return Literal(str(value))


def _groups(text: str) -> list[tuple[int, int]]:
    """The span of each ``WHERE { ... }`` group (from just inside its brace to its closing brace), outermost first.
    The named queries hold no brace inside a string literal, and comment lines are gone by now."""
    spans = []
    for match in _WHERE.finditer(text):
        depth, end = 1, match.end()
        while depth and end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        spans.append((match.end(), end - 1))
    return spans


def _limit(name: str, value: Any) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or str(value).strip() != str(number):
        raise QueryError(f"{name} must be a non-negative integer, got {value!r}")
    return str(number)


def bind(query: NamedQuery, params: Mapping[str, Any]) -> str:
    """The query text with parameters bound (see the module docstring)."""
    unknown = set(params) - set(query.params)
    if unknown:
        raise QueryError(f"query {query.name!r} has no parameter {', '.join(sorted(unknown))}",
                         hint=f"its parameters: {', '.join(query.params) or 'none'}")
    values: dict[str, list] = {}
    for name, param in query.params.items():
        raw = params.get(name)
        items = [] if raw is None else list(raw) if isinstance(raw, list | tuple | set | frozenset) else [raw]
        if not items and not param.optional:
            raise QueryError(f"query {query.name!r} needs the parameter {name!r}")
        if len(items) > 1 and not param.many:
            raise QueryError(f"query {query.name!r} takes one value for {name!r}, got {len(items)}")
        if items:
            values[name] = [_limit(name, v) if param.kind == "limit" else _term(v, param.kind) for v in items]
    dropped = [n for n in query.params if n not in values]
    lines = [line for line in query.text.splitlines() if not line.startswith("#")
             and not any(re.search(rf"\${n}\b", line) for n in dropped)]
    text = "\n".join(lines)
    for name, param in query.params.items():
        if param.kind == "limit" and name in values:
            text = re.sub(rf"\${name}\b", values.pop(name)[0], text)
    groups = _groups(text)
    if values and not groups:
        raise QueryError(f"query {query.name!r} has parameters but no WHERE clause")
    blocks: dict[int, str] = {}
    for name, terms in values.items():
        starts = set()
        for mention in re.finditer(rf"\${name}\b", text):
            around = [start for start, end in groups if start <= mention.start() <= end]
            starts.add(max(around) if around else groups[0][0])
        for start in starts or {groups[0][0]}:
            blocks[start] = blocks.get(start, "") + f"\n  VALUES ${name} {{ {' '.join(str(t) for t in terms)} }}"
    for start in sorted(blocks, reverse=True):
        text = text[:start] + blocks[start] + text[start:]
    return sparql_prefixes() + text


def prepare(query: str, params: Mapping[str, Any] | None = None) -> str:
    """A named query with its parameters bound, or SPARQL text (which then takes no parameters). Either way
    the lskg prefixes are declared (a query's own PREFIX lines override them)."""
    if re.fullmatch(r"[a-z0-9_]+", query):
        return bind(named_query(query), params or {})
    if params:
        raise QueryError("parameters can only be bound to named queries", hint="see `lskg queries`")
    return sparql_prefixes() + query


def declared_columns(names: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    return {n: named_query(n).columns for n in (names or list_queries())}
