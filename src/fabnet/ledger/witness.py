"""A transparency-log witness (c2sp.org/tlog-witness): verifies that each new checkpoint
of a log it knows extends the last one it cosigned, and cosigns it (tlog-cosignature/v1).

The HTTP layer only moves bytes; every rule of the protocol is here, as a pure function
of the request, the witness's recorded state and the time.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Protocol

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import ProofError, verify_consistency
from fabnet.ledger.notes import COSIGNATURE_V1, NoteError, Signer, Verifier, open_note

MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class WitnessState(Protocol):
    def latest(self, origin: str) -> tuple[int, bytes] | None: ...
    def advance(self, origin: str, old_size: int, size: int, root: bytes) -> bool:
        """Atomically record (size, root) if the recorded size is still ``old_size``
        (0 and nothing recorded count as equal). False when someone else moved it."""


@dataclass
class InMemoryWitnessState:
    rows: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        return self.rows.get(origin)

    def advance(self, origin: str, old_size: int, size: int, root: bytes) -> bool:
        current = self.rows.get(origin)
        if (current[0] if current else 0) != old_size:
            return False
        self.rows[origin] = (size, root)
        return True


@dataclass
class Witness:
    signer: Signer
    logs: dict[str, list[Verifier]]  # origin -> the log's keys
    state: WitnessState

    def __post_init__(self) -> None:
        if self.signer.key_type != COSIGNATURE_V1:
            raise NoteError("a witness signs with a cosignature/v1 (type 0x04) key")

    def add_checkpoint(self, body: str, now: int) -> Reply:
        try:
            old_size, proof, note_text = _parse_request(body)
        except NoteError as exc:
            return Reply(400, f"{exc}\n")
        try:
            origin = note_text.split("\n", 1)[0]
        except IndexError:
            return Reply(400, "no checkpoint\n")
        keys = self.logs.get(origin)
        if keys is None:
            return Reply(404, f"unknown log {origin!r}\n")
        try:
            note, _ = open_note(note_text, keys)
        except NoteError as exc:
            return Reply(403, f"{exc}\n")
        try:
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as exc:
            return Reply(400, f"{exc}\n")
        if old_size > checkpoint.size:
            return Reply(400, "old size is larger than the checkpoint size\n")
        latest = self.state.latest(origin)
        recorded = latest[0] if latest else 0
        if old_size != recorded:
            return Reply(409, f"{recorded}\n", SIZE_TYPE)
        if latest is not None and old_size == checkpoint.size:
            if latest[1] != checkpoint.root:
                return Reply(409, f"{recorded}\n", SIZE_TYPE)
        elif old_size == 0:
            if proof:
                return Reply(422, "the proof from size 0 must be empty\n")
        else:
            assert latest is not None
            try:
                verify_consistency(old_size, checkpoint.size, latest[1], checkpoint.root, proof)
            except ProofError as exc:
                return Reply(422, f"{exc}\n")
        if not self.state.advance(origin, old_size, checkpoint.size, checkpoint.root):
            now_latest = self.state.latest(origin)
            return Reply(409, f"{now_latest[0] if now_latest else 0}\n", SIZE_TYPE)
        return Reply(200, self.signer.sign_line(note.text, timestamp=now))


def _parse_request(body: str) -> tuple[int, list[bytes], str]:
    head, sep, note_text = body.partition("\n\n")
    if not sep:
        raise NoteError("the request needs an empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old "):
        raise NoteError("the first line is 'old <size>'")
    size = first[4:]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError("the old size is a decimal number without leading zeros")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise NoteError(f"more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for line in proof_lines:
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("a proof line is one base64 hash") from None
        if len(raw) != 32:
            raise NoteError("a proof line is one 32-byte hash")
        proof.append(raw)
    return int(size), proof, note_text


def request_body(old_size: int, proof: list[bytes], signed_checkpoint: str) -> str:
    lines = [f"old {old_size}", *(base64.b64encode(p).decode() for p in proof)]
    return "\n".join(lines) + "\n\n" + signed_checkpoint
