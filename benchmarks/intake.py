"""Order intake under concurrency: `fabnet serve` (a real process, uvicorn) takes orders
from 20 connections at once, on SQLite and on PostgreSQL.

For each store it prints requests/s, p50 and p99 of POST /orders, and, from the same
run, GET /health over the same connections (the server's ceiling: the ratio says what
an order costs beyond HTTP). Then it checks that nothing was lost or doubled: every
201 is one stored order, every stored order was answered 201, every event is in the
transparency log once.

    .venv/bin/python benchmarks/intake.py --json
    .venv/bin/python benchmarks/intake.py --stores sqlite --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from serving import start_serve  # benchmarks/serving.py

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.sim.parts import box_stl

HUB: list[str] = []  # e.g. --workers 2; --no-hub measures intake with nothing planned
POSTGRES = os.environ.get(
    "FABNET_TEST_POSTGRES_URL", "postgresql+psycopg://fabnet:fabnet@127.0.0.1:5432/postgres"
)


def seed(settings: Settings, consumers: int = 20) -> tuple[list[str], str]:
    """Producers, one design, consumer keys; returns (consumer secrets, design id)."""
    from fabnet.domain.access import Principal
    from fabnet.domain.ids import PrincipalId

    app = bootstrap(settings)
    operator = Principal(PrincipalId("usr_bench"), Role.OPERATOR)
    bus = app.bus()
    for n in range(20):
        bus.handle(
            cmd.RegisterProducer(
                operator,
                cmd.FacilitySpec(
                    name=f"maker {n}",
                    lat=52 + n / 20,
                    lon=13 + n / 20,
                    machines=(
                        cmd.MachineSpec("mk4", "fdm", ("PLA", "PETG"), (250.0, 210.0, 220.0)),
                    ),
                ),
            )
        )
    design = bus.handle(
        cmd.RegisterDesign(
            operator, "shield.stl", box_stl(180, 160, 20), "shield", "fdm", ("PLA",), 4800
        )
    )
    keys = [
        bus.handle(cmd.CreateApiKey(f"bench consumer {n}", Role.CONSUMER)).secret
        for n in range(consumers)
    ]
    app.close()
    return keys, design


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a load generator that
    costs far less per request than an HTTP client library (the server shares the
    machine's two cores with it)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", key: str = "") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if key:
            head += f"X-API-Key: {key}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        assert self.reader is not None
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def load(
    port: int, path: str, keys: list[str], design: str, seconds: float, conns: int
) -> dict:
    deadline = datetime.now(UTC) + timedelta(days=20)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    references: list[str] = []
    end = time.perf_counter() + seconds

    async def worker(key: str) -> None:
        conn = Connection("127.0.0.1", port)
        while time.perf_counter() < end:
            started = time.perf_counter()
            if path == "/health":
                status = await conn.request("GET", "/health")
            else:
                reference = uuid.uuid4().hex
                body = {
                    "lines": [
                        {
                            "design_id": design,
                            "material": "PLA",
                            "quantity": 3,
                            "deadline": deadline.isoformat(),
                            "destination": {"lat": 52.5, "lon": 13.4},
                        }
                    ],
                    "reference": reference,
                }
                status = await conn.request("POST", "/orders", json.dumps(body).encode(), key)
                if status == 201:
                    references.append(reference)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(keys[n % len(keys)]) for n in range(conns)))
    wall = time.perf_counter() - began
    latencies.sort()
    q = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)  # noqa: E731
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": q(0.50),
        "p99_ms": q(0.99),
        "statuses": statuses,
        "references": references,
    }


def run_store(store: str, seconds: float, conns: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"fabnet-intake-{store}-"))
    url = ""
    admin = None
    if store == "postgres":
        admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        name = f"fabnet_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'create database "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp, database_url=url)
    keys, design = seed(settings, conns)
    env = os.environ | {
        "FABNET_DATA_DIR": str(tmp),
        "FABNET_DATABASE_URL": url,
        "FABNET_RATE_PER_S": "1e6",
    }
    log = (tmp / "serve.log").open("w")
    proc, base = start_serve(env, *HUB, log=log)
    port = int(base.rsplit(":", 1)[1])
    try:
        health = asyncio.run(load(port, "/health", keys, design, seconds / 2, conns))
        orders = asyncio.run(load(port, "/orders", keys, design, seconds, conns))
        time.sleep(3)  # the hub drains reactions and sequences the log
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    check = bootstrap(settings)
    with check.new_uow() as uow:
        stored = {o.reference for o in uow.orders.all()}
    ledger = check.ledger()
    ledger.sequence()
    with check.new_uow() as uow:
        events = uow.last_event_seq()
    logged = ledger.catch_up()
    duplicates = ledger.duplicates()
    check.close()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)'))
        admin.dispose()
    answered = set(orders["references"])
    return {
        "store": store,
        "connections": conns,
        "orders_rps": orders["rps"],
        "orders_p50_ms": orders["p50_ms"],
        "orders_p99_ms": orders["p99_ms"],
        "orders_statuses": orders["statuses"],
        "health_rps": health["rps"],
        "health_p99_ms": health["p99_ms"],
        "orders_over_health_rps": round(orders["rps"] / health["rps"], 3),
        "answered_201": len(answered),
        "stored": len(stored),
        "lost": len(answered - stored),
        "unanswered_stored": len(stored - answered),
        "events": events,
        "log_leaves": logged,
        "events_logged_twice": len(duplicates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [run_store(s, args.seconds, args.connections) for s in args.stores.split(",")]
    if args.json:
        print(json.dumps({"results": rows}, indent=2))
        return
    for row in rows:
        print(" ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
