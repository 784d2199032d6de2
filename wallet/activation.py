"""Activation codes, PINs, lockout and device sessions of a household.

Activation code: ``KP-XXXX-XXXX-XXXX-XXXX``, 16 symbols from a 30-letter alphabet (Crockford's
base 32 without 0, 1, I, L, O and U, so nothing looks alike): 16 x log2(30) = 78.5 bits. Three
groups (12 symbols) would give only 58.9 bits, below the 60 bits required, hence four groups.

Only ``sha256(normalised code)`` is stored. The normalised form is uppercase, with everything
but letters and digits removed, *including* the ``KP`` prefix: ``KPXXXXXXXXXXXXXXXX`` (18
characters). A parent who leaves out the prefix types 16 symbols; those get ``KP`` put in front.
Any other text that does not start with ``KP`` gets it too. This matches
``tests/factories.activation_hash`` (uppercase, dashes and spaces removed).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.audit import ANONYMOUS, record_event
from kindpakket.errors import DomainError
from kindpakket.keys import Keyring
from kindpakket.passwords import hash_secret, verify_secret
from kindpakket.pinmac import WALLET, make_verifier
from wallet.models import FamilySession, Household

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 symbols: no 0 1 I L O U
PREFIX = "KP"
GROUPS = 4
GROUP_SIZE = 4
CODE_SYMBOLS = GROUPS * GROUP_SIZE  # 16
CODE_BITS = CODE_SYMBOLS * math.log2(len(ALPHABET))  # 78.5
PIN_MIN = 5
PIN_MAX = 12
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_LOCKOUT_SECONDS = 900


def _now() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


# -- activation codes ------------------------------------------------------------------------


def new_activation_code() -> str:
    """Return a fresh random code ``KP-XXXX-XXXX-XXXX-XXXX`` (78 bits)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    groups = [symbols[i : i + GROUP_SIZE] for i in range(0, CODE_SYMBOLS, GROUP_SIZE)]
    return "-".join([PREFIX, *groups])


def normalise_code(text: str) -> str:
    """Return the code as stored-before-hashing: uppercase letters and digits, ``KP`` first."""
    compact = "".join(ch for ch in (text or "").upper() if ch.isascii() and ch.isalnum())
    if len(compact) == CODE_SYMBOLS or not compact.startswith(PREFIX):
        compact = PREFIX + compact
    return compact


def code_hash(code: str) -> str:
    """Return the SHA-256 hex of the normalised code (what ``households.code_hash`` holds)."""
    return hashlib.sha256(normalise_code(code).encode("ascii")).hexdigest()


def format_code(code: str) -> str:
    """Return a normalised code grouped for reading: ``KP-XXXX-XXXX-XXXX-XXXX``."""
    body = normalise_code(code)[len(PREFIX) :]
    return "-".join([PREFIX, *(body[i : i + GROUP_SIZE] for i in range(0, len(body), GROUP_SIZE))])


def issue_activation_code(session: Session, household: Household, *, actor: str) -> str:
    """Give the household a new code; the old code and the PIN stop working. Return the code.

    The family then activates again and chooses a new PIN; devices logged in with the old
    code are logged out. Only the hash is kept: the caller prints the returned code at once.
    """
    code = new_activation_code()
    reissue = household.code_hash is not None
    now = _now()
    household.code_hash = code_hash(code)
    household.code_issued_at = now
    household.pin_hash = None
    household.pin_mac = None
    household.pin_failures = 0
    household.locked_until = None
    household.activated_at = None
    household.updated_at = now
    revoked = revoke_all_sessions(session, household, now=now)
    record_event(
        session,
        "household.code_reissued" if reissue else "household.code_issued",
        actor=actor,
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id if household.fund else None,
        after={"code_issued_at": now.isoformat(), "sessions_revoked": revoked},
    )
    return code


def household_by_code(session: Session, code: str) -> Household | None:
    """Return the household whose current activation code this is, or None."""
    if not code or not code.strip():
        return None
    return session.execute(
        select(Household).where(Household.code_hash == code_hash(code))
    ).scalar_one_or_none()


def _unknown_code() -> DomainError:
    return DomainError(
        "code_unknown",
        _l("We do not know this activation code. Check the code in your letter."),
        keeps_work=True,  # the audit event of the failed attempt
    )


# -- PIN -------------------------------------------------------------------------------------


def check_pin_rules(pin: str, again: str | None = None) -> str:
    """Return the PIN if it is 5 to 12 digits, not trivial, and typed the same twice."""
    pin = (pin or "").strip()
    if not pin.isdigit() or not pin.isascii() or not PIN_MIN <= len(pin) <= PIN_MAX:
        raise DomainError("pin_format", _l("A PIN has 5 to 12 digits."))
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        raise DomainError("pin_too_simple", _l("This PIN is too easy to guess. Choose another."))
    if again is not None and pin != (again or "").strip():
        raise DomainError("pin_mismatch", _l("The two PINs are not the same."))
    return pin


@dataclass(frozen=True)
class PinPolicy:
    """How many wrong PINs are allowed and how long a lockout lasts."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lockout_seconds: int = DEFAULT_LOCKOUT_SECONDS


def _locked_error(household: Household, now: datetime) -> DomainError:
    until = household.locked_until or now
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return DomainError(
        "pin_locked",
        _l(
            "Too many wrong PINs. Try again in %(minutes)s minutes.",
            minutes=minutes,
        ),
        minutes=minutes,
        locked_until=until.isoformat(),
        keeps_work=True,  # the counted wrong PIN and its audit event
    )


def check_pin(
    session: Session,
    household: Household,
    pin: str,
    *,
    now: datetime | None = None,
    policy: PinPolicy = PinPolicy(),
) -> None:
    """Accept the household's PIN or raise ``pin_wrong`` / ``pin_locked`` / ``not_activated``.

    A wrong PIN is counted on the household in this transaction; the error keeps that work
    (``keeps_work``), so the unit of work commits although it answers with the error.
    """
    now = now or _now()
    if household.pin_hash is None:
        raise DomainError(
            "not_activated",
            _l("This code has not been activated yet. Choose a PIN first."),
        )
    locked_until = household.locked_until
    if locked_until is not None and now < locked_until:
        raise _locked_error(household, now)
    if verify_secret(household.pin_hash, (pin or "").strip()):
        household.pin_failures = 0
        household.locked_until = None
        return
    household.pin_failures = (household.pin_failures or 0) + 1
    household.updated_at = now
    if household.pin_failures >= policy.max_attempts:
        household.pin_failures = 0
        household.locked_until = now + timedelta(seconds=policy.lockout_seconds)
        record_event(
            session,
            "household.pin_locked",
            actor=f"household:{household.id}",
            subject=f"household:{household.id}",
            tenant_id=household.fund.municipality_id,
            after={"locked_until": household.locked_until.isoformat()},
        )
        raise _locked_error(household, now)
    left = policy.max_attempts - household.pin_failures
    record_event(
        session,
        "household.pin_wrong",
        actor=ANONYMOUS,
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id,
        after={"attempts_left": left},
    )
    raise DomainError(
        "pin_wrong",
        _l("The PIN is wrong. You can try %(left)s more times.", left=left),
        attempts_left=left,
        keeps_work=True,  # the counted wrong PIN and its audit event
    )


# -- activation and login ----------------------------------------------------------------------


def activate(
    session: Session,
    code: str,
    pin: str,
    pin_again: str,
    *,
    device: str,
    now: datetime | None = None,
    keyring: Keyring | None = None,
) -> tuple[Household, FamilySession]:
    """Set the first PIN for an activation code and open a device session.

    With the keyring the till's HMAC verifier of the PIN is written beside the argon2id
    hash (the pass checks it); without it the till upgrades on the first right PIN.
    """
    now = now or _now()
    household = household_by_code(session, code)
    if household is None:
        record_event(session, "household.code_unknown", actor=ANONYMOUS, after={"on": "activate"})
        raise _unknown_code()
    if household.pin_hash is not None:
        raise DomainError(
            "already_activated",
            _l("This code is already activated. Log in with the code and your PIN."),
        )
    pin = check_pin_rules(pin, pin_again)
    household.pin_hash = hash_secret(pin)
    household.pin_mac = (
        None if keyring is None else make_verifier(keyring, WALLET, household.id, pin)
    )
    household.pin_failures = 0
    household.locked_until = None
    household.activated_at = now
    household.updated_at = now
    record_event(
        session,
        "household.activated",
        actor=f"household:{household.id}",
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id,
    )
    return household, open_session(session, household, device=device, now=now)


def login(
    session: Session,
    code: str,
    pin: str,
    *,
    device: str,
    now: datetime | None = None,
    policy: PinPolicy = PinPolicy(),
) -> tuple[Household, FamilySession]:
    """Check code and PIN and open a device session (wrong PINs are counted, see check_pin)."""
    now = now or _now()
    household = household_by_code(session, code)
    if household is None:
        verify_secret(None, pin or "")  # same time as a known code: do not reveal which is wrong
        record_event(session, "household.code_unknown", actor=ANONYMOUS, after={"on": "login"})
        raise _unknown_code()
    check_pin(session, household, pin, now=now, policy=policy)
    return household, open_session(session, household, device=device, now=now)


# -- device sessions ---------------------------------------------------------------------------


def open_session(
    session: Session, household: Household, *, device: str, now: datetime | None = None
) -> FamilySession:
    """Create a device session for the household."""
    now = now or _now()
    row = FamilySession(
        id=secrets.token_urlsafe(32),
        household_id=household.id,
        device=(device or "?")[:200],
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    record_event(
        session,
        "family_session.opened",
        actor=f"household:{household.id}",
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id,
        after={"device": row.device},
    )
    return row


def active_session(session: Session, household_id: int, session_id: str) -> FamilySession | None:
    """Return the device session if it exists, belongs to the household and is not revoked."""
    row = session.get(FamilySession, session_id)
    if row is None or row.household_id != household_id or row.revoked_at is not None:
        return None
    return row


def list_sessions(session: Session, household: Household) -> list[FamilySession]:
    """Return the household's device sessions that are still open, newest first."""
    return list(
        session.execute(
            select(FamilySession)
            .where(FamilySession.household_id == household.id, FamilySession.revoked_at.is_(None))
            .order_by(FamilySession.last_seen_at.desc(), FamilySession.id)
        ).scalars()
    )


def revoke_session(
    session: Session, household: Household, session_id: str, *, actor: str
) -> FamilySession:
    """Log one of the household's devices out (e.g. a lost phone)."""
    row = active_session(session, household.id, session_id)
    if row is None:
        raise DomainError("session_not_found", _l("This device is not logged in."))
    row.revoked_at = _now()
    record_event(
        session,
        "family_session.revoked",
        actor=actor,
        subject=f"household:{household.id}",
        tenant_id=household.fund.municipality_id,
        before={"device": row.device},
    )
    return row


def revoke_all_sessions(
    session: Session, household: Household, *, now: datetime | None = None
) -> int:
    """Revoke every open device session of the household; return how many."""
    now = now or _now()
    rows = list_sessions(session, household) if household.id is not None else []
    for row in rows:
        row.revoked_at = now
    return len(rows)
