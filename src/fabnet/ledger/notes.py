"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the timestamped
witness cosignatures of c2sp.org/tlog-cosignature (signature type 0x04).

Keys travel as strings: a verifier key is ``name+hexid+base64(type || public key)``, a
signer key ``PRIVATE+KEY+name+hexid+base64(type || seed)``. Key ids are the first four
bytes of ``SHA-256(name || 0x0A || type || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
EM_DASH = "\u2014"


class NoteError(ValueError):
    """A note, a key or a signature is malformed or does not verify."""


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"bad key name {name!r}: non-empty, no spaces, no '+'")


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:  # unused bits or padding set: not canonical
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_type: int
    public: bytes
    id: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+hexid+base64key")
        name, hex_id, blob = parts
        _check_name(name)
        raw = _b64(blob, "the verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("only Ed25519 keys (types 0x01 and 0x04) are supported")
        kid = key_id(name, raw[0], raw[1:])
        if len(hex_id) != 8 or hex_id.lower() != hex_id or kid.hex() != hex_id:
            raise NoteError("the key id does not match the key")
        return cls(name, raw[0], raw[1:], kid)

    def __str__(self) -> str:
        blob = base64.b64encode(bytes([self.key_type]) + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{blob}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    key_type: int
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> Signer:
        _check_name(name)
        return cls(name, key_type, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+name+hexid+base64key")
        name, hex_id, blob = parts[2:]
        _check_name(name)
        raw = _b64(blob, "the signer key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("only Ed25519 keys (types 0x01 and 0x04) are supported")
        signer = cls(name, raw[0], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.id.hex() != hex_id:
            raise NoteError("the key id does not match the key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = _public_bytes(self.private.public_key())
        return Verifier(self.name, self.key_type, public, key_id(self.name, self.key_type, public))

    def __str__(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        blob = base64.b64encode(bytes([self.key_type]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{blob}"

    def sign_line(self, text: str, timestamp: int | None = None) -> str:
        """The signature line for ``text`` (with type 0x04, a cosignature at ``timestamp``)."""
        if self.key_type == COSIGNATURE_V1:
            if timestamp is None:
                raise NoteError("a cosignature needs a timestamp")
            message = cosigned_message(text, timestamp)
            blob = struct.pack(">Q", timestamp) + self.private.sign(message)
        else:
            blob = self.private.sign(text.encode())
        signature = base64.b64encode(self.verifier.id + blob).decode()
        return f"{EM_DASH} {self.name} {signature}\n"


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class SignatureLine:
    name: str
    id: bytes
    blob: bytes  # after the key id


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[SignatureLine, ...]


def sign(text: str, *signers: Signer, timestamp: int | None = None) -> str:
    check_text(text)
    return text + "\n" + "".join(s.sign_line(text, timestamp) for s in signers)


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters")


def parse(message: str) -> Note:
    if len(message) > 1_000_000:
        raise NoteError("note too large")
    cut = message.rfind("\n\n")
    if cut < 0:
        raise NoteError("no blank line between the text and the signatures")
    text, lines = message[: cut + 1], message[cut + 2 :]
    check_text(text)
    if not lines.endswith("\n"):
        raise NoteError("signature lines must end in a newline")
    signatures = []
    for line in lines[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise NoteError("malformed signature line")
        fields = line[2:].split(" ")
        if len(fields) != 2:
            raise NoteError("malformed signature line")
        name, sig = fields
        _check_name(name)
        raw = _b64(sig, "a signature")
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(SignatureLine(name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("a signed note needs at least one signature")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


@dataclass(frozen=True)
class Verified:
    verifier: Verifier
    timestamp: int | None  # cosignatures carry one


def open_note(message: str, verifiers: list[Verifier]) -> tuple[Note, list[Verified]]:
    """Parse and verify: returns the note and the known keys that signed it. A signature
    from a known key that fails rejects the whole note; no known signature rejects it."""
    note = parse(message)
    known = {(v.name, v.id): v for v in verifiers}
    good: list[Verified] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.id))
        if verifier is None:
            continue
        if verifier.key_type == COSIGNATURE_V1:
            if len(sig.blob) != 8 + 64:
                raise NoteError(f"malformed cosignature from {sig.name}")
            (timestamp,) = struct.unpack(">Q", sig.blob[:8])
            ok = verifier.verify(cosigned_message(note.text, timestamp), sig.blob[8:])
        else:
            timestamp = None
            ok = len(sig.blob) == 64 and verifier.verify(note.text.encode(), sig.blob)
        if not ok:
            raise NoteError(f"the signature of {sig.name} does not verify")
        good.append(Verified(verifier, timestamp))
    if not good:
        raise NoteError("no signature from a known key")
    return note, good
