"""The store: idempotent upserts, atomic rebuilds, and the remote backend answering like the embedded one."""

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
from pyoxigraph import RdfFormat

from lskg.build import build, ingest
from lskg.errors import StoreError
from lskg.kg import open_store
from lskg.kg.queries import list_queries, named_query
from lskg.kg.store import RemoteStore, StoreDir
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


def test_killed_build_leaves_previous_graph(settings, tiny_corpus, tmp_path):
    """SIGKILL a real `lskg build` half-way through a large corpus: the old graph is still served."""
    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        before = len(store)
    big = tmp_path / "big.jsonl"
    lines = tiny_corpus.read_text().splitlines()
    with big.open("w") as f:
        for i in range(4000):
            rec = json.loads(lines[i % len(lines)])
            rec.update(id=f"r{i}", doi=None, title=f"{rec['title']} (replicate {i})")
            f.write(json.dumps(rec) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "lskg", "build", "--corpus", str(big), "--store", settings.store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(_generations(settings.store)) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(settings.store) as store:
        assert len(store) == before
        assert len(_titles(store)) == 4
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
