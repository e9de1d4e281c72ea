"""How fast the demo coordinates a surge, and what the durable store costs.

Runs the same seeded scenario twice in one process: on SQLite (what `fabnet demo` uses)
and on the in-memory store (the baseline), and prints one JSON object with both wall
times, their ratio, and the commands per second the SQLite run sustained.

    .venv/bin/python benchmarks/demo.py --size small
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.memory import InMemoryBlobStore, InMemoryDatabase, InMemoryUnitOfWork
from fabnet.adapters.solvers import OrToolsFlow
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import FixedClock, Policy, SeededIds, UnitOfWork
from fabnet.sim.demo import run_demo
from fabnet.sim.scenarios import SIZES

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


class Counting(MessageBus):
    handled = 0

    def _run(self, command):  # type: ignore[no-untyped-def]
        Counting.handled += 1
        return super()._run(command)


def run(size: str, seed: int, new_uow) -> tuple[dict, float, int]:  # type: ignore[no-untyped-def]
    clock = FixedClock(START)
    Counting.handled = 0
    bus = Counting(
        uow=new_uow(),
        clock=clock,
        ids=SeededIds(seed),
        blobs=InMemoryBlobStore(),
        mesh=TrimeshAnalyzer(wall_samples=2000),
        policy=Policy(),
        flow_solver=OrToolsFlow(),
    )
    started = time.perf_counter()
    summary = run_demo(bus=bus, new_uow=new_uow, clock=clock, config=SIZES[size], seed=seed)
    return summary.as_dict(), time.perf_counter() - started, Counting.handled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    db = InMemoryDatabase()
    memory, memory_s, _ = run(args.size, args.seed, lambda: InMemoryUnitOfWork(db))
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        migrate(engine)
        new_uow: type[UnitOfWork] | object = lambda: SqlUnitOfWork(engine)  # noqa: E731
        sqlite, sqlite_s, commands = run(args.size, args.seed, new_uow)
        engine.dispose()
    same = {k: v for k, v in memory.items() if k != "wall_s"} == {
        k: v for k, v in sqlite.items() if k != "wall_s"
    }
    print(
        json.dumps(
            {
                "size": args.size,
                "units_ordered": sqlite["units_ordered"],
                "units_made": sqlite["units_made"],
                "jobs": sqlite["jobs"],
                "commands": commands,
                "sqlite_wall_s": round(sqlite_s, 3),
                "memory_wall_s": round(memory_s, 3),
                "sqlite_over_memory": round(sqlite_s / memory_s, 2),
                "sqlite_commands_per_s": round(commands / sqlite_s, 1),
                "same_outcome": same,
            }
        )
    )


if __name__ == "__main__":
    main()
