"""SHACL shapes compiled to SPARQL and run inside the store (SHACL-SPARQL style), so validation happens where the
data is instead of copying the graph into rdflib for pySHACL.

    checks = compile_shapes()                    # ontology/shapes.ttl, compiled once per process
    violations = run_checks(store, checks)       # the same Violation records pySHACL's report gives

Each targeted shape becomes a few SELECT queries, filled into the templates of ``kg/queries/shacl/*.rq``:

* ``values``: the value constraints of a property shape (sh:datatype, sh:class, sh:nodeKind, sh:in, sh:pattern,
  sh:minLength/maxLength, sh:min/maxInclusive/Exclusive, sh:languageIn, sh:node, sh:and/or/not/xone), one
  ``BIND(<condition> AS ?okN)`` per constraint, so one query reports every failing value node once;
* ``focus``: the same constraints declared on a targeted node shape itself (the focus node is the value);
* ``counts``: sh:minCount/maxCount, and sh:qualifiedValueShape with sh:qualifiedMinCount/MaxCount;
* ``has_value`` (sh:hasValue) and ``pair`` (sh:lessThan, sh:lessThanOrEquals).

Targets are sh:targetClass (instances of the class or of its rdfs:subClassOf* subclasses, as SHACL defines it),
sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf and implicit class targets. Shapes reached through sh:node
or sh:qualifiedValueShape become boolean expressions built with EXISTS, so a nested shape is checked in the same
query as the constraint that names it. Property paths (predicate, sequence, inverse, alternative, ``*``, ``+``,
``?``) are written as SPARQL property paths.

So that validation grows with the graph and no faster, the value and cardinality checks look for failures first
and meet the focus nodes last: they scan a path's triples over the whole graph, test each distinct value (or count
each subject's values) once, and join only what fails to the focus nodes. A join or EXISTS per focus node would
cost about as much as the whole scan, for every property. A path with ``*``, ``+`` or ``?``, or focus nodes the
shape lists, still starts from the focus nodes. Class instances are taken once each: the union default graph
repeats a node's rdf:type in every study graph that names it.

What pySHACL reports as a result's source shape is often a blank node (``sh:property [ ... ]``); both engines
name it by the nearest named shape that declares it (``shape:StudyShape``), with the path and the constraint
component beside it, so reports of the two engines can be compared (``tests/kg/test_shacl_sparql.py``). A SHACL
feature this compiler does not know raises :class:`ShapeCompileError` naming the shape and the parameter:
compile it here, or validate with ``engine="pyshacl"``.
"""

from __future__ import annotations

import functools
import itertools
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolutions
from rdflib.namespace import RDF, RDFS, SH, XSD

from lskg.errors import StoreError
from lskg.kg.queries import QUERY_DIR
from lskg.kg.store import Store
from lskg.kg.validate import Violation
from lskg.ontology import SHAPES_FILE
from lskg.ontology.terms import sparql_prefixes

TEMPLATE_DIR = QUERY_DIR / "shacl"

# Parameters that describe a shape without constraining anything (or are read with the constraint they belong to).
DESCRIPTIVE = {RDF.type, RDFS.comment, RDFS.label, SH.message, SH.severity, SH.name, SH.description, SH.order,
               SH.group, SH.defaultValue, SH.deactivated, SH.path, SH.property, SH.targetClass, SH.targetNode,
               SH.targetSubjectsOf, SH.targetObjectsOf, SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount,
               SH.qualifiedValueShapesDisjoint}
# Datatypes whose lexical form SPARQL can check by casting (an ill-typed literal fails sh:datatype, as in pySHACL).
CASTABLE = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.dateTime, XSD.date, XSD.time,
            XSD.gYear, XSD.duration}
NODE_KINDS: dict[rdflib.term.Node, str] = {
    SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})", SH.BlankNodeOrLiteral: "!isIRI({v})", SH.IRIOrLiteral: "!isBlank({v})"}
COMPARISONS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
PAIRS = {SH.lessThan: "<", SH.lessThanOrEquals: "<="}


class ShapeCompileError(ValueError):
    """The shapes use a SHACL feature the SPARQL compiler does not support (a bug to fix here, not a user error)."""


@dataclass(frozen=True)
class Condition:
    """One value constraint: an expression on the value node, or a class / nested shape it must belong to."""

    component: str
    message: str
    expression: str = ""
    cls: rdflib.term.Node | None = None
    node: rdflib.term.Node | None = None


@dataclass(frozen=True)
class Rule:
    """What a violation found through one column or row of a check reports."""

    shape: str
    path: str | None
    severity: str
    component: str
    message: str
    bound: int | None = None
    """For ``counts``/``grouped``: the minimum (rule 2k) or maximum (rule 2k+1) of property k; None if absent."""


@dataclass(frozen=True)
class Check:
    """One compiled query and the rules its rows report: for ``values``/``focus``/``present`` one rule per
    ``?okN`` column; for ``counts``/``grouped`` a (min, max) pair of rules per property index (rows carry
    ?property); for ``has_value``/``pair`` one rule."""

    kind: str
    sparql: str
    rules: tuple[Rule, ...]

    def violations(self, rows: QuerySolutions) -> Iterator[Violation]:
        def make(rule: Rule, focus, value=None) -> Violation:
            return Violation(focus=term_text(focus), path=rule.path, message=rule.message, shape=rule.shape,
                             severity=rule.severity, component=rule.component,
                             value=None if value is None else term_text(value))

        for row in rows:
            if self.kind in ("values", "focus", "present"):
                value = row["value"] if self.kind == "values" else None
                for n, rule in enumerate(self.rules):
                    ok = row[f"ok{n}"]
                    if ok is None or ok.value not in ("true", "1"):  # (some servers answer booleans as 0/1)
                        yield make(rule, row["this"], value)
            elif self.kind in ("counts", "grouped"):
                count = 0 if row["count"] is None else int(row["count"].value)
                low, high = self.rules[2 * int(row["property"].value):][:2]
                if low.bound is not None and count < low.bound:
                    yield make(low, row["this"])
                if high.bound is not None and count > high.bound:
                    yield make(high, row["this"])
            else:  # has_value, pair
                yield make(self.rules[0], row["this"], row["value"] if self.kind == "pair" else None)


@dataclass(frozen=True)
class Focus:
    """The focus nodes of a shape."""

    nodes: str
    """A subquery binding ``?this`` to each focus node once (targets.rq)."""
    listed: bool
    """Whether the focus nodes are only constants the shape lists (sh:targetNode): starting from them is cheap."""


def term_text(term) -> str:
    """How a focus or value node is written in a Violation, the same for pyoxigraph and rdflib terms: an IRI as
    itself, a blank node as ``_:id``, a literal in N-Triples form."""
    if isinstance(term, NamedNode | rdflib.URIRef):
        return term.value if isinstance(term, NamedNode) else str(term)
    if isinstance(term, BlankNode | rdflib.BNode):
        return f"_:{term.value if isinstance(term, BlankNode) else term}"
    return str(term if isinstance(term, Literal) else _literal(term))


def _literal(term: rdflib.Literal) -> Literal:
    if term.language:
        return Literal(str(term), language=term.language)
    return Literal(str(term), datatype=NamedNode(str(term.datatype or XSD.string)))


def _integer(term: rdflib.term.Node) -> int:
    """An integer-valued shape parameter (sh:minCount 1, sh:maxLength 200) from its lexical form."""
    return int(str(term))


def _sparql_term(term: rdflib.term.Node) -> str:
    """A constant of the shapes graph as SPARQL text, serialised by pyoxigraph (escaping included)."""
    if isinstance(term, rdflib.URIRef):
        return str(NamedNode(str(term)))
    if isinstance(term, rdflib.Literal):
        return str(_literal(term))
    raise ShapeCompileError(f"a blank node cannot be a constant in a SPARQL constraint: {term!r}")


def _same_term(v: str, term: rdflib.term.Node) -> str:
    """``sameTerm(v, term)`` for a constant, spelled so that Virtuoso agrees: it keeps a plain literal apart from
    the same string typed xsd:string, which RDF 1.1 makes one term. (For IRIs ``=`` is identity.)"""
    if isinstance(term, rdflib.URIRef):
        return f"(isIRI({v}) && {v} = {_sparql_term(term)})"
    if not isinstance(term, rdflib.Literal):
        raise ShapeCompileError(f"a blank node cannot be a constant in a SPARQL constraint: {term!r}")
    lexical = _sparql_term(rdflib.Literal(str(term)))
    if term.language:
        return f"(isLiteral({v}) && STR({v}) = {lexical} && LCASE(LANG({v})) = {_sparql_term(rdflib.Literal(term.language.lower()))})"
    datatype = _sparql_term(term.datatype or XSD.string)
    return f"(isLiteral({v}) && LANG({v}) = \"\" && STR({v}) = {lexical} && datatype({v}) = {datatype})"


@functools.cache
def _template(name: str) -> string.Template:
    lines = (TEMPLATE_DIR / f"{name}.rq").read_text(encoding="utf-8").splitlines()
    return string.Template("\n".join(line for line in lines if not line.lstrip().startswith("#")))


class Shapes:
    """A SHACL shapes graph, read with rdflib (the parser pySHACL uses), and the compiler over it."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.graph = graph
        self._names = itertools.count()

    @classmethod
    def from_file(cls, path: Path = SHAPES_FILE) -> Shapes:
        return cls(rdflib.Graph().parse(path, format="turtle"))

    # Naming: how results point back at the shapes.

    def shape_name(self, shape: rdflib.term.Node) -> str:
        """The nearest named shape that declares ``shape`` (itself when it has an IRI)."""
        seen = set()
        while isinstance(shape, rdflib.BNode) and shape not in seen:
            seen.add(shape)
            parent = next(self.graph.subjects(SH.property, shape), None)
            if parent is None:
                break
            shape = parent
        return str(shape)

    def path_label(self, shape: rdflib.term.Node) -> str | None:
        """The shape's sh:path as a Violation writes it: a predicate IRI as itself, any other path in SPARQL."""
        path = self.graph.value(shape, SH.path)
        if path is None:
            return None
        if isinstance(path, rdflib.URIRef):
            return str(path)
        return self._path(path)

    def _path(self, node: rdflib.term.Node) -> str:
        """A SHACL property path in SPARQL syntax, parenthesised only where precedence needs it."""
        return self._path_part(node)[0]

    def _path_part(self, node: rdflib.term.Node) -> tuple[str, str]:
        """(text, kind): kind is "iri", "unary" (^, *, +, ?), "seq" or "alt", for the caller's parentheses."""
        g = self.graph

        def atom(inner: rdflib.term.Node) -> str:
            text, kind = self._path_part(inner)
            return text if kind in ("iri", "unary") else f"({text})"

        if isinstance(node, rdflib.URIRef):
            return _sparql_term(node), "iri"
        if g.value(node, RDF.first) is not None:
            parts = [self._path_part(item) for item in rdflib.collection.Collection(g, node)]
            return "/".join(f"({t})" if k == "alt" else t for t, k in parts), "seq"
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "|".join(self._path_part(item)[0] for item in rdflib.collection.Collection(g, alternatives)), "alt"
        for predicate, form in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"), (SH.oneOrMorePath, "{}+"),
                                (SH.zeroOrOnePath, "{}?")):
            inner = g.value(node, predicate)
            if inner is not None:
                return form.format(atom(inner)), "unary"
        raise ShapeCompileError(f"unsupported property path {node!r}")

    def path_sparql(self, shape: rdflib.term.Node) -> str:
        path = self.graph.value(shape, SH.path)
        if path is None:
            raise ShapeCompileError(f"{self.shape_name(shape)}: a property shape without sh:path")
        return self._path(path)

    def _count(self, shape: rdflib.term.Node, parameter: rdflib.URIRef) -> int | None:
        """An integer parameter of the shape (sh:minCount, sh:qualifiedMaxCount, ...); None when not given."""
        value = self.graph.value(shape, parameter)
        return None if value is None else _integer(value)

    # Compiling.

    def compile(self) -> list[Check]:
        checks: list[Check] = []
        for shape in sorted(self._targeted(), key=str):
            if self._deactivated(shape):
                continue
            focus = self._targets(shape)
            if self.graph.value(shape, SH.path) is not None:  # a property shape with targets of its own
                properties = [shape]
            else:
                self._reject_unknown(shape, property_shape=False)
                node_checks = list(self._value_conditions(shape, "?value"))
                if node_checks:
                    checks.append(self._check("focus", shape, node_checks, focus))
                properties = sorted((p for p in self.graph.objects(shape, SH.property) if not self._deactivated(p)),
                                    key=self._sort_key)
            present, grouped = [], []
            for prop in properties:
                checks += self._property_checks(prop, focus)
                low, high = self._count(prop, SH.minCount), self._count(prop, SH.maxCount)
                if not low and high is None:
                    continue
                if not isinstance(self.graph.value(prop, SH.path), rdflib.URIRef):
                    checks.append(self._counts(prop, focus, None, low, high))
                    continue
                if low:
                    present.append(prop)
                if high is not None or (low or 0) > 1:
                    grouped.append((prop, low, high))
            checks += self._cardinality(focus, present, grouped)
        return checks

    def _sort_key(self, prop: rdflib.term.Node) -> str:
        return self.path_label(prop) or ""

    def _targeted(self) -> set[rdflib.term.Node]:
        g = self.graph
        shapes = {s for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                  for s in g.subjects(p, None)}
        shapes |= {s for s in g.subjects(RDF.type, SH.NodeShape) if (s, RDF.type, RDFS.Class) in g}
        return shapes

    def _deactivated(self, shape: rdflib.term.Node) -> bool:
        value = self.graph.value(shape, SH.deactivated)
        return isinstance(value, rdflib.Literal) and value.toPython() is True

    def _targets(self, shape: rdflib.term.Node) -> Focus:
        g = self.graph
        groups = [f"?this rdf:type/rdfs:subClassOf* {_sparql_term(c)} ." for c in g.objects(shape, SH.targetClass)]
        if (shape, RDF.type, RDFS.Class) in g:
            groups.append(f"?this rdf:type/rdfs:subClassOf* {_sparql_term(shape)} .")
        nodes = sorted(g.objects(shape, SH.targetNode), key=str)
        if nodes:
            groups.append("VALUES ?this { " + " ".join(_sparql_term(n) for n in nodes) + " }")
        groups += [f"?this {_sparql_term(p)} [] ." for p in g.objects(shape, SH.targetSubjectsOf)]
        groups += [f"[] {_sparql_term(p)} ?this ." for p in g.objects(shape, SH.targetObjectsOf)]
        union = "{ " + " }\n    UNION { ".join(groups) + " }"
        return Focus(_template("targets").substitute(union=union), listed=bool(nodes) and len(groups) == 1)

    def _reject_unknown(self, shape: rdflib.term.Node, *, property_shape: bool) -> None:
        known = DESCRIPTIVE | set(COMPARISONS) | set(PAIRS) | {
            SH["class"], SH.datatype, SH.nodeKind, SH["in"], SH.pattern, SH.minLength, SH.maxLength, SH.languageIn,
            SH.node, SH["and"], SH["or"], SH["not"], SH.xone, SH.hasValue}
        if property_shape:
            known |= {SH.minCount, SH.maxCount, SH.qualifiedValueShape}
        for predicate in set(self.graph.predicates(shape, None)):
            if predicate not in known:
                raise ShapeCompileError(
                    f"shape {self.shape_name(shape)} ({self.path_label(shape) or 'node shape'}) uses {predicate}, "
                    "which lskg.kg.shacl does not compile: add it there, or validate with engine='pyshacl'")
        if property_shape and self.graph.value(shape, SH.qualifiedValueShapesDisjoint) not in (
                None, rdflib.Literal(False)):
            raise ShapeCompileError(f"{self.shape_name(shape)}: sh:qualifiedValueShapesDisjoint is not supported")

    def _message(self, shape: rdflib.term.Node, default: str) -> str:
        message = self.graph.value(shape, SH.message)
        return str(message) if message is not None else default

    def _severity(self, shape: rdflib.term.Node) -> str:
        severity = self.graph.value(shape, SH.severity)
        return str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation"

    def _check(self, kind: str, shape: rdflib.term.Node, conditions: list[Condition], focus: Focus,
               path: str = "", values: str = "") -> Check:
        """A values/focus check: one ?okN column per condition (``path`` and ``values``: see values.rq)."""
        oks = [f"?ok{n}" for n in range(len(conditions))]
        checks = "\n  ".join(self._check_line(c, ok, values) for c, ok in zip(conditions, oks, strict=True))
        text = _template(kind).substitute(targets=focus.nodes, path=path, values=values,
                                          oks=" ".join(oks), checks=checks,
                                          any_failed=" || ".join(f"!COALESCE({ok}, false)" for ok in oks))
        path_label = self.path_label(shape) if kind != "focus" else None
        return Check(kind, text, tuple(self._rule(shape, c.component, c.message, path_label) for c in conditions))

    def _rule(self, shape: rdflib.term.Node, component: str, default_message: str, path: str | None,
              bound: int | None = None) -> Rule:
        return Rule(self.shape_name(shape), path, self._severity(shape), component,
                    self._message(shape, default_message), bound)

    def _check_line(self, condition: Condition, ok: str, values: str) -> str:
        """How one condition is tested on ?value at the top level: class and node membership as sets of
        conforming nodes joined once; everything else as an expression per distinct value. ``values`` is the
        pattern of a property shape's value nodes (:meth:`_value_pattern`), empty for a node shape."""
        if condition.cls is not None:
            return _template("conforming").substitute(ok=ok, members=self._instances(condition.cls, "?value"),
                                                      conforms="true")
        if condition.node is not None and values:
            members, conforms = self._members(condition.node, "?value")
            if not members:
                members = _template("candidates").substitute(values=values)
            return _template("conforming").substitute(ok=ok, members=members, conforms=conforms)
        return f"BIND ({self._expression(condition, '?value')} AS {ok})"

    def _value_pattern(self, prop: rdflib.term.Node, focus: Focus) -> str:
        """A pattern binding ``?this ?value`` along the property shape's path, for finding the value nodes that
        fail a constraint before they are joined to the focus nodes. A path of predicates (with inverses,
        sequences, alternatives) is matched over the whole graph: a scan of its triples, where restricting it
        to the focus nodes first costs a join per focus node. It starts from the focus nodes when they are
        listed constants (sh:targetNode: index lookups), and when the path has ``*``, ``+`` or ``?``, which
        could reach every node from every node."""
        path = self.graph.value(prop, SH.path)
        pattern = f"?this {self.path_sparql(prop)} ?value ."
        if path is not None and not focus.listed and self._bounded(path):
            return pattern
        return f"{focus.nodes}\n  {pattern}"

    def _bounded(self, node: rdflib.term.Node) -> bool:
        """Whether a SHACL property path uses no ``*``, ``+`` or ``?`` (each match is a chain of its triples)."""
        g = self.graph
        if isinstance(node, rdflib.URIRef):
            return True
        if g.value(node, RDF.first) is not None:
            return all(self._bounded(item) for item in rdflib.collection.Collection(g, node))
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return all(self._bounded(item) for item in rdflib.collection.Collection(g, alternatives))
        inverse = g.value(node, SH.inversePath)
        return inverse is not None and self._bounded(inverse)

    def _instances(self, cls: rdflib.term.Node, v: str) -> str:
        """A pattern binding ``v`` to the instances of ``cls`` and of its subclasses (SHACL's sh:class), each once."""
        return _template("instances").substitute(v=v, c=self._var(), **{"class": _sparql_term(cls)})

    def _members(self, shape: rdflib.term.Node, v: str) -> tuple[str, str]:
        """The nodes conforming to a nested node shape, split into a pattern that generates candidates (its
        sh:class and the sh:hasValue of its properties: joins, evaluated as sets) and an expression for the
        rest. The pattern is empty when the shape has neither."""
        g = self.graph
        if self._deactivated(shape) or g.value(shape, SH.path) is not None:
            return "", self._conforms(shape, v)
        self._reject_unknown(shape, property_shape=False)
        joins, rest = [], []
        for condition in self._value_conditions(shape, v):
            if condition.cls is not None:
                joins.append(self._instances(condition.cls, v))
            else:
                rest.append(self._expression(condition, v))
        for prop in g.objects(shape, SH.property):
            if self._deactivated(prop):
                continue
            required = list(g.objects(prop, SH.hasValue))
            joins += [f"{v} {self.path_sparql(prop)} {_sparql_term(r)} ." for r in required]
            if not required or set(g.predicates(prop, None)) - DESCRIPTIVE - {SH.hasValue}:
                rest.append(self._property_conforms(prop, v))
        return " ".join(joins), " && ".join(rest) or "true"

    def _property_checks(self, prop: rdflib.term.Node, focus: Focus) -> list[Check]:
        """The value, qualified-count, hasValue and property-pair checks of a property shape (its plain counts
        are checked together with its siblings', by :meth:`compile`)."""
        g = self.graph
        self._reject_unknown(prop, property_shape=True)
        path, label = self.path_sparql(prop), self.path_label(prop)
        checks = []
        conditions = list(self._value_conditions(prop, "?value"))
        if conditions:
            checks.append(self._check("values", prop, conditions, focus, path=path,
                                      values=self._value_pattern(prop, focus)))
        for qualified in g.objects(prop, SH.qualifiedValueShape):
            checks.append(self._counts(prop, focus, qualified, self._count(prop, SH.qualifiedMinCount),
                                       self._count(prop, SH.qualifiedMaxCount)))
        for required in g.objects(prop, SH.hasValue):
            text = _template("has_value").substitute(targets=focus.nodes, path=path, required=_sparql_term(required))
            checks.append(Check("has_value", text, (
                self._rule(prop, "HasValueConstraintComponent", f"Missing expected value {required}", label),)))
        for predicate, operator in PAIRS.items():
            for other in g.objects(prop, predicate):
                text = _template("pair").substitute(targets=focus.nodes, path=path, other_path=_sparql_term(other),
                                                    comparison=f"?value {operator} ?other")
                component = "LessThanConstraintComponent" if operator == "<" else \
                    "LessThanOrEqualsConstraintComponent"
                checks.append(Check("pair", text, (
                    self._rule(prop, component, f"Value is not {operator} value of {other}", label),)))
        return checks

    def _cardinality(self, focus: Focus, present: list, grouped: list) -> list[Check]:
        """sh:minCount/maxCount on the predicate paths of a node shape, for all its properties at once: whether a
        focus node has a value at all (one EXISTS per property), and how many distinct values it has when there
        are bounds to compare with (one grouped count over all those properties)."""
        checks = []
        if present:
            oks = [f"?ok{n}" for n in range(len(present))]
            lines = [f"BIND (EXISTS {{ ?this {self.path_sparql(p)} [] }} AS {ok})"
                     for p, ok in zip(present, oks, strict=True)]
            text = _template("present").substitute(targets=focus.nodes, oks=" ".join(oks), checks="\n  ".join(lines),
                                                   any_failed=" || ".join(f"!{ok}" for ok in oks))
            checks.append(Check("present", text, tuple(
                self._rule(p, "MinCountConstraintComponent", f"Less than {self.graph.value(p, SH.minCount)} values "
                           f"on {self.path_label(p)}", self.path_label(p)) for p in present)))
        if grouped:
            branches, bounds, rules = [], [], []
            for k, (prop, low, high) in enumerate(grouped):
                branches.append(f"{{ {self._value_pattern(prop, focus)} BIND ({k} AS ?property) }}")
                bounds.append(f"({k} {'UNDEF' if low is None else low} {'UNDEF' if high is None else high})")
                label = self.path_label(prop)
                rules += [self._rule(prop, "MinCountConstraintComponent", f"Less than {low} values on {label}",
                                     label, low),
                          self._rule(prop, "MaxCountConstraintComponent", f"More than {high} values on {label}",
                                     label, high)]
            text = _template("grouped").substitute(targets=focus.nodes, branches="\n  UNION ".join(branches),
                                                   bounds=" ".join(bounds))
            checks.append(Check("grouped", text, tuple(rules)))
        return checks

    def _counts(self, prop: rdflib.term.Node, focus: Focus, qualified: rdflib.term.Node | None,
                low: int | None, high: int | None) -> Check:
        """The general cardinality check of one property shape (plain, or qualified by a nested shape)."""
        label = self.path_label(prop)
        values = f"?this {self.path_sparql(prop)} ?value ."
        if qualified is None:
            components = ("MinCountConstraintComponent", f"Less than {low} values on {label}",
                          "MaxCountConstraintComponent", f"More than {high} values on {label}")
        else:
            components = ("QualifiedMinCountConstraintComponent",
                          f"Fewer than {low} values of {label} conform to the qualified value shape",
                          "QualifiedMaxCountConstraintComponent",
                          f"More than {high} values of {label} conform to the qualified value shape")
            joins, conforms = self._members(qualified, "?value")
            values += f" {joins} FILTER ({conforms})"
        text = _template("counts").substitute(targets=focus.nodes, values=values,
                                              min="UNDEF" if low is None else low, max="UNDEF" if high is None else high)
        return Check("counts", text, (self._rule(prop, components[0], components[1], label, low),
                                      self._rule(prop, components[2], components[3], label, high)))

    # Conditions: SPARQL boolean expressions that hold when a value node meets a constraint. Expressions that can
    # raise an error (casts, comparisons, regex) are wrapped in COALESCE(..., false): an error is a failure.

    def _var(self) -> str:
        return f"?v{next(self._names)}"

    def _value_conditions(self, shape: rdflib.term.Node, v: str) -> Iterator[Condition]:
        """The value constraints declared on ``shape``, each as a condition on the value node ``v``."""
        g = self.graph
        for cls in g.objects(shape, SH["class"]):
            yield Condition("ClassConstraintComponent", f"Value does not have class {cls}", cls=cls)
        for datatype in g.objects(shape, SH.datatype):
            if datatype == RDF.langString:  # (Virtuoso has no rdf:langString datatype: ask for the tag)
                condition = f"isLiteral({v}) && LANG({v}) != \"\""
            else:
                condition = f"isLiteral({v}) && LANG({v}) = \"\" && datatype({v}) = {_sparql_term(datatype)}"
            if datatype in CASTABLE:
                condition += f" && isLiteral({_sparql_term(datatype)}(STR({v})))"
            yield Condition("DatatypeConstraintComponent", f"Value is not Literal with datatype {datatype}",
                            f"COALESCE({condition}, false)")
        for kind in g.objects(shape, SH.nodeKind):
            if kind not in NODE_KINDS:
                raise ShapeCompileError(f"{self.shape_name(shape)}: unknown sh:nodeKind {kind}")
            yield Condition("NodeKindConstraintComponent", f"Value is not of Node Kind {kind}",
                            NODE_KINDS[kind].format(v=v))
        for members in g.objects(shape, SH["in"]):
            items = list(rdflib.collection.Collection(g, members))
            condition = " || ".join(_same_term(v, item) for item in items) or "false"
            yield Condition("InConstraintComponent", "Value not in list " + ", ".join(map(str, items)),
                            f"({condition})")
        for pattern in g.objects(shape, SH.pattern):
            flags = g.value(shape, SH.flags)
            arguments = _sparql_term(pattern) + (f", {_sparql_term(flags)}" if flags is not None else "")
            yield Condition("PatternConstraintComponent", f"Value does not match pattern {pattern}",
                            f"COALESCE(!isBlank({v}) && REGEX(STR({v}), {arguments}), false)")
        for predicate, operator, component in ((SH.minLength, ">=", "MinLength"), (SH.maxLength, "<=", "MaxLength")):
            for length in g.objects(shape, predicate):
                yield Condition(f"{component}ConstraintComponent", f"String length not {operator} {length}",
                                f"COALESCE(!isBlank({v}) && STRLEN(STR({v})) {operator} {_integer(length)}, false)")
        for predicate, operator in COMPARISONS.items():
            for bound in g.objects(shape, predicate):
                name = predicate.split("#")[-1]
                yield Condition(f"{name[0].upper()}{name[1:]}ConstraintComponent", f"Value is not {operator} {bound}",
                                f"COALESCE({v} {operator} {_sparql_term(bound)}, false)")
        for languages in g.objects(shape, SH.languageIn):
            tags = list(rdflib.collection.Collection(g, languages))
            condition = " || ".join(f"langMatches(lang({v}), {_sparql_term(t)})" for t in tags) or "false"
            yield Condition("LanguageInConstraintComponent", "Language not in " + ", ".join(map(str, tags)),
                            f"COALESCE(isLiteral({v}) && ({condition}), false)")
        for node in g.objects(shape, SH.node):
            yield Condition("NodeConstraintComponent", f"Value does not conform to Shape {self.shape_name(node)}",
                            node=node)
        for node in g.objects(shape, SH["not"]):
            yield Condition("NotConstraintComponent", f"Value conforms to Shape {self.shape_name(node)}",
                            f"!{self._conforms(node, v)}")
        for predicate, joiner, component in ((SH["and"], " && ", "And"), (SH["or"], " || ", "Or")):
            for members in g.objects(shape, predicate):
                parts = [self._conforms(s, v) for s in rdflib.collection.Collection(g, members)]
                yield Condition(f"{component}ConstraintComponent", f"Value does not conform to sh:{component.lower()}",
                                "(" + (joiner.join(parts) or ("true" if component == "And" else "false")) + ")")
        for members in g.objects(shape, SH.xone):
            parts = [f"IF({self._conforms(s, v)}, 1, 0)" for s in rdflib.collection.Collection(g, members)]
            yield Condition("XoneConstraintComponent", "Value does not conform to exactly one shape of sh:xone",
                            f"({' + '.join(parts) or '0'} = 1)")
        if g.value(shape, SH.path) is None:  # on a property shape, sh:hasValue is about the set of values
            for required in g.objects(shape, SH.hasValue):
                yield Condition("HasValueConstraintComponent", f"Value is not {required}",
                                _same_term(v, required))

    def _expression(self, condition: Condition, v: str) -> str:
        """The condition as a boolean expression on ``v`` (inside nested shapes, where no set can be joined)."""
        if condition.cls is not None:
            return f"EXISTS {{ {v} rdf:type/rdfs:subClassOf* {_sparql_term(condition.cls)} }}"
        if condition.node is not None:
            return self._conforms(condition.node, v)
        return condition.expression

    def _conforms(self, shape: rdflib.term.Node, v: str) -> str:
        """A condition that holds when the node ``v`` conforms to ``shape`` (sh:node, sh:qualifiedValueShape)."""
        if self._deactivated(shape):
            return "true"
        g = self.graph
        if g.value(shape, SH.path) is not None:
            return self._property_conforms(shape, v)
        self._reject_unknown(shape, property_shape=False)
        parts = [self._expression(c, v) for c in self._value_conditions(shape, v)]
        parts += [self._property_conforms(p, v) for p in g.objects(shape, SH.property) if not self._deactivated(p)]
        return "(" + (" && ".join(parts) or "true") + ")"

    def _property_conforms(self, prop: rdflib.term.Node, v: str) -> str:
        g = self.graph
        self._reject_unknown(prop, property_shape=True)
        if g.value(prop, SH.qualifiedValueShape) is not None:
            raise ShapeCompileError(f"{self.shape_name(prop)}: a qualified value shape inside a nested shape is "
                                    "not supported")
        path = self.path_sparql(prop)
        parts = []
        w = self._var()
        conditions = [self._expression(c, w) for c in self._value_conditions(prop, w)]
        if conditions:
            parts.append(f"NOT EXISTS {{ {v} {path} {w} . FILTER (!({' && '.join(conditions)})) }}")
        low, high = self._count(prop, SH.minCount), self._count(prop, SH.maxCount)
        if low is not None and low > 0:
            parts.append(f"EXISTS {{ {self._distinct_values(v, path, low)} }}")
        if high is not None:
            parts.append(f"NOT EXISTS {{ {self._distinct_values(v, path, high + 1)} }}")
        for required in g.objects(prop, SH.hasValue):
            parts.append(f"EXISTS {{ {v} {path} {_sparql_term(required)} }}")
        for predicate, operator in PAIRS.items():
            for other in g.objects(prop, predicate):
                w, o = self._var(), self._var()
                parts.append(f"NOT EXISTS {{ {v} {path} {w} . {v} {_sparql_term(other)} {o} "
                             f"FILTER (!COALESCE({w} {operator} {o}, false)) }}")
        return "(" + (" && ".join(parts) or "true") + ")"

    def _distinct_values(self, v: str, path: str, n: int) -> str:
        """A pattern that matches when ``v`` has at least ``n`` distinct values along ``path``."""
        names = [self._var() for _ in range(n)]
        pattern = " ".join(f"{v} {path} {w} ." for w in names)
        different = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        return pattern + (f" FILTER ({' && '.join(different)})" if different else "")


@functools.cache
def compile_shapes(path: Path = SHAPES_FILE) -> tuple[Check, ...]:
    """The shapes file compiled into checks (once per process)."""
    return tuple(Shapes.from_file(path).compile())


def run_checks(store: Store, checks: tuple[Check, ...] | None = None) -> list[Violation]:
    """Run the compiled checks in the store (its default graph: the union of all graphs) and collect violations."""
    if getattr(store, "is_virtuoso", False):
        raise StoreError("the compiled SHACL checks do not run on Virtuoso 7.2 (its SPARQL compiler fails on "
                         "EXISTS over property paths beside subqueries, and joins no row to a subquery's set)",
                         hint="validate with engine='pyshacl' (the graph is dumped), or before pushing to the "
                              "server, as `lskg build` does")
    prefixes = sparql_prefixes()

    def run(check: Check) -> list[Violation]:
        rows = store.query(prefixes + check.sparql)
        if not isinstance(rows, QuerySolutions):
            raise StoreError(f"the compiled SHACL {check.kind} check did not return rows ({type(rows).__name__})")
        return list(check.violations(rows))

    # independent reads: an embedded store runs them on its cores, in order
    return [v for found in store.each(run, compile_shapes() if checks is None else checks) for v in found]
