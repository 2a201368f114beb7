"""Child processes that do not outlive their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a worker process: it gets SIGKILL when its parent dies (Linux,
    prctl PR_SET_PDEATHSIG), and exits now if the parent is already gone (it may die before the
    request is made; the worker is then a child of another process). Without this a `kill -9` of
    the parent leaves spawned workers blocked on their task queue for good, and with them
    multiprocessing's resource tracker."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(1)
