"""Forked helpers (the extraction workers) neither keep the store's writer lock nor outlive their build when it is
killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lskg.kg.store import StoreDir

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and PR_SET_PDEATHSIG: Linux")

LOCKED_WITH_A_HELPER = """
import ctypes, multiprocessing, os, sys, time
from lskg.forking import PR_SET_PDEATHSIG, helper_started
from lskg.kg.store import StoreDir

def start(parent):  # the helper: starts, says its pid, and works on (sleeps)
    helper_started(parent)
    if sys.argv[2] == "outlive":  # only the descriptor is tested: the helper may outlive its parent
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 0)
    print(os.getpid(), flush=True)
    time.sleep(120)

with StoreDir(sys.argv[1]).lock(holder="lskg build"):
    pool = multiprocessing.get_context("fork").Pool(1, start, (os.getpid(),))
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


def _killed_with_a_helper(store: Path, mode: str) -> int:
    """A process that holds the writer lock and forked a helper, killed; the helper's pid."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKED_WITH_A_HELPER, str(store), mode], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        helper = int(proc.stdout.readline())
        assert _alive(helper)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return helper


def test_a_killed_builds_helper_does_not_keep_the_lock(tmp_path):
    helper = _killed_with_a_helper(tmp_path, "outlive")
    try:
        with StoreDir(tmp_path).lock(wait=0, holder="the next build"):
            assert _alive(helper), "the helper is still running, without its copy of the lock"
    finally:
        os.kill(helper, signal.SIGKILL)


def test_a_killed_builds_helper_dies_with_it(tmp_path):
    helper = _killed_with_a_helper(tmp_path, "die")
    deadline = time.monotonic() + 10
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(helper)
