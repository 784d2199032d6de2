"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 via PyNaCl.

Pure module: no Flask, no SQLAlchemy.

A checkpoint note looks like::

    kindpakket.example/ledger
    1234
    <base64 root>

    — kindpakket.example/ledger <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the body (the first three lines plus any extension lines, each ending
in a newline). A verifier key is written ``name+hexkeyid+base64(0x01 || public key)``.
Failures raise :class:`CheckpointError` with one of the ``CP_*`` codes below.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import nacl.exceptions
import nacl.signing

from ledger.errors import LedgerError

CP_BAD_FORMAT = "bad_format"  # note or checkpoint text does not follow the grammar
CP_BAD_KEY = "bad_key"  # verifier key string or key name is malformed
CP_UNKNOWN_KEY = "unknown_key"  # no signature from any of the known keys
CP_BAD_SIGNATURE = "bad_signature"  # a known key's signature does not verify
CP_WRONG_ORIGIN = "wrong_origin"  # checkpoint is for another log

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash and space start every signature line
MAX_SIGNATURES = 100
HASH_SIZE = 32


class CheckpointError(LedgerError):
    """A checkpoint or note was refused; ``code`` says why."""

    code = "checkpoint_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: log origin, tree size and root hash, plus optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values that cannot be written as a checkpoint body."""
        _check_line(self.origin, "origin")
        if self.size < 0:
            raise CheckpointError(CP_BAD_FORMAT, "tree size is negative")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(CP_BAD_FORMAT, "root is not a 32-byte hash")
        for line in self.extensions:
            _check_line(line, "extension line")

    def body(self) -> str:
        """Return the note text that is signed: origin, size, base64 root, extensions."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


class NoteSignature(NamedTuple):
    """One signature line of a note: key name, 4-byte key id, signature bytes."""

    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Verifier:
    """A known Ed25519 public key with its name and 4-byte key id."""

    name: str
    key_id: bytes
    verify_key: nacl.signing.VerifyKey

    @classmethod
    def from_key(cls, name: str, public_key: bytes | nacl.signing.VerifyKey) -> Verifier:
        """Build a verifier from a key name and a raw 32-byte key (or a VerifyKey)."""
        vk = _verify_key(public_key)
        return cls(name, key_id(name, bytes(vk)), vk)


def _b64(data: bytes) -> str:
    """Return standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str, code: str = CP_BAD_FORMAT) -> bytes:
    """Decode canonical standard base64 or raise CheckpointError."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise CheckpointError(code, f"{what} is not base64") from exc
    if _b64(data) != text:
        raise CheckpointError(code, f"{what} is not canonical base64")
    return data


def _check_line(line: str, what: str) -> None:
    """Refuse an empty line or one holding control characters."""
    if not line or any(ord(c) < 0x20 or ord(c) == 0x7F for c in line):
        raise CheckpointError(CP_BAD_FORMAT, f"{what} is empty or holds control characters")


def _check_key_name(name: str) -> None:
    """Refuse key names that signed-note forbids: empty, with '+' or any whitespace."""
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise CheckpointError(CP_BAD_KEY, f"invalid key name {name!r}")


def _verify_key(public_key: bytes | nacl.signing.VerifyKey) -> nacl.signing.VerifyKey:
    """Return a VerifyKey for raw key bytes (or pass one through)."""
    if isinstance(public_key, nacl.signing.VerifyKey):
        return public_key
    if len(public_key) != 32:
        raise CheckpointError(CP_BAD_KEY, "an Ed25519 public key has 32 bytes")
    return nacl.signing.VerifyKey(bytes(public_key))


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the signed-note key id: SHA-256(name || 0x0A || 0x01 || key)[:4].

    Args:
        name: key name.
        public_key: raw 32-byte Ed25519 public key.

    Returns:
        The 4-byte key id.
    """
    _check_key_name(name)
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + bytes(public_key)
    return hashlib.sha256(data).digest()[:4]


def vkey(name: str, public_key: bytes | nacl.signing.VerifyKey) -> str:
    """Return the verifier key string ``name+hexkeyid+base64(0x01 || key)``."""
    raw = bytes(_verify_key(public_key))
    return f"{name}+{key_id(name, raw).hex()}+{_b64(bytes([ALG_ED25519]) + raw)}"


def parse_vkey(text: str) -> Verifier:
    """Parse a verifier key string.

    Args:
        text: ``name+hexkeyid+base64(0x01 || key)``.

    Returns:
        The verifier.

    Raises:
        CheckpointError: ``bad_key`` when malformed, of another algorithm or with a key id
            that does not match the key.
    """
    parts = text.split("+", 2)  # the base64 key may itself hold "+"
    if len(parts) != 3:
        raise CheckpointError(CP_BAD_KEY, "verifier key must be name+keyid+key")
    name, hex_id, b64_key = parts
    _check_key_name(name)
    if len(hex_id) != 8 or hex_id != hex_id.lower():
        raise CheckpointError(CP_BAD_KEY, "key id must be 8 lowercase hex digits")
    try:
        kid = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise CheckpointError(CP_BAD_KEY, "key id is not hex") from exc
    data = _unb64(b64_key, "verifier key", CP_BAD_KEY)
    if len(data) != 33 or data[0] != ALG_ED25519:
        raise CheckpointError(CP_BAD_KEY, "verifier key is not an Ed25519 key")
    if key_id(name, data[1:]) != kid:
        raise CheckpointError(CP_BAD_KEY, "key id does not match the key")
    return Verifier(name, kid, nacl.signing.VerifyKey(data[1:]))


def sign_note(text: str, key_name: str, signing_key: nacl.signing.SigningKey) -> str:
    """Return ``text`` signed as a C2SP signed note with one Ed25519 signature.

    Args:
        text: the note text; non-empty lines of printable text, ending in a newline.
        key_name: name of the signing key.
        signing_key: the Ed25519 private key.

    Returns:
        The text, a blank line and one signature line.
    """
    if not text.endswith("\n") or "\n\n" in text:
        raise CheckpointError(CP_BAD_FORMAT, "note text must end in a newline, no blank lines")
    for line in text[:-1].split("\n"):
        _check_line(line, "note line")
    raw_pub = bytes(signing_key.verify_key)
    sig = signing_key.sign(text.encode("utf-8")).signature
    blob = key_id(key_name, raw_pub) + sig
    return f"{text}\n{SIG_PREFIX}{key_name} {_b64(blob)}\n"


def sign_checkpoint(cp: Checkpoint, key_name: str, signing_key: nacl.signing.SigningKey) -> str:
    """Return the signed note text of a checkpoint.

    Args:
        cp: the checkpoint.
        key_name: name of the signing key (often the origin).
        signing_key: the Ed25519 private key.

    Returns:
        The body, a blank line and one signature line.
    """
    return sign_note(cp.body(), key_name, signing_key)


def _split_note(text: str) -> tuple[str, list[str]]:
    """Split a note into its signed body and its signature lines."""
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise CheckpointError(CP_BAD_FORMAT, "note holds control characters")
    if not text.endswith("\n"):
        raise CheckpointError(CP_BAD_FORMAT, "note does not end in a newline")
    cut = text.rfind("\n\n")
    if cut < 0:
        raise CheckpointError(CP_BAD_FORMAT, "note has no signature block")
    body, sig_block = text[: cut + 1], text[cut + 2 :]
    lines = sig_block[:-1].split("\n") if sig_block else []
    if not lines:
        raise CheckpointError(CP_BAD_FORMAT, "note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(CP_BAD_FORMAT, "note has too many signatures")
    return body, lines


def _parse_signature(line: str) -> NoteSignature:
    """Parse one ``— name base64`` signature line."""
    if not line.startswith(SIG_PREFIX):
        raise CheckpointError(CP_BAD_FORMAT, "signature line does not start with an em dash")
    name, sep, b64_sig = line[len(SIG_PREFIX) :].partition(" ")
    if not sep:
        raise CheckpointError(CP_BAD_FORMAT, "signature line has no signature")
    try:
        _check_key_name(name)
    except CheckpointError as exc:
        raise CheckpointError(CP_BAD_FORMAT, exc.message) from exc
    blob = _unb64(b64_sig, "signature")
    if len(blob) < 5:
        raise CheckpointError(CP_BAD_FORMAT, "signature is too short")
    return NoteSignature(name, blob[:4], blob[4:])


def _parse_size(text: str) -> int:
    """Parse a decimal tree size without sign or leading zeros."""
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise CheckpointError(CP_BAD_FORMAT, "tree size is not a plain decimal number")
    return int(text)


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body (origin, size, base64 root, optional extension lines)."""
    if not body.endswith("\n"):
        raise CheckpointError(CP_BAD_FORMAT, "checkpoint does not end in a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(CP_BAD_FORMAT, "checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    root_hash = _unb64(root_text, "root hash")
    return Checkpoint(origin, _parse_size(size_text), root_hash, tuple(extensions))


def split_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its parsed signatures, verifying nothing.

    Raises:
        CheckpointError: ``bad_format``.
    """
    body, sig_lines = _split_note(text)
    return body, [_parse_signature(line) for line in sig_lines]


def parse_note(text: str) -> tuple[Checkpoint, list[NoteSignature]]:
    """Parse a signed checkpoint note without verifying it.

    Args:
        text: the whole note.

    Returns:
        The checkpoint and its signatures, in note order.

    Raises:
        CheckpointError: ``bad_format``.
    """
    body, signatures = split_note(text)
    return parse_checkpoint(body), signatures


def _as_verifiers(
    verifiers: Iterable[str | Verifier | tuple[str, nacl.signing.VerifyKey | bytes]],
) -> list[Verifier]:
    """Normalise vkey strings, Verifier objects and (name, key) pairs."""
    out: list[Verifier] = []
    for v in verifiers:
        if isinstance(v, Verifier):
            out.append(v)
        elif isinstance(v, str):
            out.append(parse_vkey(v))
        else:
            out.append(Verifier.from_key(v[0], v[1]))
    return out


def verify_note(
    note_text: str,
    verifiers: Sequence[str | Verifier | tuple[str, nacl.signing.VerifyKey | bytes]],
) -> str:
    """Verify a signed note against the known keys and return its text.

    Signatures by unknown keys are ignored; every signature by a known key (same name and
    key id) must verify, and at least one must be present. Keep old keys in ``verifiers``
    after a rotation so notes they signed still verify.

    Args:
        note_text: the whole note.
        verifiers: vkey strings, :class:`Verifier` objects or ``(name, key)`` pairs.

    Returns:
        The signed text (without the signature block).

    Raises:
        CheckpointError: ``bad_format``, ``bad_key``, ``unknown_key`` or ``bad_signature``.
    """
    known = _as_verifiers(verifiers)
    body, signatures = split_note(note_text)
    message = body.encode("utf-8")
    verified = False
    for sig in signatures:
        for v in known:
            if v.name != sig.key_name or v.key_id != sig.key_id:
                continue
            try:
                v.verify_key.verify(message, sig.signature)
            except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
                raise CheckpointError(
                    CP_BAD_SIGNATURE, f"signature by {sig.key_name} does not verify"
                ) from exc
            verified = True
    if not verified:
        raise CheckpointError(CP_UNKNOWN_KEY, "note carries no signature by a known key")
    return body


def verify_checkpoint(
    note_text: str,
    verifiers: Sequence[str | Verifier | tuple[str, nacl.signing.VerifyKey | bytes]],
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint note against the known keys.

    Args:
        note_text: the whole note.
        verifiers: vkey strings, :class:`Verifier` objects or ``(name, key)`` pairs; keep
            old keys here after a rotation.
        origin: when given, the checkpoint must carry this origin.

    Returns:
        The verified checkpoint.

    Raises:
        CheckpointError: ``bad_format``, ``bad_key``, ``unknown_key``, ``bad_signature`` or
            ``wrong_origin``.
    """
    parse_note(note_text)  # refuse a malformed checkpoint before any key lookup
    cp = parse_checkpoint(verify_note(note_text, verifiers))
    if origin is not None and cp.origin != origin:
        raise CheckpointError(CP_WRONG_ORIGIN, f"checkpoint is for {cp.origin!r}, not {origin!r}")
    return cp
