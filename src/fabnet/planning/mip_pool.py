"""Small MIPs of a plan's neighbourhoods, one after another or in worker processes.

The planner improves whole-unit plans a neighbourhood at a time (a few machines, every
unit on them) by HiGHS's MIP through SciPy; ``milp`` holds the GIL (two threads ran no
faster than one), so MIPs solved at once need processes. Each neighbourhood *holds* keys
(its machines, its lines): one is started only when no running one holds any of its
keys, so every result applies to the plan it was built from, and it is applied in this
process as soon as it arrives. Workers are spawned, not forked (the planner may run
beside threads, whose locks a fork would copy), and each is given the model once. A
worker imports the planner's code as it starts, so code replaced on disk while a plan
runs (a deploy) can fail it, as can the memory killer: a pool that fails leaves what it
applied, and the rest of its MIPs, and those of later pools, run in this process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

# a worker peaks at about 290 MB at the medium size: at most this many unless asked for more
MOST_WORKERS = 4

C = TypeVar("C")  # a candidate neighbourhood
C_contra = TypeVar("C_contra", contravariant=True)


def cpus(most: int = MOST_WORKERS) -> int:
    """The CPUs this process may use, at most ``most``."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, most))


@dataclass(frozen=True)
class Job:
    """A neighbourhood ready to solve: ``fn(shared, *args)`` in a worker (``fn`` a
    module-level function, ``shared`` what the pool was started with)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]


class Neighbourhoods(Protocol[C_contra]):
    def holds(self, candidate: C_contra) -> frozenset[Hashable] | None:
        """The keys the candidate's MIP would change, or None: nothing left to gain."""

    def job(self, candidate: C_contra) -> Job | None:
        """The candidate's MIP on the plan as it is now (just after ``holds``), or None."""

    def apply(self, candidate: C_contra, result: Any) -> None:
        """The MIP's result on the plan (the keys it holds unchanged since ``job``)."""

    def over(self) -> bool:
        """No more neighbourhoods: out of time, or the plan is good enough."""


_SHARED: object = None  # what a worker was started with
_failed = False  # a pool of this process failed: later ones are not started


def _adopt(shared: object) -> None:
    global _SHARED
    _SHARED = shared


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(_SHARED, *args)


class Runner(Generic[C]):
    """Runs neighbourhoods in this process, or in ``workers`` processes once ``start``ed."""

    def __init__(self, shared: object, workers: int, what: str) -> None:
        self.shared = shared
        self.workers = workers
        self.what = what  # named in the warning when a worker dies
        self._pool: Any = None

    def __enter__(self) -> Runner[C]:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self) -> None:
        """Worker processes from now on (about a second to start; each given ``shared``),
        unless a pool of this process failed before: then this process goes on alone."""
        global _failed
        if self._pool is None and self.workers > 1 and not _failed:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            try:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=context, initializer=_adopt, initargs=(self.shared,)
                )
            except (OSError, ValueError) as err:
                _failed = True
                log.warning("%s: no worker processes (%s); one MIP at a time", self.what, err)

    def run(self, candidates: Iterable[C], hood: Neighbourhoods[C]) -> None:
        """Each candidate in order (one that waits for a held key keeps its place), until
        ``hood.over()``; what a MIP finds is applied as it arrives. Where the pool fails
        (a worker died, killed for memory say, or none could be started), what was
        applied stands and the rest go on in this process, as do later pools' (once a
        pool broke, CPython's pools could not always start again: 'bad value(s) in
        fds_to_keep', seen once at the medium benchmark size)."""
        global _failed
        pending = list(candidates)
        if self._pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                self._run_pool(pending, hood)
                return
            except (BrokenProcessPool, _CannotSubmit) as err:
                _failed = True
                log.warning(
                    "%s: worker processes failed (%s); the rest one MIP at a time in this "
                    "process, what was applied stands",
                    self.what,
                    err,
                )
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        for candidate in pending:
            if hood.over():
                return
            job = hood.job(candidate) if hood.holds(candidate) is not None else None
            if job is not None:
                hood.apply(candidate, job.fn(self.shared, *job.args))

    def _run_pool(self, pending: list[C], hood: Neighbourhoods[C]) -> None:
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        busy: dict[Future[Any], tuple[C, frozenset[Hashable]]] = {}
        while True:
            if hood.over():
                pending.clear()
            taken: set[Hashable] = set().union(*(held for _, held in busy.values()))
            i = 0
            while len(busy) < self.workers and i < len(pending):
                held = hood.holds(pending[i])
                if held is None:
                    del pending[i]
                    continue
                if held & taken:
                    i += 1  # waits for a running neighbourhood to let go of a key
                    continue
                candidate = pending.pop(i)
                job = hood.job(candidate)
                if job is not None:
                    busy[self._submit(job)] = (candidate, held)
                    taken |= held
            if not busy:
                return
            done, _ = wait(busy, return_when=FIRST_COMPLETED)
            for future in done:
                candidate, _held = busy.pop(future)
                hood.apply(candidate, future.result())

    def _submit(self, job: Job) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._pool.submit(_call, job.fn, job.args)
        except BrokenProcessPool:
            raise
        except (OSError, ValueError, RuntimeError) as err:  # a worker could not be spawned
            raise _CannotSubmit(str(err)) from err


class _CannotSubmit(Exception):
    """The pool could not take a MIP (starting a worker failed)."""
