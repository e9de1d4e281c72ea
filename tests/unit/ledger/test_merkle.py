"""The Merkle tree against the transparency-dev/merkle vectors (Apache-2.0, in
../shared/testdata) and against itself: proofs from the tree always verify, and any bit
flipped in a proof or a root is rejected."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "transparency-dev-merkle" / "testdata"


def _load(kind: str) -> list[tuple[str, dict]]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return [(str(f.relative_to(VECTORS)), json.loads(f.read_text())) for f in files]


def _b(value):
    if value is None:
        return b""
    return base64.b64decode(value)


@pytest.mark.parametrize(
    ("name", "v"), _load("inclusion"), ids=lambda x: x if isinstance(x, str) else ""
)
def test_inclusion_vectors(name, v):
    proof = [_b(p) for p in v.get("proof") or []]

    def check():
        return verify_inclusion(
            v["leafIdx"], v["treeSize"], _b(v["leafHash"]), proof, _b(v["root"])
        )

    if v["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize(
    ("name", "v"), _load("consistency"), ids=lambda x: x if isinstance(x, str) else ""
)
def test_consistency_vectors(name, v):
    proof = [_b(p) for p in v.get("proof") or []]

    def check():
        return verify_consistency(v["size1"], v["size2"], _b(v["root1"]), _b(v["root2"]), proof)

    if v["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_known_roots():
    # RFC 6962 test tree: the first leaves of the CT reference vectors
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    tree = MerkleTree()
    tree.extend(leaves)
    assert MerkleTree().root() == EMPTY_ROOT
    assert tree.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert tree.root(1).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_proofs_from_the_tree_verify(n, data):
    tree = MerkleTree()
    tree.extend(i.to_bytes(4, "big") for i in range(n))
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    verify_inclusion(
        index, size, tree.leaf_hash_at(index), tree.inclusion_proof(index, size), tree.root(size)
    )
    verify_consistency(
        old, size, tree.root(old), tree.root(size), tree.consistency_proof(old, size)
    )


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 200), st.data())
def test_any_flipped_bit_is_rejected(n, data):
    tree = MerkleTree()
    tree.extend(i.to_bytes(4, "big") for i in range(n))
    index = data.draw(st.integers(0, n - 1))
    proof = tree.inclusion_proof(index)
    root = tree.root()
    target = data.draw(st.sampled_from(["proof", "root", "leaf"]))
    bit = data.draw(st.integers(0, 255))
    flip = lambda b: b[: bit // 8] + bytes([b[bit // 8] ^ (1 << (bit % 8))]) + b[bit // 8 + 1 :]  # noqa: E731
    leaf = tree.leaf_hash_at(index)
    if target == "proof" and proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        proof[k] = flip(proof[k])
    elif target == "root":
        root = flip(root)
    else:
        leaf = flip(leaf)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, leaf, proof, root)


def test_leaf_hash_domain_separation():
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
