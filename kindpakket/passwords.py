"""Argon2id hashes for passwords, PINs and activation codes; the staff password rules."""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)


def use_low_cost_for_tests() -> None:
    """Hash with minimal argon2id parameters: for test suites only, never in production."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_secret(secret: str) -> str:
    """Return an argon2id hash of ``secret``."""
    return _hasher.hash(secret)


def verify_secret(hashed: str | None, secret: str) -> bool:
    """Return True when ``secret`` matches ``hashed`` (constant time, never raises)."""
    if not hashed:
        _hasher.hash(secret)  # spend the same time whether or not the account exists
        return False
    try:
        return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """Return True when ``hashed`` was made with other argon2 parameters than ours today."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


# -- staff password rules ----------------------------------------------------------------------

MIN_PASSWORD = 12
MAX_PASSWORD = 200
MIN_SCORE = 3  # zxcvbn 0-4: 3 = "safely unguessable", ~10^8 guesses or more


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> str:
    """Return ``password`` if it is long, not common and hard to guess; else raise.

    Checked with zxcvbn (common passwords, words, names, keyboard patterns, repeats, dates),
    which also gets the account's own words (e-mail, name, shop) as ``user_inputs``.
    """
    from flask_babel import lazy_gettext as _l
    from zxcvbn import zxcvbn

    from kindpakket.errors import DomainError

    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise DomainError("weak_password", _l("A password needs at least 12 characters."))
    if len(password) > MAX_PASSWORD:
        raise DomainError("weak_password", _l("A password can have at most 200 characters."))
    texts = [t.strip().lower() for t in user_inputs if t and t.strip()]
    words = texts + [w for t in texts for w in re.split(r"[\s@._-]+", t) if len(w) > 2]
    result = zxcvbn(password[:100], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return password
    sequence = result.get("sequence") or []
    if any(m.get("dictionary_name") == "passwords" for m in sequence):
        message = _l(
            "This password is on the lists of common passwords. Choose another, "
            "for example three or four unrelated words."
        )
    elif any(m.get("dictionary_name") == "user_inputs" for m in sequence):
        message = _l(
            "This password contains your name or e-mail address. Choose another, "
            "for example three or four unrelated words."
        )
    else:
        message = _l(
            "This password is too easy to guess (repeats, sequences, keyboard patterns or "
            "dates). Choose another, for example three or four unrelated words."
        )
    raise DomainError("weak_password", message)
