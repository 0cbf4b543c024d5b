"""Builds and adds never destroy a graph: bad input fails and keeps it, one writer at a time, adds are
copy-on-write."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from lskg.build import build, ingest
from lskg.errors import InputError, StoreError
from lskg.kg.store import StoreDir, StoreLockedError


def _studies(store_path: str) -> int:
    with StoreDir(store_path).open_reader() as store:
        return len(store.select("SELECT ?s WHERE { ?s a lskg:Study }"))


def _bad_corpus(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.jsonl"
    if kind == "missing":
        return path
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "latin-1":
        path.write_bytes('{"title": "Glissement de terrain à Séchilienne, détecté par LSTM"}\n'.encode("latin-1"))
    elif kind == "all-bad":
        path.write_text('not json\n{"authors": "nobody"}\n[1, 2]\n')
    elif kind == "empty-folder":
        path = tmp_path / "empty-folder"
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["missing", "empty", "binary", "latin-1", "all-bad", "empty-folder"])
def test_a_build_that_reads_no_study_fails_and_keeps_the_graph(kind, settings, tiny_corpus, tmp_path):
    build([tiny_corpus], settings)
    before = StoreDir(settings.store).generation()
    corpus = _bad_corpus(kind, tmp_path)
    with pytest.raises(InputError) as failure:
        build([corpus], settings)
    assert str(corpus) in failure.value.message and "left as it was" in failure.value.hint
    assert StoreDir(settings.store).generation() == before
    assert (Path(settings.store) / before).is_dir()
    assert _studies(settings.store) == 4


def test_a_build_naming_a_missing_file_beside_good_ones_fails(settings, tiny_corpus, tmp_path):
    """A build replaces the whole graph: silently dropping a named source's studies would lose them."""
    build([tiny_corpus], settings)
    with pytest.raises(InputError, match="no such file"):
        build([tiny_corpus, tmp_path / "typo.jsonl"], settings)
    assert _studies(settings.store) == 4


def test_add_of_a_missing_or_unreadable_file_fails_and_changes_nothing(settings, tiny_corpus, tmp_path):
    build([tiny_corpus], settings)
    before = StoreDir(settings.store).generation()
    with pytest.raises(InputError, match="no such file"):
        ingest([tmp_path / "missing.jsonl"], settings)
    with pytest.raises(InputError, match="no study could be read"):
        ingest([_bad_corpus("latin-1", tmp_path)], settings)
    assert StoreDir(settings.store).generation() == before


def test_add_without_a_graph_says_to_build_first(settings, tiny_corpus):
    with pytest.raises(StoreError, match="lskg build"):
        ingest([tiny_corpus], settings)
    assert not Path(settings.store).exists()


def test_add_is_copy_on_write(settings, tiny_corpus, tmp_path):
    build([tiny_corpus], settings)
    store_dir = StoreDir(settings.store)
    before = store_dir.generation()
    reader = store_dir.open_reader()  # a read-only server answering from the current graph
    record = {"id": "new", "title": "A transformer maps rainfall-induced landslides from Sentinel-2 imagery",
              "year": 2024, "abstract": "A vision transformer segments landslides in Sentinel-2 images."}
    extra = tmp_path / "new.jsonl"
    extra.write_text(json.dumps(record) + "\n")
    ingest([extra], settings)
    assert store_dir.generation() != before
    assert len(reader.select("SELECT ?s WHERE { ?s a lskg:Study }")) == 4  # never sees the write
    assert (Path(settings.store) / before).is_dir()  # pinned by the reader
    reader.close()
    assert _studies(settings.store) == 5
    ingest([extra], settings)  # the next write collects the unpinned old generation
    assert {p.name for p in Path(settings.store).glob("data-*") if p.is_dir()} == {store_dir.generation()}


def test_a_second_writer_fails_at_once_or_waits(settings, tiny_corpus):
    build([tiny_corpus], settings)
    store_dir = StoreDir(settings.store)
    with store_dir.lock(holder="lskg serve --allow-update"):
        started = time.monotonic()
        with pytest.raises(StoreLockedError, match="locked by `lskg serve --allow-update`"):
            build([tiny_corpus], settings)
        with pytest.raises(StoreLockedError, match="locked by `lskg serve --allow-update`"):
            ingest([tiny_corpus], settings)
        assert time.monotonic() - started < 2
    release = threading.Event()

    def hold() -> None:
        with store_dir.lock(holder="lskg build"):
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    threading.Timer(0.5, release.set).start()
    report = ingest([tiny_corpus], settings, wait=30)
    holder.join()
    assert report.studies == 4 and _studies(settings.store) == 4


def test_an_invalid_graph_never_reaches_the_disk(settings, tiny_corpus, monkeypatch):
    """The new graph is validated in memory: a build that fails validation writes no data folder at all."""
    import lskg.build as build_module
    from lskg.errors import ValidationFailed
    from lskg.kg.validate import ValidationReport, Violation

    build([tiny_corpus], settings)
    before = {p.name for p in Path(settings.store).iterdir()}
    broken = Violation(focus="https://w3id.org/lskg/study/x", path=None, message="broken on purpose",
                       shape="https://w3id.org/lskg/shape/StudyShape", severity="Violation")
    monkeypatch.setattr(build_module, "validate", lambda store: ValidationReport(False, [broken]))
    writes: list[str] = []
    rebuild = StoreDir.rebuild
    monkeypatch.setattr(StoreDir, "rebuild", lambda self: writes.append("rebuild") or rebuild(self))
    with pytest.raises(ValidationFailed, match="broken on purpose"):
        build([tiny_corpus], settings)
    assert writes == [] and {p.name for p in Path(settings.store).iterdir()} == before
    assert _studies(settings.store) == 4


def test_one_and_two_extraction_workers_build_the_same_graph(settings, tmp_path):
    """On real abstracts, enough of them (53) for the two workers to share the chunks."""
    from pyoxigraph import RdfFormat

    from lskg.data import CORPUS
    from lskg.settings import Settings

    dumps = []
    for workers in (1, 2):
        store = str(tmp_path / f"store-{workers}")
        report = build([CORPUS / "abstracts-insar.jsonl"], Settings(store=store, extract_workers=workers))
        assert report.workers == workers
        assert set(report.seconds) == {"extract", "map", "validate", "aggregate", "write", "total"}
        with StoreDir(store).open_reader() as handle:
            dumps.append(sorted(handle.dump(RdfFormat.N_QUADS).splitlines()))
    assert dumps[0] == dumps[1] and len(dumps[0]) > 100
