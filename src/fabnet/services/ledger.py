"""The hub's transparency log: events become leaves (in event order, gapless), a Merkle
tree over them, checkpoints signed by the hub and cosigned by witnesses, and provenance
bundles that verify offline.

One sequencer per hub appends: it reads events newer than the last one in the log, in
their order, and writes them as one batch (one durable transaction per batch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree, leaf_hash
from fabnet.ledger.notes import NoteError, Signer, Verifier, open_note, sign
from fabnet.ledger.proofs import format_proof, make_bundle
from fabnet.ledger.witness import request_body
from fabnet.services.ports import LeafMeta, LogStore, WitnessClient

LOAD_CHUNK = 100_000
log = logging.getLogger(__name__)


@dataclass
class TransparencyLog:
    store: LogStore
    signer: Signer
    witnesses: list[WitnessClient] = field(default_factory=list)
    witness_keys: list[Verifier] = field(default_factory=list)
    tree: MerkleTree | None = None
    _witness_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return self.signer.name

    def load(self) -> MerkleTree:
        """The tree over what the store holds (read in chunks)."""
        tree = MerkleTree()
        size = self.store.size()
        for start in range(0, size, LOAD_CHUNK):
            for h in self.store.hashes(start, min(size, start + LOAD_CHUNK)):
                tree.append_hash(h)
        self.tree = tree
        return tree

    def _tree(self) -> MerkleTree:
        return self.tree if self.tree is not None else self.load()

    @property
    def size(self) -> int:
        return self._tree().size

    def append(self, leaves: list[bytes], meta: list[LeafMeta] | None = None) -> int:
        tree = self._tree()
        hashes = [leaf_hash(leaf) for leaf in leaves]
        start = self.store.append(leaves, hashes, meta or [LeafMeta(0)] * len(leaves))
        if start != tree.size:
            self.load()  # someone else appended: the stored log is the truth
            return start
        for h in hashes:
            tree.append_hash(h)
        return start

    def sequence(self, batch: int = 256) -> int:
        """Append every event not yet in the log; returns how many were appended."""
        done = 0
        last = self.store.last_event_seq()
        while True:
            pending = self.store.events_after(last, batch)
            if not pending:
                return done
            self.append([entry for _, entry in pending], [meta for meta, _ in pending])
            last = pending[-1][0].event_seq
            done += len(pending)

    def checkpoint(self) -> str:
        """Sign the current tree head, gather the witnesses' cosignatures, store the note."""
        tree = self._tree()
        text = Checkpoint(self.origin, tree.size, tree.root()).text()
        note = sign(text, self.signer)
        cosigned = note + "".join(self._cosign(w, note, tree) for w in self.witnesses)
        self.store.save_checkpoint(tree.size, cosigned)
        return cosigned

    def _cosign(self, witness: WitnessClient, note: str, tree: MerkleTree) -> str:
        for _ in range(2):  # a 409 tells us the witness's size: one more try from there
            old = self._witness_sizes.get(witness.name, 0)
            proof = tree.consistency_proof(old) if 0 < old < tree.size else []
            status, body = witness.add_checkpoint(request_body(old, proof, note))
            if status == 200:
                self._witness_sizes[witness.name] = tree.size
                return body
            if status == 409 and body.strip().isdigit():
                self._witness_sizes[witness.name] = int(body.strip())
                continue
            log.warning("witness %s refused the checkpoint: %s %s", witness.name, status, body)
            return ""
        return ""

    def latest_checkpoint(self) -> str:
        """The newest stored checkpoint that covers the whole tree, else a new one."""
        note = self.store.latest_checkpoint()
        if note is not None:
            try:
                opened, _ = open_note(note, [self.signer.verifier])
                if Checkpoint.parse(opened.text).size == self.size:
                    return note
            except NoteError:
                log.warning("the stored checkpoint does not verify; signing a new one")
        return self.checkpoint()

    def proof(self, index: int, checkpoint_note: str) -> str:
        opened, _ = open_note(checkpoint_note, [self.signer.verifier])
        size = Checkpoint.parse(opened.text).size
        return format_proof(index, self._tree().inclusion_proof(index, size), checkpoint_note)

    def provenance(self, order_id: str) -> dict[str, Any]:
        """Every logged entry about ``order_id`` with its proof against one cosigned
        checkpoint: the bundle ``fabnet verify`` checks offline."""
        self.sequence()
        note = self.latest_checkpoint()
        indexes = self.store.indexes_for_order(order_id)
        entries = [
            (leaf, self.proof(i, note))
            for i, leaf in zip(indexes, self._leaves(indexes), strict=True)
        ]
        return make_bundle(self.signer.verifier, self.witness_keys, entries)

    def _leaves(self, indexes: list[int]) -> list[bytes]:
        out = []
        for i in indexes:
            out.extend(self.store.leaves(i, i + 1))
        return out
