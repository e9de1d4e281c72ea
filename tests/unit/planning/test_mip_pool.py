"""The pool that runs neighbourhood MIPs: every candidate is run once, in order where keys
allow, by worker processes or in this process; a pool that fails (a worker killed, or
none can be spawned) leaves what was applied and does the rest in this process."""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
from collections.abc import Hashable

import pytest

from fabnet.planning import mip_pool
from fabnet.planning.mip_pool import Job, Runner


def _times(shared: int, x: int) -> int:
    return shared * x


def _die_in_a_worker(shared: int, x: int) -> int:
    """A worker killed mid-MIP (for memory, say); in this process it works."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return shared * x


class _Hoods:
    """Candidates 0..n-1, each holding its value modulo 3; odd ones already worthless."""

    def __init__(self, fn=_times, most: int = 10**9) -> None:
        self.fn = fn
        self.applied: dict[int, int] = {}
        self.most = most

    def over(self) -> bool:
        return len(self.applied) >= self.most

    def holds(self, x: int) -> frozenset[Hashable] | None:
        return None if x % 2 else frozenset([x % 3])

    def job(self, x: int) -> Job:
        return Job(self.fn, (x,))

    def apply(self, x: int, result: int) -> None:
        assert x not in self.applied
        self.applied[x] = result


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mip_pool, "_failed", False)


def _in_pool(hoods: _Hoods, workers: int = 2) -> None:
    """Candidates 0..11 with a pool of ``workers`` processes (1: in this process)."""
    with Runner[int](7, workers, "test") as runner:
        runner.start()
        runner.run(range(12), hoods)


@pytest.mark.parametrize("workers", [1, 2])
def test_every_candidate_that_is_worth_it_runs_once(workers: int) -> None:
    hoods = _Hoods()
    _in_pool(hoods, workers)
    assert hoods.applied == {x: 7 * x for x in range(0, 12, 2)}


def test_in_one_process_they_stop_when_told() -> None:
    hoods = _Hoods(most=2)
    with Runner[int](7, 1, "test") as runner:
        runner.run(range(12), hoods)
    assert hoods.applied == {0: 0, 2: 14}


def test_a_dead_worker_leaves_what_was_applied_and_the_rest_runs_here(caplog) -> None:
    hoods = _Hoods(fn=_die_in_a_worker)
    with caplog.at_level(logging.WARNING, logger="fabnet.planning.mip_pool"):
        _in_pool(hoods)
    assert "test: worker processes failed" in caplog.text
    # the MIPs the dead pool held are lost; every other one ran here, once
    assert set(hoods.applied) <= set(range(0, 12, 2))
    assert len(hoods.applied) >= 6 - 2
    assert all(hoods.applied[x] == 7 * x for x in hoods.applied)
    # later pools of this process are not started: their MIPs run here
    with Runner[int](7, 2, "test") as again:
        again.start()
        assert again._pool is None
        fresh = _Hoods()
        again.run(range(4), fresh)
    assert fresh.applied == {0: 0, 2: 14}


def test_a_pool_that_cannot_spawn_runs_the_rest_here(monkeypatch, caplog) -> None:
    """As CPython once said after a pool broke: 'bad value(s) in fds_to_keep'."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ValueError("bad value(s) in fds_to_keep")

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", refuse)
    hoods = _Hoods()
    with caplog.at_level(logging.WARNING, logger="fabnet.planning.mip_pool"):
        _in_pool(hoods)
    assert "fds_to_keep" in caplog.text
    # the one being submitted when it failed is lost; the rest ran here
    assert set(hoods.applied) >= set(range(2, 12, 2))
    assert mip_pool._failed


def test_the_workers_are_the_cpus_this_process_may_use_at_most_four(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)), raising=False)
    assert mip_pool.cpus() == mip_pool.MOST_WORKERS == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert mip_pool.cpus() == 1
