"""The hub's transparency log: events become leaves (in event order, gapless), a Merkle
tree over them, and signed checkpoints a witness can cosign.

One sequencer per hub appends: it reads events newer than the last one in the log, in
their order, and writes them as one batch (one durable transaction per batch).
"""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.ledger.checkpoints import Checkpoint
from fabnet.ledger.merkle import MerkleTree, leaf_hash
from fabnet.ledger.notes import Signer, sign
from fabnet.services.ports import LogStore

LOAD_CHUNK = 100_000


@dataclass
class TransparencyLog:
    store: LogStore
    signer: Signer
    origin: str
    tree: MerkleTree | None = None

    def load(self) -> MerkleTree:
        """The tree over what the store holds (read in chunks)."""
        tree = MerkleTree()
        size = self.store.size()
        for start in range(0, size, LOAD_CHUNK):
            for h in self.store.hashes(start, min(size, start + LOAD_CHUNK)):
                tree.append_hash(h)
        self.tree = tree
        return tree

    @property
    def size(self) -> int:
        return len(self.tree) if self.tree is not None else self.load().size

    def append(self, leaves: list[bytes], event_seq: int = 0) -> int:
        tree = self.tree if self.tree is not None else self.load()
        hashes = [leaf_hash(leaf) for leaf in leaves]
        start = self.store.append(leaves, hashes, event_seq)
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
            self.append([entry for _, entry in pending], event_seq=pending[-1][0])
            last = pending[-1][0]
            done += len(pending)

    def checkpoint(self) -> str:
        """Sign the current tree head; store and return the signed note."""
        tree = self.tree if self.tree is not None else self.load()
        text = Checkpoint(self.origin, tree.size, tree.root()).text()
        note = sign(text, self.signer)
        self.store.save_checkpoint(tree.size, note)
        return note
