"""Argon2id hashes for passwords, PINs and activation codes."""

from __future__ import annotations

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
    """Return True when ``hashed`` was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(hashed)
