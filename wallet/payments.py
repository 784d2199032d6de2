"""Payment tokens for the wallet: sign, draw as QR, numeric fallback codes, and verify.

The signing and parsing live in :mod:`wallet.tokens` (pure); this module adds the keyring,
the database (payment codes, used nonces) and the QR drawing. The spent-nonce rule is
here (:func:`nonce_used`): a nonce counts as used when the place that records redemptions
says so; merchant registers that look-up (:func:`record_spent_nonces`), so this package
neither imports ``merchant`` nor reads its tables.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import qrcode
from flask_babel import lazy_gettext as _l
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from kindpakket.keys import Keyring, KeyringError
from wallet import tokens
from wallet.models import PaymentCode, Voucher

PAYMENT_CODE_DIGITS = 8
PAYMENT_CODE_KEEP = timedelta(days=1)  # expired codes are kept this long to say "expired"
# Where spent nonces are recorded: registered by the redemption side (merchant/__init__.py).
_spent_lookups: list[Callable[[Session, str], bool]] = []

# English msgids; the Dutch texts are in wallet/i18n/nl/wallet.po.
TOKEN_MESSAGES: dict[str, Any] = {
    "not_a_token": _l("This is not a Kindpakket code."),
    "bad_version": _l("This code is from another version; refresh the page."),
    "unknown_key": _l("This code was not signed by Kindpakket or is too old."),
    "bad_signature": _l("This code is invalid (signature does not match)."),
    "token_expired": _l("This code has expired; ask for a new code."),
    "token_not_yet_valid": _l("This code is not valid yet; check the device clock."),
    "token_used": _l("This code has already been used; ask for a new code."),
    "voucher_not_found": _l("There is no budget for this code."),
    "payment_code_unknown": _l("This payment code does not exist. Check the digits."),
}


def token_error(code: str, **details: Any) -> DomainError:
    """Return the DomainError for a refused token or payment code."""
    return DomainError(code, TOKEN_MESSAGES[code], **details)


def _unix(now: datetime | int | float | None) -> int:
    """Return unix seconds for an aware datetime, a number, or the current time."""
    if now is None:
        return int(datetime.now(UTC).timestamp())
    if isinstance(now, datetime):
        if now.tzinfo is None:  # whose clock? refused, never guessed
            raise ValueError("a naive datetime has no known zone; use aware UTC")
        return int(now.timestamp())
    return int(now)


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def key_lookup(keyring: Keyring) -> tokens.KeyLookup:
    """Return a ``lookup_key(kid, at)`` over the keyring's token keys."""

    def lookup(kid: str, at: int) -> Any:
        return keyring.verify_key("token", kid, _at(at))

    return lookup


# -- issuing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentQR:
    """What the pay page shows: the token, its QR, expiry and the numeric fallback code."""

    token: str
    voucher_id: int
    kid: str
    expires_at: int  # unix seconds
    ttl: int
    payment_code: str  # digits only
    qr_svg: str

    @property
    def payment_code_display(self) -> str:
        """Return the payment code in groups of four for reading aloud."""
        return " ".join(self.payment_code[i : i + 4] for i in range(0, len(self.payment_code), 4))

    @property
    def qr_data_uri(self) -> str:
        """Return the QR SVG as a data: URI for an ``<img>`` (allowed by the CSP)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.qr_svg.encode()).decode()


@lru_cache(maxsize=512)
def qr_svg(text: str) -> str:
    """Draw the text as a QR code SVG (error correction M, 4-module border); cached per token.

    The qrcode package computes the matrix (with its mask search); the path is written here,
    one horizontal run per ``h`` segment, which is 2.5x faster and smaller than its
    SvgPathImage's square-per-module path.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )


def new_payment_code() -> str:
    """Return a random numeric payment code."""
    return "".join(secrets.choice("0123456789") for _ in range(PAYMENT_CODE_DIGITS))


def issue_payment(
    session: Session,
    voucher: Voucher,
    *,
    keyring: Keyring,
    ttl: int = tokens.DEFAULT_TTL,
    now: datetime | int | None = None,
) -> PaymentQR:
    """Sign a token for the voucher, store its numeric fallback code, and draw the QR."""
    if voucher.status != "active":
        raise DomainError(
            "voucher_blocked",
            _l("This budget is blocked. Unblock it with your PIN first."),
        )
    unix = _unix(now)
    try:
        info, signing = keyring.signing_key("token", _at(unix))
    except KeyringError:
        keyring.ensure("token")  # a fresh installation makes its first key on first use
        info, signing = keyring.signing_key("token", _at(unix))
    issued = tokens.issue_token(voucher.id, (info.kid, signing), unix, ttl)
    expires = _at(issued.expires_at)
    session.execute(delete(PaymentCode).where(PaymentCode.expires_at < expires - PAYMENT_CODE_KEEP))
    code = _unused_code(session)
    session.add(
        PaymentCode(
            code=code,
            voucher_id=voucher.id,
            nonce=issued.nonce,
            expires_at=expires,
            created_at=_at(unix),
        )
    )
    return PaymentQR(
        token=issued.text,
        voucher_id=voucher.id,
        kid=issued.kid,
        expires_at=issued.expires_at,
        ttl=ttl,
        payment_code=code,
        qr_svg=qr_svg(issued.text),
    )


def _unused_code(session: Session) -> str:
    """Return a payment code no stored row has (the unique index is the backstop)."""
    for _ in range(20):
        code = new_payment_code()
        if session.execute(select(PaymentCode.id).where(PaymentCode.code == code)).first() is None:
            return code
    raise DomainError("payment_code_busy", _l("Please try again in a moment."))


# -- verifying (called by the merchant's redemption service) -----------------------------------


def record_spent_nonces(lookup: Callable[[Session, str], bool]) -> None:
    """Register where redemptions record the nonces they spent (called once, by merchant)."""
    if lookup not in _spent_lookups:
        _spent_lookups.append(lookup)


def nonce_used(session: Session, nonce_hex: str) -> bool:
    """Return True when a redemption already holds this nonce.

    Refuses to answer when nothing records redemptions: a token must never look unused
    only because the shop side was not loaded.
    """
    if not _spent_lookups:
        raise RuntimeError("no spent-nonce record registered (import merchant)")
    return any(lookup(session, nonce_hex) for lookup in _spent_lookups)


def verify_token_text(
    text: str,
    *,
    now: datetime | int | None,
    keyring: Keyring,
    skew: int = tokens.DEFAULT_SKEW,
) -> tokens.TokenPayload:
    """Check a token's form, key, signature and time (no database), or raise a DomainError.

    The caller must still refuse a used nonce (``token_used``) and a missing voucher; the
    redemption does both in its own locked queries.
    """
    try:
        return tokens.verify_token(text or "", key_lookup(keyring), _unix(now), skew)
    except tokens.TokenError as err:
        raise token_error(err.code) from None


def verify_payment_token(
    session: Session,
    text: str,
    *,
    now: datetime | int | None,
    keyring: Keyring,
    skew: int = tokens.DEFAULT_SKEW,
) -> tuple[tokens.TokenPayload, Voucher]:
    """Check a scanned token and return it with its voucher, or raise a DomainError.

    Codes: ``not_a_token``, ``bad_version``, ``unknown_key``, ``bad_signature``,
    ``token_expired``, ``token_not_yet_valid``, ``token_used``, ``voucher_not_found``. The
    voucher's status, balance and fund are for the caller (the redemption) to check.
    """
    payload = verify_token_text(text, now=now, keyring=keyring, skew=skew)
    if nonce_used(session, payload.nonce_hex):
        raise token_error("token_used")
    voucher = session.get(Voucher, payload.voucher_id)
    if voucher is None:
        raise token_error("voucher_not_found")
    return payload, voucher


def normalise_payment_code(text: str) -> str:
    """Return only the digits of a typed payment code."""
    return "".join(ch for ch in (text or "") if ch.isascii() and ch.isdigit())


def resolve_payment_code(
    session: Session,
    code: str,
    *,
    now: datetime | int | None,
    skew: int = tokens.DEFAULT_SKEW,
) -> tuple[str, Voucher]:
    """Return ``(nonce_hex, voucher)`` for a typed payment code, or raise a DomainError.

    Codes: ``payment_code_unknown``, ``token_expired``, ``token_used``. The shop side rate
    limits calls (the code space is small on purpose, so it can be typed).
    """
    digits = normalise_payment_code(code)
    row = (
        session.execute(select(PaymentCode).where(PaymentCode.code == digits)).scalar_one_or_none()
        if len(digits) == PAYMENT_CODE_DIGITS
        else None
    )
    if row is None:
        raise token_error("payment_code_unknown")
    if _unix(now) > int(row.expires_at.timestamp()) + skew:
        raise token_error("token_expired")
    if nonce_used(session, row.nonce):
        raise token_error("token_used")
    voucher = session.get(Voucher, row.voucher_id)
    if voucher is None:  # pragma: no cover - foreign key
        raise token_error("voucher_not_found")
    return row.nonce, voucher
