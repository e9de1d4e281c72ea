"""HiGHS writes some messages with C's printf, past Python's ``sys.stdout`` (seen at the
medium benchmark size: ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();``). On a pipe they sit in C's buffer and come out later, in the middle of
a ``--json`` answer. While HiGHS runs, the process's standard output goes to its standard
error, and C's buffers are flushed before it comes back. The switch is process-wide: what
another thread writes to standard output while HiGHS runs (1-2 s in the planner) goes to
standard error too, which is where a server's logs go."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator


def _flush_c_streams() -> None:
    with contextlib.suppress(OSError, AttributeError, TypeError):  # no C library (not POSIX)
        ctypes.CDLL(None).fflush(None)


_lock = threading.Lock()
_depth = 0  # HiGHS runs in progress (two API requests may plan at once)
_saved = -1  # the real standard output's descriptor, kept while any of them runs


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While any HiGHS call runs, standard output goes to standard error; the first to
    start switches it, the last to end switches it back (two threads each saving and
    restoring would leave it on standard error for good)."""
    global _depth, _saved
    try:
        out, err = sys.__stdout__.fileno(), sys.__stderr__.fileno()  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no real descriptors (embedded, tests)
        yield
        return
    with _lock:
        if _depth == 0:
            sys.stdout.flush()
            _flush_c_streams()
            _saved = os.dup(out)
            os.dup2(err, out)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _flush_c_streams()
                os.dup2(_saved, out)
                os.close(_saved)
                _saved = -1
