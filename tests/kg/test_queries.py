"""Named queries: every file runs and yields its declared columns; parameters are bound safely."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, QueryBoolean, QuerySolutions

from lskg.errors import QueryError
from lskg.kg.queries import bind, list_queries, named_query, prepare
from lskg.ontology import concept_index
from lskg.ontology.terms import DATA, LANDSLIDE, LSKG, MODEL, TASK

DEFAULTS = {
    "property": "https://w3id.org/lskg/ontology/usesData",
    "property_a": "https://w3id.org/lskg/ontology/usesData",
    "property_b": "https://w3id.org/lskg/ontology/targetsLandslideType",
}


CORE_QUERIES = [q for q in list_queries() if not q.startswith(("gnn_", "api_", "table_"))]
"""Queries of the gnn and api packages are tested with their own fixtures."""
MAY_BE_EMPTY = {"candidate_concepts", "aggregate_candidate_concepts"}  # the tiny corpus names no unknown architecture; see test_mapping.py


@pytest.mark.parametrize("name", CORE_QUERIES)
def test_named_query_runs_and_declares_its_columns(tiny_store, name):
    query = named_query(name)
    assert query.summary, f"{name}.rq has no '#+ summary:' header"
    params = {}
    for pname, param in query.params.items():
        if not param.optional:
            if pname in DEFAULTS:
                params[pname] = DEFAULTS[pname]
            elif pname == "study":
                params[pname] = tiny_store.select("SELECT ?s WHERE { ?s lskg:usesModel model:LSTM }")[0]["s"]
            elif pname == "concept":
                params[pname] = MODEL.LSTM
            elif pname == "graph":
                params[pname] = tiny_store.named_graphs()[0]
            else:
                raise AssertionError(f"{name}.rq: no test value for its parameter {pname}")
    result = tiny_store.query(prepare(name, params))
    if isinstance(result, QuerySolutions):
        assert [v.value for v in result.variables] == list(query.columns)
        assert name in MAY_BE_EMPTY or len(list(result)) > 0, f"{name} found nothing on the tiny corpus"
    elif isinstance(result, QueryBoolean):  # ASK: true on the tiny corpus
        assert not query.columns and bool(result)
    else:
        assert not query.columns and len(list(result)) > 0


OPTIONAL_IRI_QUERIES = [q for q in list_queries() if named_query(q).params and not q.startswith("gnn_")
                        and q != "api_ask_metrics"  # the tiny corpus reports no metric
                        and all(p.optional and p.kind in ("iri", "limit") for p in named_query(q).params.values())]


@pytest.mark.parametrize("name", OPTIONAL_IRI_QUERIES)
def test_every_bound_parameter_constrains_the_answer(tiny_store, name):
    """Binding a parameter to a concept no study has changes the answer (no rows, or counts of 0): a parameter
    used where its VALUES block cannot reach (inside a subquery that does not project it) would be ignored."""
    unbound = tiny_store.select(name)
    assert unbound, f"{name} found nothing on the tiny corpus"
    for pname in [p.name for p in named_query(name).params.values() if p.kind == "iri"]:
        bound = tiny_store.select(name, **{pname: ["https://example.org/no-such-concept"]})
        assert bound != unbound, f"{name}: the parameter {pname} did not constrain the answer"


def test_hierarchy_query_finds_narrower_concepts(tiny_store):
    """Asking for RNN studies finds the LSTM and GRU studies; asking for InSAR finds InSAR time series."""
    titles = {r["title"].value for r in tiny_store.select("studies_for_context", model=MODEL.RNN)}
    assert any("LSTM" in t for t in titles) and any("GRU" in t for t in titles)
    assert not any("U-Net" in t for t in titles)
    insar = concept_index().resolve("InSAR", facet="data").iri
    titles = {r["title"].value for r in tiny_store.select("studies_for_context", data=insar)}
    assert any("LSTM" in t for t in titles)


def test_models_for_insar_and_creeping_landslides(tiny_store):
    """The question of the README: which models use InSAR for creeping or slow-moving landslides."""
    index = concept_index()
    rows = tiny_store.select("models_for_context", data=index.resolve("InSAR", "data").iri,
                             landslide_type=index.resolve("creeping", "landslide_type").iri)
    families = {r["familyLabel"].value for r in rows}
    assert any("recurrent" in f.lower() for f in families), families
    assert all(int(r["studies"].value) >= 1 for r in rows)
    examples = [tiny_store.select("api_study", study=r["example"])[0]["title"].value for r in rows]
    assert any("LSTM" in title for title in examples)


HOSTILE = 'x" } ; DROP ALL ; INSERT DATA { <urn:a> <urn:b> <urn:c> } ; SELECT * WHERE { "'


def test_hostile_literal_cannot_alter_a_query(tiny_store):
    before = len(tiny_store)
    text = bind(named_query("studies_for_context"), {"data": Literal(HOSTILE)})
    assert text.count("DROP ALL") == 1 and '\\"' in text
    assert tiny_store.select("studies_for_context", data=Literal(HOSTILE)) == []
    with pytest.raises(QueryError, match="not a valid IRI"):
        tiny_store.select("studies_for_context", data=HOSTILE)
    assert len(tiny_store) == before


def test_label_with_quotes_and_braces_is_an_unknown_concept():
    from lskg.errors import UnknownConceptError

    with pytest.raises(UnknownConceptError) as info:
        concept_index().resolve('InSAR" } UNION { ?s ?p ?o', facet="data")
    assert "unknown concept" in info.value.message


def test_binding_errors_name_the_problem():
    with pytest.raises(QueryError, match="no parameter"):
        bind(named_query("studies_for_context"), {"colour": "red"})
    with pytest.raises(QueryError, match="needs the parameter"):
        bind(named_query("evidence_for_fact"), {})
    with pytest.raises(QueryError, match="no named query"):
        prepare("no_such_query")
    with pytest.raises(QueryError, match="one value"):
        bind(named_query("evidence_for_fact"), {"study": ["urn:a", "urn:b"], "concept": DATA.InSAR})


def test_optional_parameter_lines_are_dropped_when_unbound():
    text = bind(named_query("studies_for_context"), {"landslide_type": LANDSLIDE.SlowMovingLandslide})
    assert "$data" not in text and "$task" not in text
    assert "VALUES $landslide_type" in text


def test_a_parameter_binds_in_the_subquery_that_uses_it():
    """The VALUES block goes to the top of the innermost WHERE group around each mention (a block in the outer
    group would not reach a subquery's own variables), in the order the parameters are declared; a limit is
    written into the text."""
    text = bind(named_query("studies_for_context"), {"task": [TASK.SusceptibilityMapping], "data": [DATA.InSAR],
                                                     "limit": 20, "offset": 40})
    inner = text[text.index("SELECT DISTINCT"):]
    assert inner.index("VALUES $data") < inner.index("VALUES $task") < inner.index("addressesTaskUnder $task")
    assert text.count("VALUES") == 2 and "LIMIT 20" in text and "OFFSET 40" in text
    outer = bind(named_query("api_ask_concepts"), {"data": [DATA.InSAR], "target": LSKG.usesModel})
    assert outer.index("VALUES $data") < outer.index("{ SELECT ?study ?concept WHERE {\n  VALUES $target")


@pytest.mark.parametrize("value", [-1, "5; DROP ALL", 2.5, True, "ten"])
def test_a_limit_is_a_non_negative_integer(value):
    with pytest.raises(QueryError, match="limit must be a non-negative integer"):
        bind(named_query("studies_for_context"), {"limit": value})


def test_malformed_query_is_a_query_error(tiny_store):
    with pytest.raises(QueryError, match="malformed"):
        tiny_store.query("SELECT ?s WHERE { ?s ?p }")
