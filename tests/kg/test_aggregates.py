"""Build-time aggregates: the counting queries read them, and answer as their defining scans do, after a build and
after every add."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lskg.build import build, ingest
from lskg.errors import StoreError
from lskg.kg import read
from lskg.kg.aggregates import AGGREGATES, refresh
from lskg.kg.queries import named_query
from lskg.kg.store import StoreDir, open_store
from lskg.ontology.terms import AGGREGATES_GRAPH, sparql_prefixes
from lskg.settings import Settings
from tests.kg.test_store import oxigraph_server  # noqa: F401 - the fixture that starts `oxigraph serve`

COUNTING = {  # counting query -> its aggregate's defining query
    "concept_study_counts": "aggregate_concept_studies",
    "method_step_counts": "aggregate_method_step_studies",
    "models_per_data_source": "aggregate_data_family_studies",
    "graph_stats": "aggregate_graph_statistics",
    "candidate_concepts": "aggregate_candidate_concepts",
}
EXTRA = [
    {"id": "cnn-insar", "title": "CNN detection of slow-moving landslides in InSAR velocity maps", "year": 2024,
     "abstract": "A convolutional neural network was trained on InSAR velocity maps to detect slow-moving landslides."},
    {"id": "tf-rain", "title": "A Transformer for rainfall-induced landslide displacement prediction", "year": 2025,
     "abstract": "A Transformer model forecast the displacement of a rainfall-induced landslide from GNSS records."},
]


def _rows(store, query: str, **params) -> list[tuple[str, ...]]:
    columns = named_query(query).columns
    return [tuple(str(row[c]) for c in columns) for row in store.select(query, **params)]


def _answers(store) -> dict[str, list]:
    """Every counting query's answer, as the API would read it (sorted: rows that tie on the queries' ORDER BY
    come in no set order)."""
    return {name: sorted(_rows(store, name)) for name in COUNTING}


def _derived(store) -> set[tuple[str, str, str]]:
    """The aggregates graph's triples other than the observations: the study-level closure and listing order."""
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {AGGREGATES_GRAPH} {{ ?s ?p ?o }} "
                        "FILTER NOT EXISTS { ?s qb:dataSet ?d } }")
    return {(r["s"].value, r["p"].value, r["o"].value) for r in rows}


def _scans(store) -> dict[str, list]:
    """The same answers computed by scanning the graph with the aggregates' defining queries."""
    return {name: sorted(_rows(store, scan)) for name, scan in COUNTING.items()}


def test_each_aggregate_stores_every_column_of_its_defining_query() -> None:
    for aggregate in AGGREGATES:
        assert tuple(aggregate.components) == named_query(aggregate.query).columns, aggregate.name


def test_counting_queries_read_the_aggregates_and_answer_as_the_scans(settings, tiny_corpus) -> None:
    build([tiny_corpus], settings)
    with StoreDir(settings.store).open_reader() as store:
        assert store.has_graph(AGGREGATES_GRAPH)
        assert _answers(store) == _scans(store)
        assert int(store.select("graph_stats")[0]["studies"].value) == 4
        scheme = store.select("concept_study_counts")[0]["scheme"]
        assert {str(r["scheme"]) for r in store.select("concept_study_counts", scheme=scheme)} == {str(scheme)}


def test_counting_queries_read_nothing_but_the_aggregates(settings, tiny_corpus) -> None:
    """Without its aggregates graph a store answers no count: the queries do not fall back to scanning."""
    build([tiny_corpus], settings)
    with StoreDir(settings.store).update() as store:
        store.remove_graphs([AGGREGATES_GRAPH])
    with StoreDir(settings.store).open_reader() as store:
        assert all(store.select(name) == [] for name in COUNTING)
        with pytest.raises(StoreError, match="no build-time aggregates") as caught:
            read.stats(store)
        assert "lskg build" in (caught.value.hint or "")


@pytest.mark.parametrize("older", ["", '"1"^^xsd:integer'], ids=["before-versions", "version-1"])
def test_a_graph_an_older_lskg_derived_says_so(settings, tiny_corpus, older: str) -> None:
    """A graph whose aggregates an older lskg derived (before the study-level closure: no version; before the
    newest-first order and the candidate data set: version 1) would answer the context queries wrongly: reading its
    statistics says why and how to fix it, and an add fixes it."""
    build([tiny_corpus], settings)
    with StoreDir(settings.store).update() as store:
        store.update(sparql_prefixes() + "DELETE WHERE { GRAPH graph:aggregates { graph:aggregates dcterms:hasVersion ?v } }"
                     + (f" ; INSERT DATA {{ GRAPH graph:aggregates {{ graph:aggregates dcterms:hasVersion {older} }} }}"
                        if older else ""))
    with StoreDir(settings.store).open_reader() as store:
        with pytest.raises(StoreError, match=f"derived by another lskg \\(version {'1' if older else 'none'};") as caught:
            read.stats(store)
        assert "lskg add" in (caught.value.hint or "")
    with StoreDir(settings.store).update() as store:
        refresh(store)
    with StoreDir(settings.store).open_reader() as store:
        assert read.stats(store).studies == 4


def test_counts_keep_the_order_of_their_defining_query(settings, tiny_corpus) -> None:
    build([tiny_corpus], settings)
    with StoreDir(settings.store).open_reader() as store:
        rows = store.select("concept_study_counts")
        keys = [(str(r["scheme"]), -int(r["studies"].value), r["label"].value) for r in rows]
        assert keys == sorted(keys) and len({k[1] for k in keys}) > 1


@pytest.mark.parametrize("remote", [False, True], ids=["embedded", "oxigraph-serve"])
def test_an_add_refreshes_the_aggregates(settings, tiny_corpus, tmp_path: Path, remote, request) -> None:
    """Counts after an add equal counts recomputed from scratch: by the scans, and by a fresh build of all the
    studies; so do the study-level closure and the listing order."""
    if remote:
        settings = Settings(store=request.getfixturevalue("oxigraph_server"))
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(json.dumps(record) + "\n" for record in EXTRA))
    build([tiny_corpus], settings)
    ingest([extra], settings)
    fresh = Settings(store=str(tmp_path / "fresh"))
    build([tiny_corpus, extra], fresh)
    with open_store(settings.store) as store, open_store(fresh.store) as rebuilt:
        assert int(store.select("graph_stats")[0]["studies"].value) == 6
        assert _answers(store) == _scans(store) == _answers(rebuilt)
        assert _derived(store) == _derived(rebuilt) and _derived(store)
        listed = [r["study"] for r in store.select("studies_for_context")]
        assert listed == [r["study"] for r in rebuilt.select("studies_for_context")] and len(listed) == 6
