"""StoreDir: one writer at a time (the lock), readers that pin their generation, copy-on-write updates, and a
`current` link that never points to a missing folder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Quad

from lskg.errors import StoreError
from lskg.kg.store import StoreDir, StoreLockedError


def _quad(n: int) -> Quad:
    return Quad(NamedNode(f"urn:s{n}"), NamedNode("urn:p"), NamedNode(f"urn:o{n}"), NamedNode(f"urn:g{n}"))


def _write(store_dir: StoreDir, *quads: Quad) -> str:
    """A fresh generation holding ``quads``; returns its name."""
    with store_dir.lock(holder="test rebuild"), store_dir.rebuild() as store:
        store.load(quads)
    return store_dir.generation()


def _generations(root: Path) -> set[str]:
    return {p.name for p in root.glob("data-*") if p.is_dir()}


@pytest.fixture
def store_dir(tmp_path) -> StoreDir:
    return StoreDir(tmp_path / "store")


def test_a_second_writer_fails_at_once_naming_the_holder(store_dir):
    with store_dir.lock(holder="lskg serve --allow-update"):
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as failure, store_dir.lock(holder="lskg build"):
            pass
        assert time.monotonic() - started < 0.5
        assert f"locked by `lskg serve --allow-update` (pid {os.getpid()})" in failure.value.message
        assert "--wait" in failure.value.hint
        assert isinstance(failure.value, StoreError)
    with store_dir.lock(holder="lskg build"):  # released: the next writer gets it
        pass


def test_a_writer_waits_for_the_lock_when_asked(store_dir):
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store_dir.lock(holder="lskg add"):
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with pytest.raises(StoreLockedError, match=r"locked by `lskg add`.*waited 0.3 s"), store_dir.lock(wait=0.3):
        pass
    assert 0.3 <= time.monotonic() - started < 2
    threading.Timer(0.3, release.set).start()
    with store_dir.lock(wait=10, holder="lskg build"):
        assert time.monotonic() - started >= 0.6
    thread.join()


def test_the_lock_is_held_across_processes(store_dir):
    code = ("import sys, time; from lskg.kg.store import StoreDir\n"
            "with StoreDir(sys.argv[1]).lock(holder='lskg build'):\n"
            "    print('locked', flush=True); time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store_dir.root)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=rf"locked by `lskg build` \(pid {proc.pid}\)"), store_dir.lock():
            pass
    finally:
        proc.kill()
        proc.wait()
    with store_dir.lock():  # a killed holder releases the lock: the kernel drops the flock with the process
        pass


def test_generation_names_the_live_folder(store_dir):
    with pytest.raises(StoreError, match="lskg build"):
        store_dir.generation()
    name = _write(store_dir, _quad(1))
    assert name == store_dir.current.resolve().name and name.startswith("data-")


def test_a_pinned_generation_outlives_rebuilds_until_its_reader_closes(store_dir):
    first = _write(store_dir, _quad(1))
    reader = store_dir.open_reader()
    second = _write(store_dir, _quad(2), _quad(3))
    assert store_dir.generation() == second
    assert _generations(store_dir.root) == {first, second}  # kept: a reader still holds it
    assert len(reader) == 1  # ... and it still answers, from the old graph
    with store_dir.open_reader() as fresh:
        assert len(fresh) == 2
    reader.close()
    third = _write(store_dir, _quad(4))
    assert _generations(store_dir.root) == {third}
    assert {p.name for p in store_dir.root.glob("*.readers")} <= {f"{third}.readers"}


def test_a_failed_rebuild_keeps_current(store_dir):
    first = _write(store_dir, _quad(1))
    with pytest.raises(RuntimeError), store_dir.lock(), store_dir.rebuild() as store:
        store.load([_quad(2)])
        raise RuntimeError("disk on fire")
    assert store_dir.generation() == first and _generations(store_dir.root) == {first}


def test_update_is_copy_on_write(store_dir):
    first = _write(store_dir, _quad(1))
    reader = store_dir.open_reader()
    with store_dir.lock(holder="lskg add"), store_dir.update() as store:
        store.load([_quad(2)])
        assert store_dir.generation() == first  # not swapped until the write is complete
        assert len(reader) == 1
    assert store_dir.generation() != first
    assert len(reader) == 1  # the old reader never sees the write
    reader.close()
    with store_dir.open_reader() as fresh:
        assert len(fresh) == 2


def test_update_keeps_writes_an_in_place_writer_did_not_flush(store_dir):
    """A writer killed after writing but before flushing leaves its writes in the log: the copy keeps them."""
    _write(store_dir, _quad(1))
    code = ("import os, sys, pyoxigraph as ox\n"
            "s = ox.Store(sys.argv[1])\n"
            "s.add(ox.Quad(ox.NamedNode('urn:s9'), ox.NamedNode('urn:p'), ox.NamedNode('urn:o9'), ox.NamedNode('urn:g9')))\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(store_dir.current.resolve())], check=True)
    with store_dir.lock(), store_dir.update() as store:
        store.load([_quad(2)])
    with store_dir.open_reader() as reader:
        assert len(reader) == 3


def test_a_damaged_store_says_so(store_dir):
    first = _write(store_dir, _quad(1))
    (store_dir.root / "current").unlink()
    (store_dir.root / "current").symlink_to("data-gone")  # what two unlocked builds used to leave
    with pytest.raises(StoreError, match="damaged.*data-gone"):
        store_dir.open_reader()
    _write(store_dir, _quad(2))  # a build repairs it
    assert first not in _generations(store_dir.root)
    with store_dir.open_reader() as reader:
        assert len(reader) == 1


def test_a_failed_update_changes_nothing(store_dir):
    first = _write(store_dir, _quad(1))
    with pytest.raises(RuntimeError), store_dir.lock(), store_dir.update() as store:
        store.load([_quad(2)])
        raise RuntimeError("disk on fire")
    assert store_dir.generation() == first and _generations(store_dir.root) == {first}
    with store_dir.open_reader() as reader:
        assert len(reader) == 1


def test_writes_collect_leftovers_but_never_current(store_dir):
    first = _write(store_dir, _quad(1))
    (store_dir.root / "data-20200101T000000-killed").mkdir()  # a killed build's folder
    (store_dir.root / "data-20200101T000000-gone.readers").touch()  # a marker whose folder was deleted
    with store_dir.lock():
        assert store_dir.collect() == ["data-20200101T000000-killed"]
    assert _generations(store_dir.root) == {first}
    assert not (store_dir.root / "data-20200101T000000-gone.readers").exists()
    assert store_dir.current.resolve().is_dir()


def test_readers_never_see_a_missing_generation_while_writers_swap(store_dir):
    """Readers open, read and close in a loop while rebuilds and updates swap `current` under them."""
    _write(store_dir, _quad(0))
    errors: list[BaseException] = []
    sizes: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                with store_dir.open_reader() as reader:
                    sizes.append(len(reader))
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for n in range(1, 16):
        if n % 3:
            with store_dir.lock(), store_dir.update() as store:
                store.load([_quad(n)])
        else:
            _write(store_dir, *(_quad(i) for i in range(n + 1)))
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors, errors
    assert sizes and min(sizes) >= 1
    assert store_dir.current.resolve().is_dir()
    with store_dir.lock():
        store_dir.collect()
    assert _generations(store_dir.root) == {store_dir.generation()}
