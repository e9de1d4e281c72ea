"""An append-only Merkle tree as RFC 6962 / RFC 9162 define it, with its proofs.

Leaves hash as ``SHA-256(0x00 || leaf)``, inner nodes as ``SHA-256(0x01 || left || right)``;
the tree over ``n`` leaves splits at the largest power of two below ``n``. The tree keeps
every complete subtree's hash by level, so an append costs one leaf hash plus one inner
hash on average, and a proof is read from at most ``log2 n`` stored nodes plus the
hashes of the right edge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

_sha = hashlib.sha256
EMPTY_ROOT = _sha(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return _sha(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


class ProofError(ValueError):
    """A proof, a size or a root does not verify; the message says which."""


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self._edges: dict[tuple[int, int], bytes] = {}  # incomplete subtrees, this size
        for h in leaf_hashes:
            self.append_hash(h)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append a leaf (its bytes); returns its index."""
        return self.append_hash(_sha(b"\x00" + leaf).digest())

    def append_hash(self, h: bytes) -> int:
        levels = self._levels
        if self._edges:
            self._edges.clear()
        level = levels[0]
        index = len(level)
        level.append(h)
        k = 0
        while len(levels[k]) % 2 == 0:
            below = levels[k]
            if k + 1 == len(levels):
                levels.append([])
            levels[k + 1].append(_sha(b"\x01" + below[-2] + below[-1]).digest())
            k += 1
        return index

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append_hash(_sha(b"\x00" + leaf).digest())

    def leaf_hash_at(self, index: int) -> bytes:
        return self._levels[0][index]

    def _range(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:  # a complete, aligned subtree: stored
            return self._levels[n.bit_length() - 1][start // n]
        known = self._edges.get((start, end))
        if known is None:  # the right edge: the same few ranges for every proof of a size
            k = _split(n)
            known = node_hash(self._range(start, start + k), self._range(start + k, end))
            self._edges[(start, end)] = known
        return known

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return self._range(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf index {index} is not in a tree of size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:  # walk down; collect siblings, then reverse (leaf first)
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start = start + k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ProofError(f"cannot prove size {old_size} against size {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._range(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete), self._range(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._range(start, start + k)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} is beyond the {self.size} leaves stored")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for ``leaf`` (a leaf hash) at ``index`` (RFC 9162
    2.1.3.2). Raises ProofError when the proof cannot be one of a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    if any(len(p) != 32 for p in proof):
        raise ProofError("every proof node is 32 bytes")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if len(leaf) != 32 or len(root) != 32:
        raise ProofError("leaf hash and root are 32 bytes")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless ``proof`` shows that the tree of
    ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``."""
    if size1 < 0 or size2 < 0 or size1 > size2:
        raise ProofError(f"size {size1} cannot be a prefix of size {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    if any(len(p) != 32 for p in proof) or len(root1) != 32 or len(root2) != 32:
        raise ProofError("hashes are 32 bytes")
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: root1 starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is too short")
    if fr != root1:
        raise ProofError("the proof does not lead to the old root")
    if sr != root2:
        raise ProofError("the proof does not lead to the new root")
