"""SHACL validation of the graph against ``ontology/shapes.ttl``, with two engines that report the same violations:

* ``engine="sparql"`` (default): the shapes compiled into SPARQL queries (``lskg.kg.shacl``) and run inside the
  store, embedded or remote; nothing is copied out of it.
* ``engine="pyshacl"``: the reference. The store's union graph is dumped to N-Triples, parsed by rdflib and
  validated by pySHACL (the only place the graph crosses into rdflib). Slow on large graphs; kept to check the
  compiler against (``tests/kg/test_shacl_sparql.py``).

A :class:`Violation` names its focus node, the path, the constraint component, the value node where there is one,
and the shape: the nearest *named* shape that declares the constraint (``shape:StudyShape`` for a
``sh:property [ ... ]`` inside it), so the same violation reads the same whichever engine found it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pyoxigraph import RdfFormat

from lskg.ontology import SHAPES_FILE

if TYPE_CHECKING:
    from lskg.kg.shacl import Shapes
    from lskg.kg.store import Store

log = logging.getLogger(__name__)

Engine = Literal["sparql", "pyshacl"]
ENGINES: tuple[str, ...] = ("sparql", "pyshacl")


@dataclass
class Violation:
    focus: str
    path: str | None
    message: str
    shape: str
    severity: str
    component: str = ""
    value: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What identifies a violation across engines (the message text may differ)."""
        return (self.focus, self.path or "", self.shape, self.component, self.value or "")


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    triples: int = 0

    def summary(self, limit: int = 10) -> str:
        if self.conforms:
            return f"the graph conforms to the SHACL shapes ({self.triples} triples checked)"
        lines = [f"{len(self.violations)} SHACL violation(s):"]
        lines += [f"  {v.focus} {v.path or ''}: {v.message}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


def _report(violations: list[Violation], triples: int) -> ValidationReport:
    violations = sorted(violations, key=lambda v: v.key)
    return ValidationReport(not any(v.severity == "Violation" for v in violations), violations, triples)


@functools.cache
def _shapes() -> Shapes:
    from lskg.kg.shacl import Shapes

    return Shapes.from_file(SHAPES_FILE)


def validate_ntriples(data: bytes) -> ValidationReport:
    """Validate a union graph given as N-Triples against the shapes with pySHACL (the reference engine)."""
    import pyshacl
    import rdflib

    from lskg.kg.shacl import term_text

    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    shapes = _shapes()
    _, report, _ = pyshacl.validate(graph, shacl_graph=shapes.graph, inference="none", advanced=False,
                                    allow_warnings=True)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = []
    results = [r for root in report.subjects(rdflib.RDF.type, sh.ValidationReport) for r in report.objects(root, sh.result)]
    for result in results:  # top-level results only; nested ones (sh:detail) explain sh:node failures
        source = report.value(result, sh.sourceShape)
        value = report.value(result, sh.value)
        violations.append(Violation(
            focus=term_text(report.value(result, sh.focusNode)),
            path=shapes.path_label(source),
            message=str(report.value(result, sh.resultMessage) or ""),
            shape=shapes.shape_name(source),
            severity=str(report.value(result, sh.resultSeverity)).rsplit("#", 1)[-1],
            component=str(report.value(result, sh.sourceConstraintComponent)).rsplit("#", 1)[-1],
            value=None if value is None else term_text(value),
        ))
    return _report(violations, len(graph))


def validate(store: Store, engine: Engine = "sparql") -> ValidationReport:
    """Validate the store's union graph (ontology, Table 1, studies, gaps) against the shapes."""
    if engine == "pyshacl":
        return validate_ntriples(store.dump(RdfFormat.N_TRIPLES))
    if engine != "sparql":
        raise ValueError(f"unknown validation engine {engine!r}: one of {', '.join(ENGINES)}")
    from lskg.kg.shacl import run_checks

    return _report(run_checks(store), len(store))
