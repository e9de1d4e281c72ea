"""From order to a provenance bundle that verifies offline, with three witnesses; and
every kind of tampering (entry, proof, checkpoint, the stored log itself) is caught."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fabnet.adapters.memory.witness import LocalWitnessClient
from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.entrypoints.cli.main import app as cli
from fabnet.ledger.notes import COSIGNATURE_V1, Signer
from fabnet.ledger.witness import InMemoryWitnessState, Witness
from fabnet.services import commands as cmd
from fabnet.services.ports import FixedClock
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, OPERATOR, START, facility, printer, producer_actor

runner = CliRunner()


@pytest.fixture
def hub(tmp_path):
    clock = FixedClock(START)
    settings = Settings(data_dir=tmp_path, log_origin="hub.test/log")
    witnesses = [Signer.generate(f"witness.test/w{i}", COSIGNATURE_V1) for i in range(3)]
    log_key = Signer.generate("hub.test/log")
    (tmp_path / "log.key").write_text(str(log_key))
    clients = [
        LocalWitnessClient(
            Witness(w, {"hub.test/log": [log_key.verifier]}, InMemoryWitnessState()),
            lambda: int(clock.now().timestamp()),
        )
        for w in witnesses
    ]
    app = bootstrap(
        settings, clock=clock, witness_clients=clients, witness_keys=[w.verifier for w in witnesses]
    )
    bus = app.bus()
    pid = bus.handle(cmd.RegisterProducer(OPERATOR, facility("maker", 52.5, 13.4, printer())))
    design = bus.handle(
        cmd.RegisterDesign(OPERATOR, "s.stl", box_stl(100, 100, 10), "shield", "fdm", ("PLA",), 600)
    )
    line = cmd.LineRequest(design, "PLA", 12, START + timedelta(days=2), 52.5, 13.4)
    order_id = bus.handle(cmd.PlaceOrder(ALICE, (line,)))
    with app.new_uow() as uow:
        (job,) = uow.jobs.all(order_id=order_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        bus.handle(step(producer_actor(pid), job.id))
    bus.handle(
        cmd.FinishJob(
            producer_actor(pid), job.id, material_lot="PLA-2026-0042", profile_hash="ab12"
        )
    )
    alice_key = bus.handle(cmd.CreateApiKey("alice", Role.CONSUMER, principal_id=ALICE.id)).secret
    bob_key = bus.handle(cmd.CreateApiKey("bob", Role.CONSUMER)).secret
    yield app, order_id, alice_key, bob_key, log_key, witnesses, tmp_path
    app.close()


def verify(path, log_key, witnesses, *extra):
    args = ["verify", str(path), "--log-key", str(log_key.verifier)]
    for w in witnesses:
        args += ["--witness-key", str(w.verifier)]
    return runner.invoke(cli, [*args, *extra])


def test_the_consumer_gets_a_bundle_that_verifies_offline(hub):
    app, order_id, alice_key, bob_key, log_key, witnesses, tmp = hub
    with TestClient(create_app(fabnet=app)) as client:
        response = client.get(f"/orders/{order_id}/provenance", headers={"X-API-Key": alice_key})
        assert (
            client.get(f"/orders/{order_id}/provenance", headers={"X-API-Key": bob_key}).status_code
            == 404
        )
    assert response.status_code == 200, response.text
    bundle = response.json()
    events = [json.loads(base64.b64decode(e["leaf"]))["event"] for e in bundle["entries"]]
    for name in ("OrderPlaced", "JobOffered", "JobAccepted", "JobStarted", "JobDone", "UnitsMade"):
        assert name in events
    made = next(
        json.loads(base64.b64decode(e["leaf"]))
        for e in bundle["entries"]
        if b"UnitsMade" in base64.b64decode(e["leaf"])
    )["payload"]
    assert (made["units"], made["material_lot"], made["profile_hash"]) == (
        12,
        "PLA-2026-0042",
        "ab12",
    )
    assert made["design_id"].startswith("dsg_")
    assert re.fullmatch("[0-9a-f]{64}", made["design_hash"])  # the file the units came from
    path = tmp / "bundle.json"
    path.write_text(json.dumps(bundle))
    result = verify(path, log_key, witnesses, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["entries"] == len(bundle["entries"])
    assert (
        verify(path, log_key, witnesses[:2], "--quorum", "3").exit_code == 1
    )  # quorum unreachable
    assert verify(path, Signer.generate("hub.test/log"), witnesses).exit_code == 1  # wrong log key


@pytest.mark.parametrize("where", ["leaf", "proof-hash", "checkpoint-root", "cosignature", "index"])
def test_any_tampered_bundle_fails(hub, where):
    app, order_id, _, _, log_key, witnesses, tmp = hub
    bundle = app.ledger().provenance(order_id)
    entry = bundle["entries"][1]
    if where == "leaf":
        leaf = bytearray(base64.b64decode(entry["leaf"]))
        leaf[5] ^= 1
        entry["leaf"] = base64.b64encode(bytes(leaf)).decode()
    elif where == "proof-hash":
        lines = entry["proof"].split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()
        entry["proof"] = "\n".join(lines)
    elif where == "checkpoint-root":
        head, _, note = entry["proof"].partition("\n\n")
        parts = note.split("\n")
        parts[2] = base64.b64encode(bytes(32)).decode()
        entry["proof"] = head + "\n\n" + "\n".join(parts)
    elif where == "cosignature":
        entry["proof"] = entry["proof"].rstrip("\n").rsplit("\n", 1)[0] + "\n"
    else:
        lines = entry["proof"].split("\n")
        lines[1] = f"index {int(lines[1].split()[1]) + 1}"
        entry["proof"] = "\n".join(lines)
    path = tmp / "tampered.json"
    path.write_text(json.dumps(bundle))
    assert verify(path, log_key, witnesses).exit_code == 1


def test_rewriting_the_stored_log_is_refused_by_the_witnesses(hub):
    app, order_id, _, _, log_key, witnesses, tmp = hub
    ledger = app.ledger()
    first = ledger.provenance(order_id)
    engine = sa.create_engine(app.settings.resolved_database_url())
    with engine.begin() as conn:  # the operator edits who made the units
        row = conn.execute(
            sa.text("select idx, leaf from log_leaves order by idx desc limit 1")
        ).one()
        forged = bytes(row.leaf).replace(b"prd_", b"prx_")
        from fabnet.ledger.merkle import leaf_hash

        conn.execute(
            sa.text("update log_leaves set leaf = :l, hash = :h where idx = :i"),
            {"l": forged, "h": leaf_hash(forged), "i": row.idx},
        )
    engine.dispose()
    ledger.load()
    ledger.append([b'{"event":"Later"}'])
    note = ledger.checkpoint()
    assert "witness.test" not in note  # no witness cosigns the rewritten tree
    again = ledger.provenance(order_id)
    path = tmp / "after.json"
    path.write_text(json.dumps(again))
    assert verify(path, log_key, witnesses).exit_code == 1
    assert first["entries"]


def test_checkpoints_over_http(hub):
    app, _order_id, alice_key, _bob_key, log_key, witnesses, _tmp = hub
    from fabnet.ledger.checkpoints import Checkpoint
    from fabnet.ledger.proofs import verify_checkpoint

    with TestClient(create_app(fabnet=app)) as client:
        assert client.get("/ledger/key").text.strip() == str(log_key.verifier)
        note = client.get("/ledger/checkpoint", headers={"X-API-Key": alice_key}).text
        assert (
            client.post("/ledger/checkpoint", headers={"X-API-Key": alice_key}).status_code == 403
        )
    checkpoint = verify_checkpoint(note, log_key.verifier, [w.verifier for w in witnesses], 3)
    assert checkpoint == Checkpoint.parse(checkpoint.text()) and checkpoint.size > 5


def test_a_corrupt_log_key_is_a_clear_503(tmp_path):
    from fabnet.adapters.memory.log import InMemoryLogStore

    (tmp_path / "log.key").write_text("PRIVATE+KEY+broken\n")
    app = bootstrap(Settings(data_dir=tmp_path), log_store=InMemoryLogStore())
    with TestClient(create_app(fabnet=app)) as client:
        response = client.get("/ledger/key")
    assert response.status_code == 503
    assert "log key" in response.json()["error"]["message"]
    app.close()
