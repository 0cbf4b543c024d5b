"""The store: idempotent upserts, atomic rebuilds, the remote backend answering like the embedded one, and the
protocol operations (dataset, base IRI, per-graph get/put/post/delete) alike on both."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, RdfFormat, Triple

from lskg.build import build, ingest
from lskg.errors import StoreError
from lskg.kg import open_store
from lskg.kg.queries import list_queries, named_query
from lskg.kg.store import EmbeddedStore, RemoteStore, Store, StoreDir
from lskg.ontology.terms import MODEL

SELECT_FORM = re.compile(r"^\s*SELECT\b", re.IGNORECASE | re.MULTILINE)


def _generations(store: str) -> list[Path]:
    """The data folders of a store (not the readers' marker files beside them)."""
    return [p for p in Path(store).glob("data-*") if p.is_dir()]


def _titles(store) -> set[str]:
    return {r["t"].value for r in store.select("SELECT ?t WHERE { ?s a lskg:Study ; dcterms:title ?t }")}


def test_reingest_is_idempotent_and_replaces_a_study(settings, tiny_corpus, tmp_path):
    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        before, titles = len(store), _titles(store)
    ingest([tiny_corpus], settings)
    with open_store(settings.store) as store:
        assert len(store) == before and _titles(store) == titles
    # Same DOI, new text: the study's facts are replaced, not added to.
    record = json.loads(tiny_corpus.read_text().splitlines()[0])
    record["title"] = "Forecasting the displacement of a slow-moving landslide"
    record["abstract"] = "A GRU was trained on GNSS displacement records."
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps(record) + "\n")
    ingest([changed], settings)
    with open_store(settings.store) as store:
        assert len(_titles(store)) == len(titles)
        rows = store.select("SELECT ?m WHERE { ?s bibo:doi '10.1234/tiny.1' ; lskg:usesModel ?m }")
        models = {r["m"] for r in rows}
        assert MODEL.GRU in models and MODEL.LSTM not in models


def test_failed_build_leaves_previous_graph(settings, tiny_corpus, monkeypatch):
    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        before = len(store)
    import lskg.build as build_module

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_module, "_validate", explode)
    with pytest.raises(RuntimeError):
        build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        assert len(store) == before
    assert len(_generations(settings.store)) == 1


# A real `lskg build` whose write to disk stops half-way (half the quads loaded and flushed), so the test can
# SIGKILL it at the worst moment: a new generation exists on disk, `current` not yet swapped.
HALF_WRITTEN_BUILD = """
import sys, time
from lskg.cli import app
from lskg.kg.store import EmbeddedStore

load = EmbeddedStore.load

def load_half_then_hang(self, quads):
    if self.path is None:  # the in-memory staging graph
        return load(self, quads)
    quads = list(quads)
    load(self, quads[: len(quads) // 2])
    self.native.flush()
    print("half written", flush=True)
    time.sleep(600)

EmbeddedStore.load = load_half_then_hang
app(["build", "--corpus", sys.argv[1], "--store", sys.argv[2], "--no-train"])
"""


def test_killed_build_leaves_previous_graph(settings, tiny_corpus, tmp_path):
    """SIGKILL a real `lskg build` half-way through writing the new graph: the old graph is still served."""
    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        before = len(store)
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(line.replace('"title": "', '"title": "Changed: ') + "\n"
                               for line in tiny_corpus.read_text().splitlines()))
    proc = subprocess.Popen([sys.executable, "-c", HALF_WRITTEN_BUILD, str(changed), settings.store],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "half written"
        assert len(_generations(settings.store)) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open_store(settings.store) as store:
        assert len(store) == before
        assert len(_titles(store)) == 4 and not any(t.startswith("Changed") for t in _titles(store))
    build([tiny_corpus], settings)  # the next build cleans the leftover folder
    assert len(_generations(settings.store)) == 1


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="lskg build"):
        open_store(tmp_path / "nowhere")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def oxigraph_server(tmp_path):
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not os.path.exists(binary):
        pytest.fail("the `oxigraph` server binary is missing: install the test extra (pip install -e .[test])")
    port = _free_port()
    proc = subprocess.Popen([binary, "serve", "--location", str(tmp_path / "oxi"), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


def _canonical(rows):
    return sorted(json.dumps({k: str(v) for k, v in r.items()}, sort_keys=True) for r in rows)


def test_remote_store_answers_like_the_embedded_one(settings, tiny_corpus, oxigraph_server):
    from lskg.settings import Settings

    build([tiny_corpus], settings)
    remote_settings = Settings(store=oxigraph_server)
    build([tiny_corpus], remote_settings)
    with open_store(settings.store) as local, open_store(oxigraph_server) as remote:
        assert isinstance(remote, RemoteStore)
        assert len(local) == len(remote)
        assert {g.value for g in local.named_graphs()} == {g.value for g in remote.named_graphs()}
        compared = 0
        for name in list_queries():
            query = named_query(name)
            if any(not p.optional for p in query.params.values()) or not SELECT_FORM.search(query.text):
                continue  # a required parameter, or not a SELECT (CONSTRUCT: compared by the dump below)
            assert _canonical(remote.select(name)) == _canonical(local.select(name)), name
            compared += 1
        assert compared >= 20, compared  # most named queries ran on both, none skipped by an error
        rows = remote.select("studies_for_context", model=MODEL.RNN)
        assert len(rows) == 2
        assert remote.dump(RdfFormat.N_QUADS).count(b"\n") == len(local)
    # An upsert through SPARQL Update on the remote store is idempotent as well.
    ingest([tiny_corpus], Settings(store=oxigraph_server))
    with open_store(oxigraph_server) as remote:
        assert len(remote) == len(open_store(settings.store))


def test_storedir_rebuild_swaps_atomically(tmp_path):
    sd = StoreDir(tmp_path / "s")
    with sd.rebuild() as store:
        store.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 1 } }")
    first = sd.current.resolve()
    with sd.rebuild() as store:
        store.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 2 } }")
    assert sd.current.resolve() != first and not first.exists()
    with sd.open() as store:
        assert len(store) == 1


def test_a_query_naming_its_dataset_is_not_overridden_by_the_union(tiny_store):
    """FROM picks the default graph; without it, the default graph is the union of all graphs."""
    from lskg.ontology.terms import ONTOLOGY_GRAPH

    union = tiny_store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s a lskg:Study }")
    only_ontology = tiny_store.select(f"SELECT (COUNT(*) AS ?n) FROM {ONTOLOGY_GRAPH} WHERE {{ ?s a lskg:Study }}")
    assert int(union[0]["n"].value) == 4 and int(only_ontology[0]["n"].value) == 0
    # a 'from' inside a string literal is not a dataset clause
    text = tiny_store.select("SELECT ?t WHERE { ?s a lskg:Study ; dcterms:title ?t FILTER(!CONTAINS(?t, 'FROM <x>')) }")
    assert len(text) == 4


def _graph_protocol(store: Store) -> None:
    """The Graph Store Protocol's operations as a client sees them, the default graph included."""
    ex = "https://example.org/"
    g = NamedNode(ex + "g")
    a = Triple(NamedNode(ex + "a"), NamedNode(ex + "p"), Literal("one"))
    b = Triple(NamedNode(ex + "a"), NamedNode(ex + "p"), Literal("two"))
    assert not store.has_graph(g) and store.has_graph(DefaultGraph())
    assert store.put_graph(g, [a]) is True  # created
    assert set(store.get_graph(g)) == {a}
    assert store.post_graph(g, [b]) is False  # merged into the existing graph
    assert set(store.get_graph(g)) == {a, b}
    assert store.put_graph(g, [b]) is False and set(store.get_graph(g)) == {b}  # replaced
    assert store.dataset().union_default_graph and g in store.dataset().named_graphs
    store.put_graph(DefaultGraph(), [a])
    assert set(store.get_graph(DefaultGraph())) == {a}  # the default graph's own triples, not the union
    union = store.select("SELECT ?o WHERE { ?s ?p ?o }")
    assert {r["o"].value for r in union} == {"one", "two"}
    only_g = store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[g])
    assert [s["o"].value for s in only_g] == ["two"]  # a protocol dataset replaces the union
    assert store.delete_graph(DefaultGraph()) and set(store.get_graph(DefaultGraph())) == set()
    assert store.delete_graph(g) is True and not store.has_graph(g) and store.delete_graph(g) is False
    assert not store.select("SELECT ?o WHERE { ?s ?p ?o }")
    # The lskg prefixes are predeclared; a relative IRI resolves against the base IRI given.
    rows = list(store.query("SELECT ?x ?y WHERE { BIND(lskg:Study AS ?x) BIND(<rel> AS ?y) }", base_iri=ex + "b/"))
    assert rows[0]["x"].value.endswith("/ontology/Study") and rows[0]["y"].value == ex + "b/rel"


def test_graph_protocol_operations_embedded() -> None:
    with EmbeddedStore(None) as store:
        _graph_protocol(store)


def test_graph_protocol_operations_remote(oxigraph_server) -> None:
    with open_store(oxigraph_server, write=True) as store:
        assert isinstance(store, RemoteStore)
        _graph_protocol(store)


def test_writes_on_a_read_only_store_are_refused(oxigraph_server) -> None:
    with open_store(oxigraph_server) as store, pytest.raises(StoreError, match="read-only"):
        store.put_graph(NamedNode("https://example.org/g"), [])


def test_each_runs_independent_reads_on_the_cores_in_order(monkeypatch) -> None:
    """An embedded store runs ``each``'s work on one thread per core and returns the results in order: two works
    that each wait for the other can only finish if they run at the same time."""
    import threading

    from lskg.kg import store as stores

    monkeypatch.setattr(stores, "cores", lambda: 2)
    together = threading.Barrier(2, timeout=10)

    def work(n: int) -> int:
        together.wait()
        return n * n

    assert EmbeddedStore(None).each(work, [3, 4]) == [9, 16]
    monkeypatch.setattr(stores, "cores", lambda: 1)
    assert EmbeddedStore(None).each(lambda n: n + 1, [1, 2, 3]) == [2, 3, 4]
