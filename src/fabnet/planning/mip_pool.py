"""Small MIPs of a plan's neighbourhoods, one after another or in worker processes.

The planner improves whole-unit plans a neighbourhood at a time (a few machines, every
unit on them) by HiGHS's MIP through SciPy; ``milp`` holds the GIL (two threads ran no
faster than one), so MIPs solved at once need processes. Each neighbourhood *holds* keys
(its machines, its lines): one is started only when no running one holds any of its
keys, so every result applies to the plan it was built from, and it is applied in this
process as soon as it arrives. Workers are spawned, not forked (the planner may run
beside threads, whose locks a fork would copy), and each is given the model once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

# a worker is about 150 MB at the medium size: at most this many unless asked for more
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
        """Worker processes from now on (about a second to start; each given ``shared``)."""
        if self._pool is None and self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_adopt, initargs=(self.shared,)
            )

    def run(self, candidates: Iterable[C], hood: Neighbourhoods[C]) -> None:
        """Each candidate in order (one that waits for a held key keeps its place), until
        ``hood.over()``; what a MIP finds is applied as it arrives."""
        if self._pool is None:
            for candidate in candidates:
                if hood.over():
                    return
                job = hood.job(candidate) if hood.holds(candidate) is not None else None
                if job is not None:
                    hood.apply(candidate, job.fn(self.shared, *job.args))
            return
        from concurrent.futures.process import BrokenProcessPool

        try:
            self._run_pool(list(candidates), hood)
        except BrokenProcessPool:
            # a worker died (killed for memory, say): what was applied so far stands
            log.warning("%s: a worker process died; the neighbourhoods so far are kept", self.what)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

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
                    busy[self._pool.submit(_call, job.fn, job.args)] = (candidate, held)
                    taken |= held
            if not busy:
                return
            done, _ = wait(busy, return_when=FIRST_COMPLETED)
            for future in done:
                candidate, _held = busy.pop(future)
                hood.apply(candidate, future.result())
