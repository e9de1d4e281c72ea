"""The hub's transparency log: events become leaves (in event order, gapless), a Merkle
tree over them, checkpoints signed by the hub and cosigned by witnesses, and provenance
bundles that verify offline.

The store serialises sequencing (one sequencer at a time across processes, each event
once); this object keeps a Merkle tree in step with the store and guards it with a lock,
since API threads, the hub's checkpointer and provenance requests share it. When another
process appended first, the tree catches up from the stored hashes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree, leaf_hash
from fabnet.ledger.notes import NoteError, Signer, Verifier, open_note, sign
from fabnet.ledger.proofs import format_proof, make_bundle
from fabnet.ledger.witness import request_body
from fabnet.services.ports import LogStore, WitnessClient

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

    _lock: threading.RLock = field(default_factory=threading.RLock)

    def load(self) -> MerkleTree:
        """The tree over what the store holds (read in chunks)."""
        with self._lock:
            tree = MerkleTree()
            self._extend(tree, self.store.size())
            self.tree = tree
            return tree

    def _extend(self, tree: MerkleTree, size: int) -> None:
        for start in range(tree.size, size, LOAD_CHUNK):
            for h in self.store.hashes(start, min(size, start + LOAD_CHUNK)):
                tree.append_hash(h)

    def _tree(self) -> MerkleTree:
        return self.tree if self.tree is not None else self.load()

    def _add(self, start: int, hashes: list[bytes]) -> None:
        """Put leaves the store appended at ``start`` into the tree, first catching up
        with what another process appended before them."""
        tree = self._tree()
        if start < tree.size:  # the store lost leaves the tree holds: trust the store
            log.error("the stored log is shorter than this hub's tree; reloading it")
            self.load()
            return
        self._extend(tree, start)
        for h in hashes:
            tree.append_hash(h)

    @property
    def size(self) -> int:
        return self._tree().size

    def append(self, leaves: list[bytes]) -> int:
        """Append leaves that are not events (tests, benchmarks)."""
        with self._lock:
            self._tree()  # loaded before the store grows
            hashes = [leaf_hash(leaf) for leaf in leaves]
            start = self.store.append(leaves, hashes)
            self._add(start, hashes)
            return start

    def sequence(self, batch: int = 256) -> int:
        """Append every event not yet in the log; returns how many were appended."""
        done = 0
        with self._lock:
            self._tree()  # loaded before the store grows
            while True:
                start, hashes = self.store.sequence(batch, leaf_hash)
                if not hashes:
                    return done
                self._add(start, hashes)
                done += len(hashes)

    def catch_up(self) -> int:
        """Bring the tree up to the store (another process may have appended)."""
        with self._lock:
            tree = self._tree()
            self._extend(tree, self.store.size())
            return tree.size

    def duplicates(self) -> list[tuple[int, list[int]]]:
        """Events the stored log holds more than once (only a store written before the
        sequencer was serialised can); see docs/ledger.md."""
        return self.store.duplicate_events()

    def checkpoint(self) -> str:
        """Sign the current tree head, gather the witnesses' cosignatures, store the note."""
        with self._lock:
            self.catch_up()
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
        with self._lock:
            note = self.store.latest_checkpoint()
            if note is not None:
                try:
                    opened, _ = open_note(note, [self.signer.verifier])
                    if Checkpoint.parse(opened.text).size == self.catch_up():
                        return note
                except NoteError:
                    log.warning("the stored checkpoint does not verify; signing a new one")
            return self.checkpoint()

    def proof(self, index: int, checkpoint_note: str) -> str:
        opened, _ = open_note(checkpoint_note, [self.signer.verifier])
        size = Checkpoint.parse(opened.text).size
        with self._lock:
            path = self._tree().inclusion_proof(index, size)
        return format_proof(index, path, checkpoint_note)

    def provenance(self, order_id: str) -> dict[str, Any]:
        """Every logged entry about ``order_id`` with its proof against one cosigned
        checkpoint: the bundle ``fabnet verify`` checks offline."""
        with self._lock:
            self.sequence()
            note = self.latest_checkpoint()
        size = Checkpoint.parse(open_note(note, [self.signer.verifier])[0].text).size
        indexes = [i for i in self.store.indexes_for_order(order_id) if i < size]
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
