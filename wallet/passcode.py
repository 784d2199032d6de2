"""The QR text of a printed pass: ``KP2:`` + base32 of (version, key id, pass id, MAC). Pure.

The code is static (printed once), so it is no bearer token: paying also needs the PIN. The
MAC makes a guessed or altered pass number useless: 25 bytes big-endian::

    version u8 (=2) | key id 4 bytes | pass id u64 | HMAC-SHA256(key, b"KP2" || first 13)[:12]

40 base32 characters (no padding), 44 characters of text, all in QR alphanumeric mode. The
MAC key comes from the keyring's ``pass`` key (:meth:`kindpakket.keys.Keyring.mac_key`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from collections.abc import Callable
from hashlib import sha256

PREFIX = "KP2:"
DOMAIN = b"KP2"
VERSION = 2
BODY = struct.Struct(">B4sQ")
MAC_BYTES = 12  # 96 bits: a forger needs ~2**95 tries, far past any rate limit
CODE_BYTES = BODY.size + MAC_BYTES  # 25
TEXT_CHARS = len(PREFIX) + CODE_BYTES * 8 // 5  # 44

MacKey = Callable[[str], bytes]
"""``mac_key(kid_hex)``: the MAC key of that key id (raises LookupError if unknown)."""


class PassCodeError(ValueError):
    """Not a valid pass code (the shop is told ``pass_invalid``, whatever the reason)."""


def is_pass_code(text: str | None) -> bool:
    """Return True when ``text`` looks like a pass code (not yet checked)."""
    return bool(text) and str(text).strip().upper().startswith(PREFIX)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, DOMAIN + body, sha256).digest()[:MAC_BYTES]


def make_pass_code(pass_id: int, kid: str, key: bytes) -> str:
    """Return the QR text of pass ``pass_id`` authenticated with ``key`` (id ``kid``)."""
    body = BODY.pack(VERSION, bytes.fromhex(kid), pass_id)
    raw = body + _mac(key, body)
    return PREFIX + base64.b32encode(raw).decode("ascii")


def read_pass_code(text: str, mac_key: MacKey) -> int:
    """Return the pass id of an authentic pass code, or raise PassCodeError."""
    text = (text or "").strip().upper()
    if len(text) != TEXT_CHARS or not text.startswith(PREFIX):
        raise PassCodeError("length")
    try:
        raw = base64.b32decode(text[len(PREFIX) :])
    except (binascii.Error, ValueError):
        raise PassCodeError("base32") from None
    version, kid, pass_id = BODY.unpack(raw[: BODY.size])
    if version != VERSION:
        raise PassCodeError("version")
    try:
        key = mac_key(kid.hex())
    except LookupError:
        raise PassCodeError("key") from None
    if not hmac.compare_digest(_mac(key, raw[: BODY.size]), raw[BODY.size :]):
        raise PassCodeError("mac")
    return int(pass_id)


def format_number(number: str) -> str:
    """Return the 12 printed digits in groups of four: ``1234 5678 9012``."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
