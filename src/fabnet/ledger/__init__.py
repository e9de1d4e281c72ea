"""Pure, framework-free ledger core: an RFC 9162 Merkle tree with inclusion and
consistency proofs, and C2SP signed notes and checkpoints."""
