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
from collections.abc import Iterator


def _flush_c_streams() -> None:
    with contextlib.suppress(OSError, AttributeError, TypeError):  # no C library (not POSIX)
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    try:
        out, err = sys.__stdout__.fileno(), sys.__stderr__.fileno()  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no real descriptors (embedded, tests)
        yield
        return
    sys.stdout.flush()
    _flush_c_streams()
    saved = os.dup(out)
    try:
        os.dup2(err, out)
        yield
    finally:
        _flush_c_streams()
        os.dup2(saved, out)
        os.close(saved)
