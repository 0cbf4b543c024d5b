"""Point lookups answered in the server process: the one kind of client query proven cheap before it runs.

Every other client query crosses to a worker process (``lskg.api.pool``): network-less, memory-capped, killed at
its deadline. That hand-off costs more CPU than a point lookup itself (measured on the 2-core development
machine: about 0.55 ms in the worker and 0.2 ms in the server, for a query that takes 0.2 ms), so a lookup, a
request linked-data clients send constantly, is answered here instead when its text is, in full::

    SELECT ?p ?o WHERE { <http://an/absolute/iri> ?p ?o }

one triple pattern whose subject is an IRI, predicate an IRI or a variable, object a variable distinct from it;
``SELECT *`` or a projection of those variables; ``WHERE`` and a final ``.`` optional; keywords in any case; no
prefixes, comments, escapes, modifiers or dataset (``default-graph-uri``/``named-graph-uri``). ``LOOKUP`` is a
regular expression that never backtracks, so recognising costs one linear pass, and what it accepts has
no SERVICE, no function, no path and no subquery: the engine scans the subject's quads once (an index range;
each quad is one row of the answer, the union default graph keeps duplicates) and serialises them. The scan
stops when the answer passes ``LOOKUP_BYTES``, and the request then goes to a worker like any other, which
applies the endpoint's own caps and deadline. So the work done here is bounded by the answer's size, not by
the data, and a text the recogniser refuses (anything else) never runs in this process.

Only a read-only server over an embedded store does this: the server opens its own read-only handle on the
generation the workers read (``OpenedStore``, which pins it), follows ``lskg build``/``lskg add`` swaps the way
the workers do, and lets an old generation go when ``current`` has moved.
"""

from __future__ import annotations

import re

from lskg.api.worker import OpenedStore, QueryJob, Reply, failure
from lskg.errors import ResultTooLargeError
from lskg.kg.rdf import NamedNode

LOOKUP_BYTES = 64 * 1024
"""The largest answer a lookup gets in the server process; a larger one is answered by a worker."""

LOOKUP_CHARS = 4096
"""Longer texts are not tried (the recogniser would still be linear, but on the server's event loop)."""

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VAR = rf"[?$]{_NAME}"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_WS = r"[ \t\r\n]*"
LOOKUP = re.compile(
    rf"{_WS}SELECT{_WS}(?:\*|(?P<projection>{_VAR}(?:{_WS}{_VAR})*)){_WS}(?:WHERE{_WS})?"
    rf"\{{{_WS}(?P<subject>{_IRI}){_WS}(?P<predicate>{_VAR}|{_IRI}){_WS}(?P<object>{_VAR}){_WS}(?:\.{_WS})?\}}{_WS}",
    re.IGNORECASE | re.ASCII)
"""The whole text of a point lookup (matched with ``fullmatch``; whitespace as SPARQL defines it). Every run of
whitespace is followed by a token that cannot start with whitespace, so the match never backtracks into one:
linear time on any text."""


_VARIABLE = re.compile(rf"[?$]({_NAME})")
"""A variable of the projection; the group is its name."""


def is_lookup(text: str) -> bool:
    """Is ``text`` a point lookup (see the module docstring)? The IRIs must be absolute; variables are compared by
    name (``?x`` and ``$x`` are the same variable): the object must differ from the predicate, and the projection
    may name only them, each once."""
    match = LOOKUP.fullmatch(text) if len(text) <= LOOKUP_CHARS else None
    if match is None:
        return False
    subject, predicate, value, projection = match.group("subject", "predicate", "object", "projection")
    try:
        NamedNode(subject[1:-1])
        if predicate[0] == "<":
            NamedNode(predicate[1:-1])
            variables = {value[1:]}
        else:
            variables = {predicate[1:], value[1:]}
            if len(variables) < 2:
                return False
    except ValueError:
        return False
    if projection is None:
        return True
    projected = _VARIABLE.findall(projection)
    return len(set(projected)) == len(projected) and set(projected) <= variables


class Lookups:
    """The server's read-only handle, and the lookups it answers. ``key`` is the (store root, generation) the
    workers read."""

    def __init__(self) -> None:
        self.opened = OpenedStore(writable=False)
        self.answered = 0
        """How many requests this process has answered itself."""

    def answer(self, key: tuple[str, str], job: QueryJob, *, recognised: bool = False) -> Reply | None:
        """The reply to ``job`` when it is a point lookup with an answer of at most ``LOOKUP_BYTES``, else None
        (a worker answers it). ``recognised``: the caller has already found ``is_lookup(job.text)`` true.

        The text is evaluated on the union default graph, as a worker's ``Store.query`` evaluates it, but on the
        pyoxigraph store itself: a lookup has no prefixed name and no dataset, so the predeclared prefixes (their
        map costs about 20 µs a query) and the dataset rule change nothing. It is serialised by the same
        ``QueryJob.answer``, so the answer is byte for byte the worker's."""
        if job.trusted or job.default_graph or job.named_graphs or not (recognised or is_lookup(job.text)):
            return None
        try:
            store = self.opened.get(key)
        except Exception:  # noqa: BLE001 - a worker opens it too, and reports why it cannot
            return None
        try:
            result = store.native.query(job.text, use_default_graph_as_union=True)
            reply = job.answer(result, min(job.max_bytes, LOOKUP_BYTES))
        except (ResultTooLargeError, SyntaxError):  # a worker answers it (with the parser's message)
            return None
        except Exception as exc:
            failed = failure(exc)
            if failed is None:
                raise
            reply = failed
        self.answered += 1
        return reply

    def release_if_stale(self) -> None:
        self.opened.release_if_stale()

    def close(self) -> None:
        self.opened.close()
