"""The recommender's training, once, in the background: shared by every request that needs it.

``/recommend``, ``/gaps`` and ``/gaps/map`` need a recommender trained on the graph served. When the saved
artefact is missing or was trained on another graph (its fingerprint differs from the graph's snapshot), the
first such request starts ONE training in a child process (``python -m lskg.api.training``, calling
``lskg.gnn.train.train``, which saves the artefact) and every request meanwhile gets 503 with Retry-After. When
the child has saved the artefact, requests load it. The server kills the child when it stops, so SIGTERM is never
held up by a training.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from lskg.errors import ModelNotFoundError, StoreError
from lskg.settings import Settings

if TYPE_CHECKING:
    from lskg.gnn.snapshot import Snapshot

log = logging.getLogger(__name__)


def _saved_fingerprint(settings: Settings) -> str | None:
    from lskg.gnn import artifacts

    config = artifacts.artifact_path(settings) / "config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return None
    return data.get("fingerprint") if data.get("format") == artifacts.FORMAT else None


class Training:
    """One background training at a time, for the fingerprint of the graph being served."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._fingerprint: str | None = None
        self._started = 0.0
        self._failed: tuple[str, str] | None = None
        """(fingerprint, message) of the last training that failed: not retried for that graph."""
        self._stopped = False

    def ensure(self, snap: Snapshot) -> None:
        """Return when a recommender for this graph (its snapshot) is saved; otherwise start (or keep) the one
        background training and raise ModelNotFoundError (503, Retry-After). Call from a thread, never the event
        loop."""
        if _saved_fingerprint(self.settings) == snap.fingerprint:
            return
        with self._lock:
            if _saved_fingerprint(self.settings) == snap.fingerprint:
                return
            running = self._process is not None and self._process.poll() is None
            if not running and self._process is not None:
                self._finished()
            if self._failed is not None and self._failed[0] == snap.fingerprint:
                raise StoreError(f"training the recommender for this graph failed: {self._failed[1]}",
                                 hint="run `lskg train` to see the full error")
            if not running or self._fingerprint != snap.fingerprint:
                self._start(snap)
            elapsed = time.monotonic() - self._started
        raise ModelNotFoundError(f"the recommender for this graph is being trained (started {elapsed:.0f} s ago)",
                                 hint="retry in a few seconds")

    def _start(self, snap: Snapshot) -> None:
        if self._stopped:
            raise StoreError("the server is stopping")
        self._kill()
        self._log = tempfile.TemporaryFile()
        log.warning("no recommender trained for this graph (%s); training one in the background",
                    snap.fingerprint[:12])
        process = subprocess.Popen([sys.executable, "-m", "lskg.api.training"], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=self._log, close_fds=True)
        assert process.stdin is not None
        try:
            process.stdin.write(pickle.dumps((snap, self.settings.model_dump()), protocol=pickle.HIGHEST_PROTOCOL))
            process.stdin.close()
        except OSError:
            pass
        self._process, self._fingerprint, self._started = process, snap.fingerprint, time.monotonic()

    def _finished(self) -> None:
        process = self._process
        assert process is not None
        if process.returncode != 0 and self._fingerprint is not None:
            tail = b""
            if self._log is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._log.seek(0)
                    tail = self._log.read()[-2000:]
            message = tail.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {process.returncode}"]
            self._failed = (self._fingerprint, message[0])
            log.error("training the recommender failed: %s", tail.decode("utf-8", "replace"))
        self._process = None

    def status(self) -> dict[str, Any]:
        process = self._process
        return {"running": process is not None and process.poll() is None,
                "fingerprint": self._fingerprint,
                "failed": self._failed[1] if self._failed else None}

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=2)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def stop(self) -> None:
        """The server is stopping: kill a running training at once."""
        with self._lock:
            self._stopped = True
            self._kill()


def main() -> None:
    """The child: read (snapshot, settings) from stdin, train, save the artefact."""
    from lskg.gnn.train import train

    snap, values = pickle.load(sys.stdin.buffer)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train(snap, Settings(**values))


if __name__ == "__main__":
    main()
