"""HiGHS's printf messages must not land in a --json answer on standard output."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_c_printf_while_highs_runs_goes_to_stderr_not_stdout():
    script = textwrap.dedent(
        """
        import ctypes, json
        from fabnet.planning.quiet import stdout_to_stderr
        libc = ctypes.CDLL(None)
        with stdout_to_stderr():
            libc.printf(b"HighsMipSolverData::transformNewIntegerFeasibleSolution\\n")
        print(json.dumps({"objective": 1.0}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == '{"objective": 1.0}'
    assert "HighsMipSolverData" in run.stderr


def test_without_it_the_message_would_reach_stdout():
    """The same printf outside the guard: the case the guard is for."""
    script = textwrap.dedent(
        """
        import ctypes, json
        libc = ctypes.CDLL(None)
        libc.printf(b"HighsMipSolverData::transformNewIntegerFeasibleSolution\\n")
        libc.fflush(None)
        print(json.dumps({"objective": 1.0}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "HighsMipSolverData" in run.stdout
