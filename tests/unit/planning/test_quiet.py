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


def test_two_threads_running_highs_at_once_leave_stdout_where_it_was():
    """Two plans at once (two API requests): thread A switches, B enters, A leaves while B
    still runs, then B leaves. Standard output must end where it started, and what B's
    HiGHS prints after A left must still not reach it."""
    script = textwrap.dedent(
        """
        import ctypes, json, os, threading
        from fabnet.planning.quiet import stdout_to_stderr
        libc = ctypes.CDLL(None)
        before = os.fstat(1)
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        def a():
            with stdout_to_stderr():
                a_in.set(); b_in.wait(5)
            a_out.set()
        def b():
            a_in.wait(5)
            with stdout_to_stderr():
                b_in.set(); a_out.wait(5)
                libc.printf(b"from-b-after-a-left\\n")
        ta, tb = threading.Thread(target=a), threading.Thread(target=b)
        ta.start(); tb.start(); ta.join(); tb.join()
        after = os.fstat(1)
        print(json.dumps({"same": (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == '{"same": true}'
    assert "from-b-after-a-left" in run.stderr
