"""Signed, short-lived QR payment tokens (ARCHITECTURE.md section 5). Pure: no Flask, no SQL.

Text form: ``"KP1:" + base32(payload || signature)``, RFC 4648 alphabet, uppercase, no
padding; every character is in QR alphanumeric mode. The payload is 29 bytes big-endian::

    version u8 (=1) | key id 4 bytes | voucher id u64 | expires_at u32 (unix s) | nonce 12 bytes

The signature is Ed25519 over ``b"KP1" || payload`` (domain separated), so 93 bytes in all,
149 base32 characters, 153 characters of text.

This module decides whether a token is well formed, signed by a known key and within its
time window. Whether it was already spent (``token_used``) is decided by the database: the
redemption stores :attr:`TokenPayload.nonce_hex` under a unique constraint.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

PREFIX = "KP1:"
DOMAIN = b"KP1"
VERSION = 1
DEFAULT_TTL = 120  # seconds a shown code stays valid
MAX_TTL = 900  # longest lifetime a verifier accepts; bounds codes dated in the future
DEFAULT_SKEW = 5  # seconds of clock difference tolerated between wallet, scanner and server
PAYLOAD = struct.Struct(">B4sQI12s")
PAYLOAD_BYTES = PAYLOAD.size  # 29
SIGNATURE_BYTES = 64
TOKEN_BYTES = PAYLOAD_BYTES + SIGNATURE_BYTES  # 93
BASE32_CHARS = (TOKEN_BYTES * 8 + 4) // 5  # 149
TEXT_CHARS = len(PREFIX) + BASE32_CHARS  # 153
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_MAX_INPUT_CHARS = 4 * TEXT_CHARS  # refuse huge scans before touching them

KeyLookup = Callable[[str, int], VerifyKey | None]
"""``lookup_key(kid_hex, at_unix)``: the verify key valid at that time, or None."""

# Refusal codes; the words for them are the callers' (wallet.payments.TOKEN_MESSAGES for the
# family, merchant.refusals.MESSAGES for the shop), translated by Flask-Babel.
ERROR_CODES: frozenset[str] = frozenset(
    {
        "not_a_token",
        "bad_version",
        "unknown_key",
        "bad_signature",
        "token_expired",
        "token_not_yet_valid",
    }
)


class TokenError(ValueError):
    """A refused token, with a fixed machine ``code`` (one of ``ERROR_CODES``)."""

    def __init__(self, code: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown token error code {code!r}")
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class TokenPayload:
    """The decoded contents of a token (authentic only after :func:`verify_token`)."""

    version: int
    kid: str  # 8 lowercase hex chars
    voucher_id: int
    expires_at: int  # unix seconds, UTC
    nonce: bytes  # 12 bytes
    payload: bytes  # the 29 signed payload bytes
    signature: bytes  # 64 bytes

    @property
    def nonce_hex(self) -> str:
        """Return the nonce as hex, the value stored under a unique constraint."""
        return self.nonce.hex()

    @property
    def signed_message(self) -> bytes:
        """Return the exact bytes the signature covers."""
        return DOMAIN + self.payload


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token ready to be drawn as a QR code."""

    text: str
    voucher_id: int
    expires_at: int
    nonce: str  # hex
    kid: str  # hex


def _b32encode(data: bytes) -> str:
    """Encode as RFC 4648 base32, uppercase, without padding."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode_token(body: str) -> bytes:
    """Decode exactly one token body; refuse anything not canonical."""
    if len(body) != BASE32_CHARS or not set(body) <= _BASE32_ALPHABET:
        raise TokenError("not_a_token")
    padded = body + "=" * (-len(body) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise TokenError("not_a_token") from None
    # The last character carries one unused bit; only the zero form is accepted, so no
    # two texts decode to the same signed bytes.
    if len(raw) != TOKEN_BYTES or _b32encode(raw) != body:
        raise TokenError("not_a_token")
    return raw


def encode_token(payload: bytes, signature: bytes) -> str:
    """Return the text form of a signed payload."""
    return PREFIX + _b32encode(payload + signature)


def issue_token(
    voucher_id: int,
    signing: tuple[bytes | str, SigningKey],
    now: int,
    ttl: int = DEFAULT_TTL,
    *,
    nonce: bytes | None = None,
) -> IssuedToken:
    """Sign a token for ``voucher_id`` valid until ``now + ttl``.

    Args:
        voucher_id: the voucher the holder may spend from (0 .. 2**64-1).
        signing: ``(key id, signing key)``; the key id as 4 bytes or 8 hex chars.
        now: current unix time in seconds.
        ttl: lifetime in seconds, 1 .. MAX_TTL.
        nonce: 12 bytes; random unless given (tests only).

    Returns:
        The token text and the facts the wallet needs to show and refresh it.
    """
    kid_raw, signing_key = signing
    kid = bytes.fromhex(kid_raw) if isinstance(kid_raw, str) else bytes(kid_raw)
    nonce = secrets.token_bytes(12) if nonce is None else nonce
    if len(kid) != 4 or len(nonce) != 12:
        raise ValueError("key id must be 4 bytes and nonce 12 bytes")
    if not 0 < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL} seconds")
    if not 0 <= voucher_id < 2**64:
        raise ValueError("voucher_id out of range")
    expires_at = int(now) + ttl
    if not 0 <= expires_at < 2**32:
        raise ValueError("expiry out of range")
    payload = PAYLOAD.pack(VERSION, kid, voucher_id, expires_at, nonce)
    signature = signing_key.sign(DOMAIN + payload).signature
    return IssuedToken(
        text=encode_token(payload, signature),
        voucher_id=voucher_id,
        expires_at=expires_at,
        nonce=nonce.hex(),
        kid=kid.hex(),
    )


def decode_token(text: str) -> TokenPayload:
    """Parse a token without checking signature or time; raise TokenError when malformed.

    Surrounding whitespace and lowercase letters are accepted, since scanners and people
    typing the code vary.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT_CHARS or not text.isascii():
        raise TokenError("not_a_token")
    cleaned = text.strip().upper()
    if not cleaned.startswith(PREFIX):
        raise TokenError("not_a_token")
    raw = _b32decode_token(cleaned[len(PREFIX) :])
    payload, signature = raw[:PAYLOAD_BYTES], raw[PAYLOAD_BYTES:]
    version, kid, voucher_id, expires_at, nonce = PAYLOAD.unpack(payload)
    if version != VERSION:
        raise TokenError("bad_version")
    return TokenPayload(
        version=version,
        kid=kid.hex(),
        voucher_id=voucher_id,
        expires_at=expires_at,
        nonce=nonce,
        payload=payload,
        signature=signature,
    )


def verify_token(
    text: str,
    lookup_key: KeyLookup,
    now: int,
    skew: int = DEFAULT_SKEW,
    *,
    max_ttl: int = MAX_TTL,
) -> TokenPayload:
    """Check a token's form, key, signature and time window; return its payload.

    Args:
        text: the scanned or typed token text.
        lookup_key: returns the verify key for ``(kid_hex, now)`` or None if unknown/expired.
        now: current unix time in seconds.
        skew: tolerated clock difference in seconds, both directions.
        max_ttl: longest lifetime a token may have; bounds how far ahead expiry may be.

    Returns:
        The authentic payload. The caller still has to make sure the nonce is unused.

    Raises:
        TokenError: ``not_a_token``, ``bad_version``, ``unknown_key``, ``bad_signature``,
            ``token_expired`` or ``token_not_yet_valid``.
    """
    token = decode_token(text)
    verify_key = lookup_key(token.kid, now)
    if verify_key is None:
        raise TokenError("unknown_key")
    try:
        verify_key.verify(token.signed_message, token.signature)
    except BadSignatureError:
        raise TokenError("bad_signature") from None
    if now > token.expires_at + skew:
        raise TokenError("token_expired")
    if token.expires_at - max_ttl > now + skew:
        raise TokenError("token_not_yet_valid")
    return token
