"""The transparency log over every store: appends are gapless and durable, the tree
reloads to the same root, events are sequenced once, and tampering with the stored
leaves is caught by a consistency proof against an earlier checkpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.db.log import SqlLogStore
from fabnet.adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from fabnet.adapters.memory.log import InMemoryLogStore
from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from fabnet.ledger.notes import Signer, open_note
from fabnet.ledger.proofs import verify_bundle
from fabnet.services.ledger import TransparencyLog
from tests.contract.test_unit_of_work import order

SIGNER = Signer.generate("fabnet.test/log")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request, tmp_path) -> Iterator[tuple]:
    if request.param == "memory":
        db = InMemoryDatabase()
        yield InMemoryLogStore(db), (lambda: InMemoryUnitOfWork(db)), None
        return
    url = (
        f"sqlite:///{tmp_path / 'log.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine_for(url)
    migrate(engine)
    yield SqlLogStore(engine), (lambda: SqlUnitOfWork(engine)), engine
    engine.dispose()


def test_appends_are_gapless_and_the_tree_reloads(backend):
    store, _, _ = backend
    log = TransparencyLog(store, SIGNER)
    assert log.append([b"a", b"b"]) == 0
    assert log.append([b"c"]) == 2
    again = TransparencyLog(store, SIGNER)
    assert again.load().root() == log.tree.root()
    assert store.leaves(0, 3) == [b"a", b"b", b"c"]


def test_events_are_sequenced_once_in_order(backend):
    store, new_uow, _ = backend
    with new_uow() as uow:
        uow.orders.add(order(1))
        uow.commit()
    log = TransparencyLog(store, SIGNER)
    assert log.sequence() == 1
    assert log.sequence() == 0
    with new_uow() as uow:
        uow.orders.add(order(2))
        uow.commit()
    assert log.sequence() == 1
    leaves = store.leaves(0, 2)
    assert b'"event":"OrderPlaced"' in leaves[0] and b'"ord_2"' in leaves[1]
    assert b'"seq":1' in leaves[0] and b'"seq":2' in leaves[1]


def test_concurrent_writers_and_sequencers_log_each_event_once(backend):
    """Events are written by 4 threads while 3 sequencers (each its own tree, as hub
    replicas would have) sequence and checkpoint as fast as they can: every event ends
    up in the log exactly once, and each sequencer's tree equals the stored one."""
    store, new_uow, _ = backend
    writers, per_writer = 4, 15
    logs = [TransparencyLog(store, SIGNER) for _ in range(3)]
    done = threading.Event()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for k in range(per_writer):
                with new_uow() as uow:
                    uow.orders.add(order(1000 * (w + 1) + k))
                    uow.commit()
        except BaseException as exc:  # reported below, the test must not hang
            errors.append(exc)

    def sequence(log: TransparencyLog) -> None:
        try:
            while not done.is_set():
                log.sequence(batch=3)
                log.latest_checkpoint()
        except BaseException as exc:
            errors.append(exc)

    seqs = [threading.Thread(target=sequence, args=(log,)) for log in logs]
    wrs = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in [*seqs, *wrs]:
        t.start()
    for t in wrs:
        t.join(timeout=120)
    done.set()
    for t in seqs:
        t.join(timeout=120)
    assert errors == []
    for log in logs:
        log.sequence()
    events = writers * per_writer
    assert store.size() == events
    logged = [json.loads(leaf)["seq"] for leaf in store.leaves(0, events)]
    assert sorted(logged) == list(range(1, events + 1))
    assert store.duplicate_events() == []
    roots = {log.catch_up() and log.tree.root() for log in logs}
    assert roots == {TransparencyLog(store, SIGNER).load().root()}


def test_a_bundle_with_one_event_twice_does_not_verify(backend):
    store, new_uow, _ = backend
    with new_uow() as uow:
        uow.orders.add(order(1))
        uow.commit()
    log = TransparencyLog(store, SIGNER)
    log.sequence()
    bundle = log.provenance("ord_1")
    assert verify_bundle(bundle, SIGNER.verifier, [], 0).entries == 1
    twice = {**bundle, "entries": bundle["entries"] * 2}
    with pytest.raises(ProofError, match="appears twice"):
        verify_bundle(twice, SIGNER.verifier, [], 0)


def test_checkpoints_sign_the_tree_and_prove_entries(backend):
    store, _, _ = backend
    log = TransparencyLog(store, SIGNER)
    log.append([f"entry {i}".encode() for i in range(50)])
    note, _ = open_note(log.checkpoint(), [SIGNER.verifier])
    cp = Checkpoint.parse(note.text)
    assert (cp.size, cp.root) == (50, log.tree.root())
    verify_inclusion(7, 50, log.tree.leaf_hash_at(7), log.tree.inclusion_proof(7), cp.root)
    assert store.latest_checkpoint() == log.checkpoint()


TAMPER = {
    "edit": ["update log_leaves set leaf = :v, hash = :h where idx = 3"],
    "truncate": ["delete from log_leaves where idx >= 15"],
    "reorder": [
        "update log_leaves set idx = -1 where idx = 4",
        "update log_leaves set idx = 4 where idx = 5",
        "update log_leaves set idx = 5 where idx = -1",
    ],
}


@pytest.mark.parametrize("how", sorted(TAMPER))
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_tampering_with_the_stored_log_is_caught(kind, how, tmp_path, request):
    from fabnet.adapters.memory.witness import LocalWitnessClient
    from fabnet.ledger.notes import COSIGNATURE_V1
    from fabnet.ledger.witness import InMemoryWitnessState, Witness

    url = (
        f"sqlite:///{tmp_path / 'log.sqlite'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine_for(url)
    migrate(engine)
    store = SqlLogStore(engine)
    witness_key = Signer.generate("witness.test/w", COSIGNATURE_V1)
    witness = LocalWitnessClient(
        Witness(witness_key, {SIGNER.name: [SIGNER.verifier]}, InMemoryWitnessState()), lambda: 1
    )
    log = TransparencyLog(store, SIGNER, [witness], [witness_key.verifier])
    log.append([f"unit {i} made by p1".encode() for i in range(20)])
    old = Checkpoint.parse(open_note(log.checkpoint(), [SIGNER.verifier])[0].text)
    with engine.begin() as conn:  # the hub's operator rewrites history behind the log's back
        for sql in TAMPER[how]:
            conn.execute(sa.text(sql), {"v": b"unit 3 made by p9", "h": b"\x00" * 32})
    reloaded = TransparencyLog(store, SIGNER, [witness], [witness_key.verifier])
    reloaded.load()
    reloaded.append([b"later"] * (10 if how == "truncate" else 1))
    tree = reloaded.tree
    with pytest.raises(ProofError):
        verify_consistency(
            old.size, tree.size, old.root, tree.root(), tree.consistency_proof(old.size)
        )
    assert witness_key.name not in reloaded.checkpoint()  # the witness refuses to cosign
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_store_with_duplicates_is_reported_and_bundles_hold_each_event_once(
    kind, tmp_path, request
):
    """A store written by the old, racy sequencer (one event in three leaves) migrates:
    the duplicates are reported, provenance names each event once, new events are
    logged once."""
    url = (
        f"sqlite:///{tmp_path / 'log.sqlite'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine_for(url)
    migrate(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(1))
        uow.commit()
    leaf = b'{"event":"OrderPlaced","payload":{"order_id":"ord_1"}}'
    with engine.begin() as conn:  # what the racy sequencer left behind, before 0005
        conn.execute(sa.text("delete from log_events"))
        for idx in range(3):
            conn.execute(
                sa.text(
                    "insert into log_leaves (idx, leaf, hash, event_seq, order_id) "
                    "values (:i, :l, :h, 1, 'ord_1')"
                ),
                {"i": idx, "l": leaf, "h": leaf_hash(leaf)},
            )
        conn.execute(
            sa.text(
                "insert into log_events (event_seq, idx) select event_seq, min(idx) "
                "from log_leaves where event_seq > 0 group by event_seq"
            )
        )  # the migration's own statement
    store = SqlLogStore(engine)
    log = TransparencyLog(store, SIGNER)
    assert log.duplicates() == [(1, [0, 1, 2])]
    assert log.sequence() == 0  # event 1 is logged already
    bundle = log.provenance("ord_1")
    assert verify_bundle(bundle, SIGNER.verifier, [], 0).entries == 1
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(2))
        uow.commit()
    assert log.sequence() == 1
    assert store.size() == 4
    engine.dispose()
