"""Witness cosignatures (C2SP tlog-cosignature v1, Ed25519) and a witness's checks.

Pure module: no Flask, no SQLAlchemy.

A cosignature is a signed-note signature line over the checkpoint body::

    — auditor.gemeente.example/witness base64(key id || u64 timestamp || Ed25519 signature)

The key id is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``; the signed message is
``"cosignature/v1\\ntime <unix seconds>\\n"`` followed by the whole checkpoint body. A witness
keeps the last checkpoint it co-signed and co-signs a new one only when the log signed it and
a consistency proof links the two; a smaller tree (rollback) or another root for the same
size (split view) is refused and kept as evidence. Failures raise :class:`WitnessError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

import nacl.exceptions
import nacl.signing

from ledger import checkpoint as ckpt
from ledger import merkle
from ledger.errors import LedgerError

ALG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_BLOB = struct.Struct(">4sQ64s")  # key id, timestamp, Ed25519 signature: 76 bytes

# Codes of a refused cosignature.
CO_BAD_FORMAT = "bad_format"  # not a cosignature line, or not a checkpoint body
CO_BAD_KEY = "bad_key"  # malformed witness vkey
CO_UNKNOWN_KEY = "unknown_witness"  # no configured witness has this name and key id
CO_BAD_SIGNATURE = "bad_signature"  # a known witness's signature does not verify
CO_FUTURE = "future_timestamp"  # signed later than now plus the allowed skew

# Codes of a refused checkpoint, seen by a witness.
W_BAD_CHECKPOINT = "bad_checkpoint"  # not signed by the log's key, or another origin
W_BAD_PROOF = "bad_proof"  # consistency proof malformed or the wrong length
W_ROLLBACK = "rollback"  # smaller than the checkpoint already co-signed
W_SPLIT_VIEW = "split_view"  # same size, another root
W_INCONSISTENT = "inconsistent"  # larger, but does not extend what was co-signed
W_BAD_EMPTY = "bad_empty_root"  # size 0 with a root other than the empty tree's
MISBEHAVIOUR = frozenset({W_ROLLBACK, W_SPLIT_VIEW, W_INCONSISTENT})


class WitnessError(LedgerError):
    """A cosignature or a checkpoint was refused; ``code`` says why."""

    code = "witness_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def misbehaviour(self) -> bool:
        """Return True when the refusal proves the log misbehaved (both notes signed by it)."""
        return self.code in MISBEHAVIOUR


@dataclass(frozen=True)
class CosignerKey:
    """A witness's Ed25519 public key with its name and cosignature key id."""

    name: str
    key_id: bytes
    verify_key: nacl.signing.VerifyKey

    @classmethod
    def from_key(cls, name: str, public_key: bytes | nacl.signing.VerifyKey) -> CosignerKey:
        """Build a witness key from its name and raw 32-byte public key."""
        raw = bytes(public_key)
        if len(raw) != 32:
            raise WitnessError(CO_BAD_KEY, "an Ed25519 public key has 32 bytes")
        return cls(name, cosigner_key_id(name, raw), nacl.signing.VerifyKey(raw))

    def vkey(self) -> str:
        """Return this key as a vkey string."""
        return cosigner_vkey(self.name, bytes(self.verify_key))


@dataclass(frozen=True)
class Cosignature:
    """One parsed cosignature: witness name, key id, POSIX timestamp, signature."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """Return the signature line (without its newline)."""
        blob = _BLOB.pack(self.key_id, self.timestamp, self.signature)
        return f"{ckpt.SIG_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}"


def _check_name(name: str) -> None:
    """Refuse a key name signed-note forbids."""
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise WitnessError(CO_BAD_KEY, f"invalid witness name {name!r}")


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """Return the cosignature key id: SHA-256(name || 0x0A || 0x04 || key)[:4].

    Args:
        name: the witness's key name.
        public_key: raw 32-byte Ed25519 public key.

    Returns:
        The 4-byte key id.
    """
    _check_name(name)
    data = name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + bytes(public_key)
    return hashlib.sha256(data).digest()[:4]


def cosigner_vkey(name: str, public_key: bytes) -> str:
    """Return the witness vkey ``name+hexkeyid+base64(0x04 || key)``."""
    raw = bytes(public_key)
    encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + raw).decode("ascii")
    return f"{name}+{cosigner_key_id(name, raw).hex()}+{encoded}"


def parse_cosigner_vkey(text: str) -> CosignerKey:
    """Parse a witness vkey.

    Args:
        text: ``name+hexkeyid+base64(0x04 || key)``.

    Returns:
        The witness key.

    Raises:
        WitnessError: ``bad_key`` when malformed, of another type or with a wrong key id.
    """
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise WitnessError(CO_BAD_KEY, "witness key must be name+keyid+key")
    name, hex_id, b64_key = parts
    _check_name(name)
    try:
        data = base64.b64decode(b64_key.encode("ascii"), validate=True)
        kid = bytes.fromhex(hex_id)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise WitnessError(CO_BAD_KEY, "witness key is not hex id and base64 key") from exc
    if len(data) != 33 or data[0] != ALG_COSIGNATURE_V1:
        raise WitnessError(CO_BAD_KEY, "witness key is not a cosignature/v1 Ed25519 key")
    key = CosignerKey.from_key(name, data[1:])
    if key.key_id != kid or hex_id != kid.hex():
        raise WitnessError(CO_BAD_KEY, "key id does not match the witness key")
    return key


def cosigned_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a v1 cosignature signs: header, time line, checkpoint body.

    Args:
        body: the checkpoint body (origin, size, root and extension lines, each ending in a
            newline; no signatures).
        timestamp: POSIX seconds.

    Returns:
        ``b"cosignature/v1\\ntime <timestamp>\\n" + body``.
    """
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise WitnessError(CO_BAD_FORMAT, "timestamp out of range")
    try:
        ckpt.parse_checkpoint(body)
    except ckpt.CheckpointError as exc:
        raise WitnessError(CO_BAD_FORMAT, f"not a checkpoint body: {exc.message}") from exc
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


def cosign(
    body: str, name: str, signing_key: nacl.signing.SigningKey, timestamp: int
) -> Cosignature:
    """Co-sign a checkpoint body at ``timestamp``.

    Args:
        body: the checkpoint body.
        name: the witness's key name.
        signing_key: the witness's Ed25519 private key.
        timestamp: POSIX seconds; must not be zero.

    Returns:
        The cosignature; ``.line()`` is the note signature line.
    """
    if timestamp <= 0:
        raise WitnessError(CO_BAD_FORMAT, "a cosignature carries a time after 1970")
    message = cosigned_message(body, timestamp)
    kid = cosigner_key_id(name, bytes(signing_key.verify_key))
    return Cosignature(name, kid, timestamp, signing_key.sign(message).signature)


def parse_cosignature(line: str) -> Cosignature:
    """Parse one ``— name base64`` cosignature line (trailing newline allowed).

    Raises:
        WitnessError: ``bad_format``.
    """
    text = line[:-1] if line.endswith("\n") else line
    if "\n" in text or not text.startswith(ckpt.SIG_PREFIX):
        raise WitnessError(CO_BAD_FORMAT, "a cosignature is one line starting with an em dash")
    name, sep, b64 = text[len(ckpt.SIG_PREFIX) :].partition(" ")
    if not sep:
        raise WitnessError(CO_BAD_FORMAT, "cosignature line has no signature")
    try:
        _check_name(name)
        blob = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError, WitnessError) as exc:
        raise WitnessError(CO_BAD_FORMAT, "cosignature line is not name and base64") from exc
    if len(blob) != _BLOB.size or base64.b64encode(blob).decode("ascii") != b64:
        raise WitnessError(CO_BAD_FORMAT, "cosignature is not 76 bytes in canonical base64")
    kid, timestamp, signature = _BLOB.unpack(blob)
    if timestamp > MAX_TIMESTAMP:
        raise WitnessError(CO_BAD_FORMAT, "timestamp out of range")
    return Cosignature(name, kid, timestamp, signature)


def verify_cosignature(
    body: str,
    line: str,
    keys: Sequence[CosignerKey],
    *,
    now: int | None = None,
    max_skew: int = 300,
) -> tuple[CosignerKey, Cosignature]:
    """Verify a cosignature line over a checkpoint body against the known witness keys.

    Args:
        body: the checkpoint body that was co-signed.
        line: the cosignature line.
        keys: the trusted witness keys.
        now: when given, refuse timestamps more than ``max_skew`` seconds after it.
        max_skew: allowed clock difference in seconds.

    Returns:
        The witness key that signed and the parsed cosignature.

    Raises:
        WitnessError: ``bad_format``, ``unknown_witness``, ``bad_signature`` or
            ``future_timestamp``.
    """
    co = parse_cosignature(line)
    key = next((k for k in keys if k.name == co.name and k.key_id == co.key_id), None)
    if key is None:
        raise WitnessError(CO_UNKNOWN_KEY, f"no trusted witness {co.name} with this key id")
    try:
        key.verify_key.verify(cosigned_message(body, co.timestamp), co.signature)
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise WitnessError(CO_BAD_SIGNATURE, f"cosignature by {co.name} does not verify") from exc
    if now is not None and co.timestamp > now + max_skew:
        raise WitnessError(CO_FUTURE, "cosignature is dated in the future")
    return key, co


def cosigners_of(note: str, keys: Sequence[CosignerKey]) -> list[tuple[CosignerKey, int]]:
    """Return the known witnesses whose cosignature in ``note`` verifies, with its time.

    Lines of unknown keys (the log's own signature among them) are ignored; a known
    witness's line that does not verify raises ``bad_signature``.
    """
    body, sigs = ckpt.split_note(note)
    wanted = {(k.name, k.key_id) for k in keys}
    found: list[tuple[CosignerKey, int]] = []
    for sig in sigs:
        if (sig.key_name, sig.key_id) not in wanted:
            continue
        blob = base64.b64encode(sig.key_id + sig.signature).decode("ascii")
        key, co = verify_cosignature(body, f"{ckpt.SIG_PREFIX}{sig.key_name} {blob}", keys)
        found.append((key, co.timestamp))
    return found


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """Return a signed note with cosignature lines appended (duplicates dropped)."""
    have = set(note[:-1].split("\n"))
    extra = [line for line in dict.fromkeys(lines) if line not in have]
    return note + "".join(line + "\n" for line in extra)


# --- the witness's own state ---------------------------------------------------------------


@dataclass(frozen=True)
class WitnessView:
    """What a witness keeps about one log: the last checkpoint it co-signed."""

    origin: str
    log_keys: tuple[str, ...]  # the log's checkpoint vkeys
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    note: str | None = None  # the log-signed note of that checkpoint
    cosigned_at: int = 0


def verify_log_checkpoint(view: WitnessView, note: str) -> ckpt.Checkpoint:
    """Return the checkpoint in ``note`` after checking the log's signature and origin.

    Raises:
        WitnessError: ``bad_checkpoint`` or ``bad_empty_root``.
    """
    try:
        cp = ckpt.verify_checkpoint(note, list(view.log_keys), view.origin)
    except ckpt.CheckpointError as exc:
        raise WitnessError(W_BAD_CHECKPOINT, f"checkpoint refused: {exc.message}") from exc
    if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
        raise WitnessError(W_BAD_EMPTY, "an empty tree must have the empty root")
    return cp


def check_consistent(view: WitnessView, cp: ckpt.Checkpoint, proof: Sequence[bytes]) -> None:
    """Check that ``cp`` extends the view's last co-signed checkpoint.

    Raises:
        WitnessError: ``rollback``, ``split_view``, ``inconsistent`` or ``bad_proof``.
    """
    if cp.size < view.size:
        raise WitnessError(
            W_ROLLBACK, f"log went back from size {view.size} to {cp.size} (rollback)"
        )
    if cp.size == view.size:
        if cp.root != view.root:
            raise WitnessError(W_SPLIT_VIEW, f"two different roots for size {cp.size} (split view)")
        return
    if view.size == 0:
        if proof:
            raise WitnessError(W_BAD_PROOF, "no proof is needed from the empty tree")
        return
    try:
        merkle.check_consistency(view.size, cp.size, view.root, cp.root, proof)
    except merkle.ProofError as exc:
        if exc.code == merkle.PROOF_ROOT_MISMATCH:
            raise WitnessError(
                W_INCONSISTENT,
                f"size {cp.size} does not extend the co-signed size {view.size} (fork)",
            ) from exc
        raise WitnessError(W_BAD_PROOF, f"consistency proof refused: {exc}") from exc


def witness_checkpoint(
    view: WitnessView,
    note: str,
    proof: Sequence[bytes],
    name: str,
    signing_key: nacl.signing.SigningKey,
    now: int,
) -> tuple[WitnessView, Cosignature]:
    """Verify a log's checkpoint against the view and co-sign it.

    The caller must persist the returned view before it hands out the cosignature, and must
    hold a lock so two checkpoints are never checked against the same old view.

    Args:
        view: the last co-signed state.
        note: the log's signed checkpoint note.
        proof: consistency proof from ``view.size`` to the new size (empty when not needed).
        name: the witness's key name.
        signing_key: the witness's private key.
        now: POSIX seconds; used as the cosignature time (never before the last one).

    Returns:
        The new view and the cosignature.

    Raises:
        WitnessError: see :func:`verify_log_checkpoint` and :func:`check_consistent`.
    """
    cp = verify_log_checkpoint(view, note)
    check_consistent(view, cp, proof)
    body, _ = ckpt.split_note(note)
    if body != cp.body():
        raise WitnessError(W_BAD_CHECKPOINT, "checkpoint body is not in canonical form")
    stamp = max(now, view.cosigned_at)
    co = cosign(body, name, signing_key, stamp)
    return replace(view, size=cp.size, root=cp.root, note=note, cosigned_at=stamp), co
