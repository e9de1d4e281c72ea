"""Two coordinators update one order at the same moment: one wins, the other gets a
Conflict, and the order holds exactly the winner's change (real PostgreSQL)."""

import threading
from datetime import timedelta

import pytest

from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.domain.errors import Conflict
from fabnet.domain.ids import LineId
from tests.conftest import START
from tests.contract.test_unit_of_work import order

pytestmark = pytest.mark.postgres


def test_concurrent_updates_of_one_order_one_wins(postgres_url):
    engines = [create_engine_for(postgres_url) for _ in range(2)]  # two coordinator processes
    migrate(engines[0])
    with SqlUnitOfWork(engines[0]) as uow:
        uow.orders.add(order())
        uow.commit()
    both_loaded = threading.Barrier(2)
    outcome: dict[int, str] = {}

    def coordinator(n: int) -> None:
        with SqlUnitOfWork(engines[n]) as uow:
            o = uow.orders.get("ord_1")
            o.allocate(LineId("lin_1"), 10 * (n + 1), START + timedelta(seconds=n))
            both_loaded.wait(timeout=10)
            try:
                uow.commit()
                outcome[n] = "won"
            except Conflict:
                outcome[n] = "conflict"

    threads = [threading.Thread(target=coordinator, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcome.values()) == ["conflict", "won"]
    winner = next(n for n, result in outcome.items() if result == "won")
    with SqlUnitOfWork(engines[0]) as uow:
        stored = uow.orders.get("ord_1")
        assert stored.lines[0].units_allocated == 10 * (winner + 1)
        assert stored.version == 2
    for engine in engines:
        engine.dispose()


def test_many_coordinators_racing_never_lose_an_update(postgres_url):
    """Eight writers retry on Conflict; every allocation lands exactly once."""
    engine = create_engine_for(postgres_url)
    migrate(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order())
        uow.commit()

    def writer() -> None:
        for _ in range(5):
            while True:
                try:
                    with SqlUnitOfWork(engine) as uow:
                        uow.orders.get("ord_1").allocate(LineId("lin_1"), 1, START)
                        uow.commit()
                    break
                except Conflict:
                    continue

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with SqlUnitOfWork(engine) as uow:
        stored = uow.orders.get("ord_1")
        assert stored.lines[0].units_allocated == 40
        assert stored.version == 41
    engine.dispose()
