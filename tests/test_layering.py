"""The architecture's import rules and conventions, checked on the source (no import-linter needed)."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import REPO

FORBIDDEN = {
    "ontology": ("lskg.kg", "lskg.extract", "lskg.gnn", "lskg.api", "lskg.cli", "torch", "spacy", "fastapi"),
    "kg": ("lskg.extract", "lskg.gnn", "lskg.api", "lskg.cli", "torch", "torch_geometric", "spacy", "fastapi"),
    "extract": ("lskg.kg", "lskg.gnn", "lskg.api", "lskg.cli", "torch", "torch_geometric", "fastapi"),
    "gnn": ("lskg.extract", "lskg.api", "lskg.cli", "spacy", "fastapi"),
    "api": ("lskg.extract", "lskg.cli", "pyoxigraph"),  # the API reaches the graph through kg's Store only
}


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_layer(package):
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
            if name.split(".")[0] in {"kg", "extract", "gnn", "api", "ontology"}:
                bad.append(f"{path.relative_to(REPO)} imports the bare module {name} (use lskg.{name})")
    assert not bad, "\n".join(bad)


SPARQL = re.compile(r"\b(?:SELECT|CONSTRUCT|ASK|DESCRIBE)\b.*\bWHERE\s*\{", re.DOTALL)


def _strings(path):
    """String constants of a module, docstrings (which may show examples) excepted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def test_sparql_lives_in_rq_files():
    """SPARQL queries are named .rq files under kg/queries/ (bound by kg/queries.py), not strings in code."""
    offenders = []
    for package in ("lskg", "ontology", "kg", "extract", "gnn", "api"):
        for path in (REPO / package).rglob("*.py"):
            if any(SPARQL.search(text) for text in _strings(path)):
                offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


IRI = re.compile(r"w3id\.org/lskg/(ontology|concept|scheme|collection|study|fact|evidence|metric|agent|gap|graph|"
                 r"synthesis|shape)/")


def test_base_iri_is_spelled_only_in_the_terms_module():
    offenders = []
    for package in ("lskg", "kg", "extract", "gnn", "api"):
        for path in (REPO / package).rglob("*.py"):
            if IRI.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders
