"""Concurrent `lskg build` and `lskg add` processes on one store, with a reader pinning generations throughout.

Afterwards: `current` resolves, the graph opens and conforms, every writer either succeeded or exited 3 with a
lock message, no acknowledged add is lost and no refused one leaked in, and no folder is left behind.

Successful writers hold the lock in turn, so their order is the order in which they exited (each holds the lock
for seconds, and exits a moment after releasing it). The graph must then be the tiny corpus plus the studies of
the adds acknowledged after the last acknowledged build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lskg.build import build
from lskg.kg.store import StoreDir
from lskg.kg.validate import validate
from lskg.settings import Settings

TITLES = "SELECT ?t WHERE { ?s a lskg:Study ; dcterms:title ?t }"


@dataclass
class Writer:
    kind: str  # "build" or "add"
    args: list[str]
    title: str | None = None  # the study an add brings
    proc: subprocess.Popen[str] | None = None
    exited: float = 0.0
    stderr: str = field(default="", repr=False)

    def start(self, store: Path) -> None:
        env = {**os.environ, "COLUMNS": "400"}  # one line per message: no wrapping to undo
        self.proc = subprocess.Popen([sys.executable, "-m", "lskg", self.kind, *self.args, "--store", str(store)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        threading.Thread(target=self._wait, daemon=True).start()

    def _wait(self) -> None:
        assert self.proc is not None
        _, self.stderr = self.proc.communicate(timeout=300)
        self.exited = time.monotonic()


def _add_file(tmp_path: Path, n: int) -> tuple[Path, str]:
    title = f"Stress study {n}: a temporal convolutional network forecasts landslide displacement from InSAR"
    path = tmp_path / f"add-{n}.jsonl"
    path.write_text(json.dumps({"id": f"stress-{n}", "title": title, "year": 2024, "doi": f"10.9999/stress.{n}",
                                "abstract": "A temporal convolutional network was trained on InSAR time series "
                                            "of a slow-moving landslide."}) + "\n")
    return path, title


@pytest.mark.slow  # 20-40 s: every successful writer loads the NLP pipeline, and they run one after another
def test_concurrent_builds_and_adds_keep_every_acknowledged_write(tmp_path, tiny_corpus):
    store = tmp_path / "store"
    build([tiny_corpus], Settings(store=str(store)))
    store_dir = StoreDir(store)
    with store_dir.open_reader() as reader:
        tiny_titles = {r["t"].value for r in reader.select(TITLES)}

    writers = [Writer("build", ["--corpus", str(tiny_corpus)]) for _ in range(2)]
    for n in range(3):
        path, title = _add_file(tmp_path, n)
        writers.append(Writer("add", [str(path)], title))
    path, title = _add_file(tmp_path, 3)
    waiter = Writer("add", [str(path), "--wait", "240"], title)  # queues behind whoever wins the race

    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:  # a read-only server: reopen the current generation again and again
        while not stop.is_set():
            try:
                with store_dir.open_reader() as handle:
                    seen.append(len(handle.select(TITLES)))
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return
            time.sleep(0.02)

    reading = threading.Thread(target=read)
    reading.start()
    try:
        for writer in writers:
            writer.start(store)
        time.sleep(0.5)
        waiter.start(store)
        writers.append(waiter)
        for writer in writers:
            assert writer.proc is not None
            writer.proc.wait(timeout=300)
        deadline = time.monotonic() + 10
        while not all(w.exited for w in writers) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        reading.join()
        for writer in writers:
            if writer.proc is not None and writer.proc.poll() is None:
                writer.proc.kill()

    winners = sorted((w for w in writers if w.proc.returncode == 0), key=lambda w: w.exited)
    for writer in writers:
        assert writer.proc.returncode in (0, 3), (writer.kind, writer.args, writer.stderr)
        if writer.proc.returncode == 3:
            assert "locked by `lskg " in writer.stderr, writer.stderr
            assert "Traceback" not in writer.stderr
    assert waiter.proc.returncode == 0, waiter.stderr
    assert len(winners) >= 2  # the race's winner, then the waiter

    # The reader never failed and never saw an empty or half-written graph.
    assert not errors, errors
    assert seen and min(seen) >= len(tiny_titles)

    # `current` resolves, and the graph opens and conforms.
    assert store_dir.current.resolve().is_dir()
    with store_dir.open_reader() as handle:
        assert validate(handle).conforms
        titles = {r["t"].value for r in handle.select(TITLES)}

    # Exactly the writes acknowledged since the last acknowledged build: none lost, none leaked.
    builds = [i for i, w in enumerate(winners) if w.kind == "build"]
    after = winners[builds[-1] + 1:] if builds else winners
    assert titles == tiny_titles | {w.title for w in after}

    # Nothing is left behind once no reader pins an old generation.
    with store_dir.lock(holder="test"):
        store_dir.collect()
    assert {p.name for p in store.glob("data-*") if p.is_dir()} == {store_dir.generation()}
