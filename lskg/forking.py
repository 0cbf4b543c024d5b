"""Forked helper processes: the extraction workers run in copies of the building process (forked, so the pipeline
is neither pickled nor built again).

A copy holds a duplicate of each file descriptor its parent had open. The store's writer lock is one: a helper
that kept it would keep the store locked after its build was killed. So the lock's descriptor is marked
``private`` while it is held, a helper closes its copy first thing (``helper_started``), and on Linux it asks to be
killed when its parent dies, so that it does not work on for nobody.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_private: set[int] = set()


@contextlib.contextmanager
def private(fd: int) -> Iterator[int]:
    """Keep ``fd`` from the helpers forked while it is open: each closes its copy when it starts."""
    _private.add(fd)
    try:
        yield fd
    finally:
        _private.discard(fd)


def helper_started(parent: int) -> None:
    """First thing in a helper: close the copies of the parent's private descriptors, and be killed when
    ``parent`` (the pid that forked it, read before the fork) dies."""
    for fd in _private:
        with contextlib.suppress(OSError):
            os.close(fd)
    _private.clear()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request was made
            os._exit(1)
