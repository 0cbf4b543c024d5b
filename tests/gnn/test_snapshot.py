from __future__ import annotations

import numpy as np

from lskg.gnn.snapshot import EDGE_NAMES, Snapshot, to_heterodata
from lskg.kg import open_store
from lskg.kg.mapping import study_quads
from lskg.ontology import concept_index, ontology_quads
from lskg.ontology.terms import MODEL
from lskg.records import Evidence, Fact, Study, StudyFacts


def _study(key: str, year: int, **facets: list[str]) -> StudyFacts:
    index = concept_index()
    study = Study(id=key, title=f"{key} study", year=year, source=f"t#{key}")
    ev = Evidence(study.source, study.title, 0, 1, "x", "test", 1.0)
    facts = [Fact(f, index.resolve(label, f).iri, label, ev) for f, labels in facets.items() for label in labels]
    return StudyFacts(study, facts)


def tiny_store():
    store = open_store(None)
    store.load(ontology_quads())
    for item in (_study("a", 2020, model=["LSTM"], data=["InSAR time series"], task=["displacement prediction"]),
                 _study("b", 2021, model=["GRU"], data=["GNSS"], task=["displacement prediction"]),
                 _study("c", 2022, model=["U-Net"], data=["optical remote sensing imagery"]),
                 _study("e", 2022, data=["optical remote sensing imagery"])):
        store.load(study_quads(item))
    return store


def test_snapshot_reads_studies_concepts_and_closes_the_hierarchy():
    snap = Snapshot.from_store(tiny_store())
    assert [s.year for s in snap.studies] == [2020, 2021, 2022, 2022]
    lstm = snap.model.index[MODEL.LSTM.value]
    rnn = snap.model.index[MODEL.RNN.value]
    assert snap.facts["model"][0] == {lstm}
    assert rnn in snap.closure["model"][0]  # a study on LSTM informs RNN
    assert snap.model.family[rnn] and not snap.model.family[lstm]
    assert snap.usable().sum() == 3  # the study without a model fact teaches nothing
    assert snap.count(("model", rnn)) == 2


def test_fingerprint_changes_with_the_facts():
    store = tiny_store()
    before = Snapshot.from_store(store).fingerprint
    assert Snapshot.from_store(store).fingerprint == before
    store.load(study_quads(_study("d", 2023, model=["GRU"], data=["InSAR time series"])))
    assert Snapshot.from_store(store).fingerprint != before


def test_heterodata_has_reverse_and_hierarchy_edges_and_hides_model_edges():
    snap = Snapshot.from_store(tiny_store())
    data = to_heterodata(snap, np.arange(3), hide_models=[0])
    assert set(data.node_types) == {"study", "model", "data", "landslide_type", "task"}
    uses = data["study", EDGE_NAMES["model"], "model"].edge_index
    rev = data["model", "rev_" + EDGE_NAMES["model"], "study"].edge_index
    assert 0 not in uses[0].tolist() and 0 not in rev[1].tolist()
    assert uses.shape[1] == 2 and rev.shape[1] == 2
    assert data["model", "broader", "model"].edge_index.shape[1] > 0
    assert data["study"].x.shape == (3, 4)


def test_saved_snapshot_round_trips_without_its_memos(tmp_path):
    from lskg.gnn import snapshot as snapshots

    snap = Snapshot.from_store(tiny_store())
    _ = snap.incidence, snap.pair_counts, snap.stated("data"), snap.usable()  # memos the file must not carry
    path = tmp_path / "snapshot.pkl"
    snapshots.save(snap, path, "data-1")
    loaded = snapshots.load(path, "data-1")
    assert loaded is not None and loaded.fingerprint == snap.fingerprint
    assert not {"incidence", "pair_counts", "_stated", "_usable"} & set(loaded.__dict__)
    assert (loaded.incidence == snap.incidence).all()  # rebuilt on use
    assert snapshots.load(path, "data-2") is None  # saved for another graph version
    path.write_bytes(b"not a pickle")
    assert snapshots.load(path, "data-1") is None


def test_only_a_read_only_generation_has_a_version(tmp_path):
    from lskg.gnn.snapshot import graph_version
    from lskg.kg.store import StoreDir

    assert graph_version(tiny_store()) is None  # in memory: its content can change
    with StoreDir(tmp_path / "s").rebuild() as writable:
        assert graph_version(writable) is None
    with StoreDir(tmp_path / "s").open(read_only=True) as reader:
        assert graph_version(reader) == StoreDir(tmp_path / "s").generation()
