"""Real third-party SPARQL clients against the served app: SPARQLWrapper (JSON, XML, CSV, TSV; GET and POST;
it adds format=/output=/results= and defaults to XML) and rdflib's SPARQLStore (one Accept header for every form)."""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, GET, JSON, POST, POSTDIRECTLY, TSV, TURTLE, URLENCODED, XML, SPARQLWrapper

from lskg.kg.store import StoreDir
from lskg.ontology.terms import sparql_prefixes
from tests.api.conftest import LiveServer

QUERY = """PREFIX lskg: <https://w3id.org/lskg/ontology/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?study ?title WHERE { ?study a lskg:Study ; dcterms:title ?title } ORDER BY ?title"""


@pytest.fixture(scope="module")
def direct(api_store: str) -> list[tuple[str, str]]:
    """The same query on pyoxigraph directly: what every client must get."""
    store = ox.Store.read_only(str(StoreDir(api_store).current.resolve()))
    return [(s["study"].value, s["title"].value) for s in store.query(QUERY, use_default_graph_as_union=True)]


def wrapper(server: LiveServer, method: str, fmt: str, request_method: str = URLENCODED) -> SPARQLWrapper:
    sparql = SPARQLWrapper(f"{server.url}/sparql")
    sparql.setQuery(QUERY)
    sparql.setMethod(method)
    sparql.setRequestMethod(request_method)
    sparql.setReturnFormat(fmt)
    return sparql


@pytest.mark.parametrize("method,request_method", [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)])
def test_sparqlwrapper_json_xml_csv_tsv(live_server: LiveServer, direct, method: str, request_method: str) -> None:
    rows = wrapper(live_server, method, JSON, request_method).queryAndConvert()["results"]["bindings"]
    assert [(r["study"]["value"], r["title"]["value"]) for r in rows] == direct
    doc = wrapper(live_server, method, XML, request_method).queryAndConvert()  # a DOM
    assert len(doc.getElementsByTagName("result")) == len(direct)
    for fmt, delimiter in ((CSV, ","), (TSV, "\t")):
        text = wrapper(live_server, method, fmt, request_method).queryAndConvert().decode()
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        assert len(table) == len(direct) + 1


def test_sparqlwrapper_defaults_to_xml_and_handles_construct(live_server: LiveServer, direct) -> None:
    sparql = SPARQLWrapper(f"{live_server.url}/sparql")
    sparql.setQuery(QUERY)
    assert len(sparql.queryAndConvert().getElementsByTagName("result")) == len(direct)
    sparql.setQuery("PREFIX lskg: <https://w3id.org/lskg/ontology/> CONSTRUCT WHERE { ?s a lskg:Study }")
    graph = sparql.queryAndConvert()  # RDF/XML by default, parsed by rdflib
    assert len(graph) == len(direct)
    sparql.setReturnFormat(TURTLE)
    assert len(Graph().parse(data=sparql.queryAndConvert(), format="turtle")) == len(direct)
    sparql.setQuery("ASK { ?s ?p ?o }")
    sparql.setReturnFormat(JSON)
    assert sparql.queryAndConvert()["boolean"] is True


def test_sparqlwrapper_sees_a_bad_query_as_bad_query(live_server: LiveServer) -> None:
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sparql = SPARQLWrapper(f"{live_server.url}/sparql")
    sparql.setQuery("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryBadFormed):
        sparql.queryAndConvert()


def test_rdflib_sparqlstore(live_server: LiveServer, direct) -> None:
    for method in ("GET", "POST", "POST_FORM"):
        store = SPARQLStore(f"{live_server.url}/sparql", method=method)
        graph = Graph(store=store)
        rows = list(graph.query(QUERY))
        assert [(str(s), str(t)) for s, t in rows] == direct
        assert bool(graph.query("ASK { ?s ?p ?o }")) is True
        constructed = graph.query("PREFIX lskg: <https://w3id.org/lskg/ontology/> CONSTRUCT WHERE { ?s a lskg:Study }")
        assert len(constructed.graph) == len(direct)
        assert len(graph) > 0  # SELECT (count(*) ...)
        study = URIRef(direct[0][0])
        assert list(graph.triples((study, URIRef("http://purl.org/dc/terms/title"), None)))
        store.close()


def test_rdflib_named_graph_context(live_server: LiveServer, direct) -> None:
    store = SPARQLStore(f"{live_server.url}/sparql")
    graphs = [row[0] for row in Graph(store=store).query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a ?t } }")]
    study_graph = next(g for g in graphs if "/graph/study/" in str(g))
    one = Graph(store=store, identifier=study_graph)  # sent as default-graph-uri
    count = list(one.query(sparql_prefixes() + "SELECT (COUNT(?s) AS ?n) WHERE { ?s a lskg:Study }"))
    assert int(count[0][0]) == 1
