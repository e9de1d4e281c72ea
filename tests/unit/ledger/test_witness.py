"""The tlog-witness rules, case by case, on a real log and real keys."""

from __future__ import annotations

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree
from fabnet.ledger.notes import COSIGNATURE_V1, Signer, open_note, sign
from fabnet.ledger.witness import InMemoryWitnessState, Witness, request_body

LOG = Signer.generate("fabnet.test/log")
WITNESS = Signer.generate("witness.test/w1", COSIGNATURE_V1)
ORIGIN = "fabnet.test/log"


def tree(n: int) -> MerkleTree:
    t = MerkleTree()
    t.extend(f"entry {i}".encode() for i in range(n))
    return t


def signed(t: MerkleTree, size: int, signer: Signer = LOG, origin: str = ORIGIN) -> str:
    return sign(Checkpoint(origin, size, t.root(size)).text(), signer)


def witness() -> Witness:
    return Witness(WITNESS, {ORIGIN: [LOG.verifier]}, InMemoryWitnessState())


def test_a_first_checkpoint_is_cosigned_and_the_cosignature_verifies():
    w, t = witness(), tree(10)
    note = signed(t, 10)
    reply = w.add_checkpoint(request_body(0, [], note), now=1_700_000_000)
    assert reply.status == 200
    _, good = open_note(note + reply.body, [LOG.verifier, WITNESS.verifier])
    assert {g.timestamp for g in good} == {None, 1_700_000_000}


def test_growth_needs_a_valid_consistency_proof():
    w, t = witness(), tree(20)
    assert w.add_checkpoint(request_body(0, [], signed(t, 8)), 1).status == 200
    good = w.add_checkpoint(request_body(8, t.consistency_proof(8, 20), signed(t, 20)), 2)
    assert good.status == 200
    assert w.state.latest(ORIGIN) == (20, t.root())


def test_a_rewritten_history_gets_422_and_nothing_changes():
    w, t = witness(), tree(20)
    w.add_checkpoint(request_body(0, [], signed(t, 8)), 1)
    other = MerkleTree()
    other.extend(f"forged {i}".encode() for i in range(20))
    reply = w.add_checkpoint(request_body(8, other.consistency_proof(8, 20), signed(other, 20)), 2)
    assert reply.status == 422
    assert w.state.latest(ORIGIN) == (8, t.root(8))


def test_a_stale_old_size_gets_409_with_the_size():
    w, t = witness(), tree(20)
    w.add_checkpoint(request_body(0, [], signed(t, 8)), 1)
    reply = w.add_checkpoint(request_body(4, t.consistency_proof(4, 20), signed(t, 20)), 2)
    assert (reply.status, reply.body, reply.content_type) == (409, "8\n", "text/x.tlog.size")


def test_same_size_different_root_is_409():
    w, t = witness(), tree(8)
    w.add_checkpoint(request_body(0, [], signed(t, 8)), 1)
    fork = tree(9)
    forged = sign(Checkpoint(ORIGIN, 8, fork.root(9)).text(), LOG)
    assert w.add_checkpoint(request_body(8, [], forged), 2).status == 409


def test_unknown_logs_bad_signatures_and_junk():
    w, t = witness(), tree(4)
    assert (
        w.add_checkpoint(request_body(0, [], signed(t, 4, origin="other.test/log")), 1).status
        == 404
    )
    stranger = Signer.generate("fabnet.test/log")
    assert w.add_checkpoint(request_body(0, [], signed(t, 4, signer=stranger)), 1).status == 403
    assert w.add_checkpoint("old 0\n" + signed(t, 4), 1).status == 400
    assert w.add_checkpoint("old 01\n\n" + signed(t, 4), 1).status == 400
    assert w.add_checkpoint(request_body(5, [], signed(t, 4)), 1).status == 400
    assert w.add_checkpoint(request_body(0, [t.root()], signed(t, 4)), 1).status == 422
    assert w.state.latest(ORIGIN) is None
