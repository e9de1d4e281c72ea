"""How fast the transparency log appends, proves and verifies, against pymerkle.

    .venv/bin/python benchmarks/ledger.py --json

appends_per_s_memory: the log over the in-memory store, batches of 256; _sqlite and
_postgres: durable, one transaction per batch of 256 (PostgreSQL at
FABNET_TEST_POSTGRES_URL, in a scratch database). Proofs at 1M entries (--entries).
checkpoint_verify_us: one checkpoint signed by the log and cosigned by three witnesses.
Baseline in the same run: pymerkle's InmemoryTree appending the same entries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from fabnet.adapters.db import create_engine_for, migrate
from fabnet.adapters.db.log import SqlLogStore
from fabnet.adapters.memory.log import InMemoryLogStore
from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree, verify_inclusion
from fabnet.ledger.notes import COSIGNATURE_V1, Signer, open_note, sign
from fabnet.services.ledger import TransparencyLog

BATCH = 256
SIGNER = Signer.generate("fabnet.bench/log")


def entries(n: int) -> list[bytes]:
    rng = random.Random(1)
    return [
        json.dumps(
            {"event": "JobDone", "job": f"job_{i:08d}", "units": rng.randint(1, 99)}
        ).encode()
        for i in range(n)
    ]


def rate(store, items: list[bytes]) -> float:  # type: ignore[no-untyped-def]
    log = TransparencyLog(store, SIGNER)
    log.load()
    started = time.perf_counter()
    for i in range(0, len(items), BATCH):
        log.append(items[i : i + BATCH])
    return len(items) / (time.perf_counter() - started)


def pymerkle_rate(items: list[bytes]) -> float:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    started = time.perf_counter()
    for item in items:
        tree.append_entry(item)
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--durable", type=int, default=50_000, help="entries for the durable runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = entries(args.entries)

    out: dict[str, float | int] = {"entries": args.entries}
    out["appends_per_s_memory"] = round(rate(InMemoryLogStore(), items))
    out["pymerkle_appends_per_s"] = round(pymerkle_rate(items[: min(len(items), 200_000)]))
    out["memory_over_pymerkle"] = round(
        out["appends_per_s_memory"] / out["pymerkle_appends_per_s"], 2
    )

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_for(f"sqlite:///{Path(tmp) / 'log.sqlite'}")
        migrate(engine)
        out["appends_per_s_sqlite"] = round(rate(SqlLogStore(engine), items[: args.durable]))
        engine.dispose()
    admin_url = os.environ.get(
        "FABNET_TEST_POSTGRES_URL", "postgresql+psycopg://fabnet:fabnet@127.0.0.1:5432/postgres"
    )
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"fabnet_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    try:
        engine = create_engine_for(
            admin.url.set(database=name).render_as_string(hide_password=False)
        )
        migrate(engine)
        out["appends_per_s_postgres"] = round(rate(SqlLogStore(engine), items[: args.durable]))
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()

    tree = MerkleTree()
    tree.extend(items)
    root = tree.root()
    rng = random.Random(2)
    picks = [rng.randrange(tree.size) for _ in range(2000)]
    started = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in picks]
    out["proof_gen_us"] = round((time.perf_counter() - started) / len(picks) * 1e6, 2)
    started = time.perf_counter()
    for i, proof in zip(picks, proofs, strict=True):
        verify_inclusion(i, tree.size, tree.leaf_hash_at(i), proof, root)
    out["proof_verify_us"] = round((time.perf_counter() - started) / len(picks) * 1e6, 2)

    witnesses = [Signer.generate(f"fabnet.bench/w{i}", COSIGNATURE_V1) for i in range(3)]
    text = Checkpoint("fabnet.bench/log", tree.size, root).text()
    note = sign(text, SIGNER) + "".join(w.sign_line(text, 1_700_000_000) for w in witnesses)
    verifiers = [SIGNER.verifier, *(w.verifier for w in witnesses)]
    rounds = 500
    started = time.perf_counter()
    for _ in range(rounds):
        _, good = open_note(note, verifiers)
        assert len(good) == 4
    out["checkpoint_verify_us"] = round((time.perf_counter() - started) / rounds * 1e6, 1)
    out["cosigned_latency_p95_s"] = cosigned_latency_p95(witnesses)
    print(json.dumps(out) if args.json else "\n".join(f"{k:<26} {v}" for k, v in out.items()))


def cosigned_latency_p95(witness_signers: list[Signer], seconds: float = 8.0) -> float:
    """Entries appended every 40 ms while a checkpointer runs every second (as `serve`
    does) and gathers three witnesses' cosignatures: p95 of append -> covered."""
    import threading

    from fabnet.adapters.memory.witness import LocalWitnessClient
    from fabnet.ledger.witness import InMemoryWitnessState, Witness

    clients = [
        LocalWitnessClient(
            Witness(w, {SIGNER.name: [SIGNER.verifier]}, InMemoryWitnessState()),
            lambda: int(time.time()),
        )
        for w in witness_signers
    ]
    log = TransparencyLog(
        InMemoryLogStore(), SIGNER, clients, [w.verifier for w in witness_signers]
    )
    lock = threading.Lock()
    appended: list[tuple[int, float]] = []
    covered: dict[int, float] = {}
    stop = threading.Event()

    def checkpointer() -> None:
        while not stop.is_set():
            stop.wait(1.0)
            with lock:
                log.checkpoint()
                size = log.size
            now = time.perf_counter()
            for index, _ in appended:
                if index < size and index not in covered:
                    covered[index] = now

    thread = threading.Thread(target=checkpointer)
    thread.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        with lock:
            index = log.append([b"entry"])
        appended.append((index, time.perf_counter()))
        time.sleep(0.04)
    time.sleep(1.2)
    stop.set()
    thread.join()
    waits = sorted(covered[i] - t for i, t in appended if i in covered)
    return round(waits[int(0.95 * (len(waits) - 1))], 3) if waits else float("nan")


if __name__ == "__main__":
    main()
