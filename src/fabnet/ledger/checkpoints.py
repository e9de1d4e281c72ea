"""Checkpoints (c2sp.org/tlog-checkpoint): origin, tree size and root hash as note text."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from fabnet.ledger.notes import NoteError


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise NoteError("the origin is one non-empty line")
        if len(self.root) != 32 or self.size < 0:
            raise NoteError("a checkpoint has a 32-byte root and a size >= 0")
        body = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(body) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is origin, size and root hash lines")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("the checkpoint has no origin")
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("the tree size is a decimal number without leading zeros")
        try:
            raw = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("the root hash is not base64") from None
        if len(raw) != 32 or base64.b64encode(raw).decode() != root:
            raise NoteError("the root hash is 32 bytes in canonical base64")
        extensions = tuple(lines[3:-1])
        if any(not e for e in extensions):
            raise NoteError("empty extension line")
        return cls(origin, int(size), raw, extensions)
