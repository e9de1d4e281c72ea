"""`fabnet witness` as a real server on a free port: cosigns, refuses forks, persists
its state across a restart (the race-free check-and-record is the SQL UPDATE)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree
from fabnet.ledger.notes import Signer, Verifier, open_note, sign
from fabnet.ledger.witness import request_body

LOG = Signer.generate("fabnet.test/log")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp_path, key_file, port):
    env = os.environ | {}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fabnet",
            "witness",
            "--key",
            str(key_file),
            "--log-key",
            str(LOG.verifier),
            "--db",
            str(tmp_path / "w.sqlite"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    for _ in range(200):
        try:
            httpx.post(f"http://127.0.0.1:{port}/add-checkpoint", content="x", timeout=1)
            return proc
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    raise AssertionError("the witness did not start")


def test_witness_server_cosigns_and_remembers(tmp_path):
    keys = subprocess.run(
        [
            sys.executable,
            "-m",
            "fabnet",
            "keys",
            "note",
            "witness.test/w1",
            "--cosigner",
            "--out",
            str(tmp_path / "w.key"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    verifier = Verifier.parse(keys.stdout.strip().splitlines()[-1])
    assert oct(os.stat(tmp_path / "w.key").st_mode & 0o777) == "0o600"
    port = free_port()
    url = f"http://127.0.0.1:{port}/add-checkpoint"
    tree = MerkleTree()
    tree.extend(f"e{i}".encode() for i in range(12))
    first = sign(Checkpoint("fabnet.test/log", 5, tree.root(5)).text(), LOG)
    proc = start(tmp_path, tmp_path / "w.key", port)
    try:
        reply = httpx.post(url, content=request_body(0, [], first))
        assert reply.status_code == 200, reply.text
        _, good = open_note(first + reply.text, [verifier])
        assert good[0].timestamp and abs(good[0].timestamp - time.time()) < 60
        assert httpx.post(url, content=request_body(0, [], first)).status_code == 409
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc = start(tmp_path, tmp_path / "w.key", port)  # restarted: the state survived
    try:
        stale = httpx.post(url, content=request_body(0, [], first))
        assert (stale.status_code, stale.text, stale.headers["content-type"]) == (
            409,
            "5\n",
            "text/x.tlog.size",
        )
        second = sign(Checkpoint("fabnet.test/log", 12, tree.root()).text(), LOG)
        grown = httpx.post(url, content=request_body(5, tree.consistency_proof(5, 12), second))
        assert grown.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
