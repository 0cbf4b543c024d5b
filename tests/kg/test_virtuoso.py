"""The remote store against Virtuoso Open Source: build, add, every named query and validation answer as they do
embedded (and on `oxigraph serve`, tests/kg/test_store.py). Needs ``virtuoso-t``; skips cleanly without it."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import NamedNode, RdfFormat

from lskg.build import build, ingest
from lskg.kg import open_store
from lskg.kg.queries import list_queries
from lskg.kg.store import RemoteStore
from lskg.kg.validate import validate
from lskg.ontology.terms import MODEL
from lskg.settings import Settings

# Named queries whose rows Virtuoso cannot give as Oxigraph does (docs/design.md, "Virtuoso").
SYSTEM_GRAPHS = "enumerates every graph or quad: Virtuoso's default dataset also holds its system graphs (the " \
                "store's named_graphs/len/dump leave them out and are compared instead)"
DIFFERENT_ON_VIRTUOSO: dict[str, str] = {
    "store_all_quads": SYSTEM_GRAPHS, "store_named_graphs": SYSTEM_GRAPHS, "store_quad_count": SYSTEM_GRAPHS,
    "store_graph_sizes": SYSTEM_GRAPHS, "store_union_graph": SYSTEM_GRAPHS, "api_graph_get": SYSTEM_GRAPHS,
    "gnn_concepts": "projects boolean expressions (BOUND/EXISTS ... AS ?family): Virtuoso 7.2 answers "
                    "\"0\"/\"1\"^^xsd:integer where Oxigraph answers xsd:boolean",
}


def _canonical(rows):
    return sorted(json.dumps({k: str(v) for k, v in r.items()}, sort_keys=True) for r in rows)


@pytest.fixture(scope="module")
def stores(virtuoso_server, tmp_path_factory):
    corpus = __import__("tests.conftest", fromlist=["DATA"]).DATA / "tiny_corpus.jsonl"
    local = Settings(store=str(tmp_path_factory.mktemp("embedded") / "store"))
    build([corpus], local)
    build([corpus], Settings(store=virtuoso_server))
    return local.store, virtuoso_server, corpus


def test_virtuoso_is_recognised_and_its_layout_used(stores):
    _, url, _ = stores
    with open_store(url) as remote:
        assert isinstance(remote, RemoteStore) and remote.is_virtuoso
        assert remote.update_url == url and remote.gsp_url.endswith("/sparql-graph-crud")


def test_every_named_query_answers_as_embedded(stores):
    local_path, url, _ = stores
    with open_store(local_path) as local, open_store(url) as remote:
        assert len(local) == len(remote)
        assert {g.value for g in local.named_graphs()} == {g.value for g in remote.named_graphs()}
        compared, different = [], []
        for name in list_queries():
            try:
                expected = local.select(name)
            except Exception:  # noqa: BLE001 - queries with required parameters
                continue
            if name in DIFFERENT_ON_VIRTUOSO:
                continue
            if _canonical(remote.select(name)) != _canonical(expected):
                different.append(name)
            compared.append(name)
        assert not different, f"answered differently on Virtuoso: {different}"
        assert len(compared) >= 15
        assert len(remote.select("studies_for_context", model=MODEL.RNN)) == 2
        assert remote.dump(RdfFormat.N_QUADS).count(b"\n") == len(local)


def test_add_is_idempotent_on_virtuoso(stores):
    local_path, url, corpus = stores
    ingest([corpus], Settings(store=url))
    with open_store(url) as remote, open_store(local_path) as local:
        assert len(remote) == len(local)
        for name in ("concept_study_counts", "method_step_counts", "models_per_data_source", "graph_stats"):
            assert _canonical(remote.select(name)) == _canonical(local.select(name)), name  # recounted by Virtuoso


def test_validation_of_a_virtuoso_store(stores):
    """pySHACL validates what the store holds (lskg's graphs only); the compiled SPARQL checks refuse Virtuoso, whose
    SPARQL compiler fails on them (docs/design.md), with a message that says what to do instead."""
    from lskg.errors import StoreError

    _, url, _ = stores
    with open_store(url) as remote:
        assert validate(remote, engine="pyshacl").conforms
        with pytest.raises(StoreError, match="pyshacl"):
            validate(remote)
        with open_store(url, read_only=False) as writable:
            writable.update("PREFIX lskg: <https://w3id.org/lskg/ontology/> INSERT DATA { GRAPH "
                            f"{NamedNode('https://w3id.org/lskg/graph/study/bad')} {{ <urn:study> a lskg:Study }} }}")
        broken = validate(remote, engine="pyshacl")
        assert not broken.conforms and {v.focus for v in broken.violations} == {"urn:study"}
