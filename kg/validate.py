"""SHACL validation of the graph (pySHACL). The only place the graph crosses into rdflib."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import rdflib
from pyoxigraph import RdfFormat

from lskg.kg.store import Store
from lskg.ontology import SHAPES_FILE

log = logging.getLogger(__name__)


@dataclass
class Violation:
    focus: str
    path: str | None
    message: str
    shape: str
    severity: str


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


def validate_ntriples(data: bytes) -> ValidationReport:
    """Validate a union graph given as N-Triples against the shapes."""
    import pyshacl

    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", advanced=False,
                                           allow_warnings=True)
    violations = []
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        path = report.value(result, sh.resultPath)
        violations.append(Violation(
            focus=str(report.value(result, sh.focusNode)),
            path=str(path) if path is not None else None,
            message=str(report.value(result, sh.resultMessage) or ""),
            shape=str(report.value(result, sh.sourceShape)),
            severity=str(report.value(result, sh.resultSeverity)).rsplit("#", 1)[-1],
        ))
    violations.sort(key=lambda v: (v.focus, v.path or ""))
    return ValidationReport(bool(conforms), violations, len(graph))


def validate(store: Store) -> ValidationReport:
    """Validate the store's union graph (ontology, Table 1, studies, gaps) against the shapes."""
    return validate_ntriples(store.dump(RdfFormat.N_TRIPLES))
