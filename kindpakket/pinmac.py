"""The fast PIN verifier checked at the till: HMAC-SHA256 under a server-held key.

A pass payment must cost about what a phone payment costs, so the till does not run argon2id
(~0.3-0.45 s at production cost) for every payment. Beside each argon2id PIN hash we keep
``{kid}${hex HMAC-SHA256(key, "kindpakket pin v1|{scope}|{household id}|{PIN}")}``, keyed by
the keyring's derived key of purpose ``pin``. Why that is safe enough (README, "The pass"):

* A stolen database alone reveals no PIN: without the key the verifier is a random string.
* Database *and* key reveal the 5-12 digit PINs by trying them all, quickly; argon2id would
  only slow that to hours for a 5-digit PIN, so it gives no real protection there either.
* Guessing at the till is stopped by the lockout (3 wrong PINs block the pass), not by cost.

The wallet login keeps argon2id. This is a platform module: no Flask, no actor package.
"""

from __future__ import annotations

import hmac
from hashlib import sha256

from kindpakket.keys import Keyring, KeyringError

PURPOSE = "pin"
WALLET = "wallet"  # the household's wallet PIN (households.pin_mac)
LETTER = "pass"  # the PIN from a PIN letter (pass_pins.pin_mac)


def _digest(key: bytes, scope: str, household_id: int, pin: str) -> str:
    message = f"kindpakket pin v1|{scope}|{household_id}|{pin}".encode()
    return hmac.new(key, message, sha256).hexdigest()


def make_verifier(keyring: Keyring, scope: str, household_id: int, pin: str) -> str:
    """Return the verifier to store for ``pin`` of the household (newest ``pin`` key)."""
    kid, key = keyring.mac_key(PURPOSE)
    return f"{kid}${_digest(key, scope, household_id, pin.strip())}"


def check_verifier(
    keyring: Keyring, stored: str | None, scope: str, household_id: int, pin: str
) -> bool | None:
    """Return True/False when ``stored`` decides the PIN, None when it cannot (argon2 then).

    None: no verifier stored yet, or its key is gone from the keyring.
    """
    kid, sep, digest = (stored or "").partition("$")
    if not sep or not digest:
        return None
    try:
        key = keyring.mac_key(PURPOSE, kid)[1]
    except KeyringError:
        return None
    return hmac.compare_digest(_digest(key, scope, household_id, pin.strip()), digest)
