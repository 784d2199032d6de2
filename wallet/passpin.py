"""Checking a pass's PIN at the till: the HMAC verifier first, argon2id once to upgrade.

Every household PIN has an argon2id hash (the wallet login checks that) and, beside it, a
fast HMAC verifier (:mod:`kindpakket.pinmac`) that the till checks, so that a pass payment
costs about what a phone payment costs. Rows written before the verifier existed (or by a
caller without the keyring) have none: the till then checks argon2id once and, when the
PIN is right, stores the verifier. The lockout per pass (3 wrong PINs) stops guessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from kindpakket import pinmac
from kindpakket.keys import Keyring
from kindpakket.passwords import verify_secret
from wallet.models import Household
from wallet.passmodels import PassPin

if TYPE_CHECKING:
    from wallet.passes import AtTill


def verifier(keyring: Keyring | None, scope: str, household_id: int, pin: str) -> str | None:
    """Return the HMAC verifier to store beside a new argon2id hash (None without keyring)."""
    return None if keyring is None else pinmac.make_verifier(keyring, scope, household_id, pin)


def pin_ok_at_till(session: Session, row: AtTill, pin: str, keyring: Keyring) -> bool:
    """Return True when ``pin`` is the PIN the pass checks (counts nothing)."""
    pin = (pin or "").strip()
    scope = pinmac.LETTER if row.pass_pin else pinmac.WALLET
    decided = pinmac.check_verifier(keyring, row.pin_mac, scope, row.household_id, pin)
    if decided is not None:
        return decided
    if not verify_secret(row.pin_hash, pin):
        return False
    # Upgrade: store the verifier, only if the PIN did not change meanwhile (same hash).
    mac = pinmac.make_verifier(keyring, scope, row.household_id, pin)
    table = PassPin if row.pass_pin else Household
    key = PassPin.household_id if row.pass_pin else Household.id
    session.execute(
        update(table)
        .where(key == row.household_id, table.pin_hash == row.pin_hash)
        .values(pin_mac=mac)
    )
    return True
