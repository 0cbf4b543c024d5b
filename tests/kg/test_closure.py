"""The study-level hierarchy closure and listing order the build derives (lskg.kg.aggregates): they equal the
property paths and sorts they replace, stay out of what reads a study's facts (that an add refreshes them: test_aggregates.py)."""

from __future__ import annotations

from lskg.build import build
from lskg.gnn.snapshot import Snapshot
from lskg.kg.store import StoreDir
from lskg.kg.validate import validate
from lskg.ontology import concept_index
from lskg.ontology.terms import AGGREGATES_GRAPH, LSKG, MODEL
from tests.kg.test_store import oxigraph_server  # noqa: F401 - the fixture that starts `oxigraph serve`

CLOSED = {LSKG.usesModel: LSKG.usesModelUnder, LSKG.usesData: LSKG.usesDataUnder,
          LSKG.targetsLandslideType: LSKG.targetsLandslideTypeUnder, LSKG.addressesTask: LSKG.addressesTaskUnder,
          LSKG.usesMethodStep: LSKG.usesMethodStepUnder}


def _pairs(store, pattern: str) -> set[tuple[str, str]]:
    return {(r["s"].value, r["c"].value) for r in store.select(f"SELECT ?s ?c WHERE {{ {pattern} }}")}


def test_the_closure_equals_the_property_paths(tiny_store) -> None:
    for direct, closed in CLOSED.items():
        assert _pairs(tiny_store, f"?s {closed} ?c") == _pairs(tiny_store, f"?s {direct}/skos:broader* ?c"), closed
    assert _pairs(tiny_store, f"?s {LSKG.usesModelUnder} ?c")  # the tiny corpus has model facts to close


def test_the_closure_is_derived_not_a_fact(settings, tiny_corpus) -> None:
    """Only the aggregates graph holds it, and what reads a study's facts (study_facts, the recommender's snapshot,
    validation) reads the same with or without it."""
    build([tiny_corpus], settings)

    def facts_seen(store) -> tuple:
        study = store.select("SELECT ?s WHERE { ?s lskg:usesModel model:LSTM }")[0]["s"]
        return (sorted(str(r["property"]) for r in store.select("study_facts", study=study)),
                Snapshot.from_store(store).fingerprint, validate(store).conforms)

    with StoreDir(settings.store).open_reader() as store:
        holders = store.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s {LSKG.usesModelUnder} ?c }} }}")
        assert [r["g"] for r in holders] == [AGGREGATES_GRAPH]
        with_closure = facts_seen(store)
    with StoreDir(settings.store).update() as store:
        store.remove_graphs([AGGREGATES_GRAPH])
    with StoreDir(settings.store).open_reader() as store:
        assert facts_seen(store) == with_closure
    assert with_closure[2] and not set(with_closure[0]) & {p.value for p in CLOSED.values()}


def test_hierarchy_queries_answer_as_the_paths(tiny_store) -> None:
    index = concept_index()
    insar, creeping = index.resolve("InSAR", "data").iri, index.resolve("creeping", "landslide_type").iri
    by_path = {r["s"].value for r in tiny_store.select(
        f"SELECT ?s WHERE {{ ?s lskg:usesData/skos:broader* <{insar}> ; "
        f"lskg:targetsLandslideType/skos:broader* <{creeping}> }}")}
    listed = tiny_store.select("studies_for_context", data=insar, landslide_type=creeping)
    assert by_path and {r["study"].value for r in listed} == by_path
    counted = tiny_store.select("api_count", data=insar, landslide_type=creeping)
    assert int(counted[0]["studies"].value) == len(by_path)
    rnn = {r["study"].value for r in tiny_store.select("api_studies", family=MODEL.RNN)}
    assert rnn == {r["s"].value for r in tiny_store.select(
        "SELECT ?s WHERE { ?s lskg:usesModel/skos:broader* model:RNN }")}


def test_models_for_context_counts_studies_and_names_one_of_them(tiny_store) -> None:
    insar = concept_index().resolve("InSAR", "data").iri
    rows = tiny_store.select("models_for_context", data=insar)
    assert rows
    for row in rows:
        studies = {r["s"] for r in tiny_store.select(
            f"SELECT ?s WHERE {{ ?s lskg:usesData/skos:broader* <{insar}> ; lskg:usesModel {row['model']} }}")}
        assert int(row["studies"].value) == len(studies) and row["example"] in studies


def test_listing_queries_sort_newest_first_then_by_title(tiny_store) -> None:
    def key(row):
        return (-int(row["year"].value), row["title"].value)

    rows = tiny_store.select("studies_for_context")
    assert len(rows) == 4 and [key(r) for r in rows] == sorted(key(r) for r in rows)
    assert tiny_store.select("api_studies") == rows
    latest = tiny_store.select("example_latest_studies")
    assert [r["year"].value for r in latest] == sorted((r["year"].value for r in rows), reverse=True)


def test_listing_pages_are_slices_of_the_whole_listing(tiny_store) -> None:
    """limit and offset cut the listing in SPARQL, before titles are read: each page is the matching slice of
    the whole list, and api_count gives its length."""
    whole = tiny_store.select("api_studies")
    pages = [tiny_store.select("api_studies", limit=3, offset=offset) for offset in (0, 3)]
    assert [len(p) for p in pages] == [3, 1] and pages[0] + pages[1] == whole
    assert tiny_store.select("studies_for_context", limit=2, offset=1) == tiny_store.select("studies_for_context")[1:3]
    assert int(tiny_store.select("api_count")[0]["studies"].value) == len(whole)
    insar = concept_index().resolve("InSAR", facet="data").iri
    matching = tiny_store.select("api_studies", data=insar)
    assert 0 < len(matching) < len(whole) and tiny_store.select("api_studies", data=insar, limit=1) == matching[:1]


def test_a_candidate_named_by_several_studies_is_one_row_per_family(settings, tmp_path) -> None:
    """A candidate's label is restated in the graph of every study that names it; models_for_context still gives
    one row per (family, model), counting each study once."""
    import json

    corpus = tmp_path / "candidates.jsonl"
    text = ("{name}: a lightweight Transformer network for forecasting the displacement of a slow-moving landslide "
            "from InSAR time series. {name} outperformed an LSTM.")
    corpus.write_text("".join(json.dumps({"id": f"c{n}", "title": f"Study {n}", "year": 2020 + n,
                                          "text": text.format(name="LiteTransNet")}) + "\n" for n in range(3)))
    build([corpus], settings)
    with StoreDir(settings.store).open_reader() as store:
        rows = store.select("models_for_context", data=concept_index().resolve("InSAR", facet="data").iri)
    pairs = [(r["family"].value, r["model"].value) for r in rows]
    lite = [r for r in rows if r["modelLabel"].value == "LiteTransNet"]
    assert len(pairs) == len(set(pairs)) and lite and all(int(r["studies"].value) == 3 for r in lite)
