"""Offline-verifiable proofs (c2sp.org/tlog-proof@v1) and provenance bundles.

A proof holds an entry's index, its inclusion proof and a checkpoint signed by the log
and cosigned by witnesses. ``verify_entry`` accepts it only if the log's key signed the
checkpoint, at least ``quorum`` distinct trusted witnesses cosigned it, and the entry's
leaf hash is included at that index: public keys are all it needs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import ProofError, leaf_hash, verify_inclusion
from fabnet.ledger.notes import COSIGNATURE_V1, NoteError, Verifier, open_note

HEADER = "c2sp.org/tlog-proof@v1"


def format_proof(index: int, proof: list[bytes], signed_checkpoint: str, extra: bytes = b"") -> str:
    lines = [HEADER]
    if extra:
        lines.append("extra " + base64.b64encode(extra).decode())
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(p).decode() for p in proof)
    return "\n".join(lines) + "\n\n" + signed_checkpoint


@dataclass(frozen=True)
class ParsedProof:
    index: int
    proof: list[bytes]
    checkpoint_note: str
    extra: bytes


def parse_proof(text: str) -> ParsedProof:
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ProofError("a tlog-proof needs an empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofError(f"a tlog-proof starts with {HEADER!r}")
    rest = lines[1:]
    extra = b""
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest.pop(0)[6:])
    if not rest or not rest[0].startswith("index "):
        raise ProofError("missing 'index N' line")
    index = rest.pop(0)[6:]
    if not index.isdigit() or (index != "0" and index.startswith("0")):
        raise ProofError("the index is a decimal number without leading zeros")
    proof = [_b64(line) for line in rest]
    if any(len(p) != 32 for p in proof):
        raise ProofError("inclusion proof lines are 32-byte hashes")
    return ParsedProof(int(index), proof, note, extra)


def _b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ProofError("not canonical base64")
    return raw


def verify_checkpoint(
    note_text: str, log_key: Verifier, witness_keys: list[Verifier], quorum: int
) -> Checkpoint:
    if quorum > len({(w.name, w.id) for w in witness_keys}):
        raise NoteError(f"a quorum of {quorum} needs at least {quorum} witness keys")
    note, good = open_note(note_text, [log_key, *witness_keys])
    if not any(g.verifier == log_key for g in good):
        raise NoteError("the log's key did not sign the checkpoint")
    cosigners = {
        (g.verifier.name, g.verifier.id)
        for g in good
        if g.verifier.key_type == COSIGNATURE_V1 and g.verifier in witness_keys
    }
    if len(cosigners) < quorum:
        raise NoteError(f"{len(cosigners)} witness cosignatures, the quorum is {quorum}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log_key.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the log {log_key.name!r}")
    return checkpoint


def verify_entry(
    leaf: bytes, proof_text: str, log_key: Verifier, witness_keys: list[Verifier], quorum: int
) -> Checkpoint:
    parsed = parse_proof(proof_text)
    checkpoint = verify_checkpoint(parsed.checkpoint_note, log_key, witness_keys, quorum)
    verify_inclusion(parsed.index, checkpoint.size, leaf_hash(leaf), parsed.proof, checkpoint.root)
    return checkpoint


def make_bundle(
    log_key: Verifier, witness_keys: list[Verifier], entries: list[tuple[bytes, str]]
) -> dict[str, Any]:
    return {
        "log_vkey": str(log_key),
        "witness_vkeys": [str(w) for w in witness_keys],
        "entries": [
            {"leaf": base64.b64encode(leaf).decode(), "proof": proof} for leaf, proof in entries
        ],
    }


@dataclass(frozen=True)
class BundleReport:
    entries: int
    records: list[dict[str, Any]]  # the verified leaves, decoded as JSON
    checkpoint_sizes: list[int]


def _record(leaf: bytes, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(leaf)
    except ValueError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"raw": raw}


def verify_bundle(
    bundle: Any, log_key: Verifier, witness_keys: list[Verifier], quorum: int
) -> BundleReport:
    """Every entry must verify against the keys the caller trusts (the bundle's own keys
    are only hints and are ignored), and no entry, log index or event may appear twice:
    a log that recorded one event twice would count it twice in every replay."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("entries"), list):
        raise ProofError("a bundle is an object with an 'entries' list")
    records, sizes = [], []
    seen: dict[bytes, int] = {}  # what identifies an entry -> where it first appeared
    for i, entry in enumerate(bundle["entries"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("leaf"), str):
            raise ProofError(f"entries[{i}]: needs 'leaf' (base64) and 'proof' (text)")
        if not isinstance(entry.get("proof"), str):
            raise ProofError(f"entries[{i}]: needs 'proof' (text)")
        leaf = _b64(entry["leaf"])
        try:
            checkpoint = verify_entry(leaf, entry["proof"], log_key, witness_keys, quorum)
        except (ProofError, NoteError) as exc:
            raise ProofError(f"entries[{i}]: {exc}") from None
        record = _record(leaf, entry["leaf"])
        index = parse_proof(entry["proof"]).index
        keys = [
            ("the same entry", b"leaf:" + leaf_hash(leaf)),
            (f"log index {index}", b"index:%d" % index),
        ]
        seq = record.get("seq")
        if isinstance(seq, int):
            keys.append((f"event {seq}", b"event:%d" % seq))
        for what, key in keys:
            if key in seen:
                raise ProofError(
                    f"entries[{i}]: {what} appears twice (first in entries[{seen[key]}])"
                )
            seen[key] = i
        records.append(record)
        sizes.append(checkpoint.size)
    if not records:
        raise ProofError("the bundle has no entries")
    return BundleReport(len(records), records, sizes)
