"""Staff logins shared by the municipality and the shops: lockout, session epochs.

A staff row (``AdminUser``, ``ShopUser``) has the columns of :class:`StaffCredentials`, among
them ``failed_logins``, ``locked_until`` and ``session_epoch``. Wrong passwords lock the
account for a while, longer each time the failures go on (``base x 2^n``, at most a day); a
good login resets the count. The epoch is part of the login id in the session cookie
(``admin:<id>:<epoch>``); raising it on logout, password change or blocking makes every
cookie issued before worthless on the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kindpakket.errors import DomainError
from ledger.base import UtcDateTime

MAX_LOCKOUT = timedelta(days=1)


class StaffCredentials:
    """The columns every staff login has (a mixin of ``AdminUser`` and ``ShopUser``)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)  # listed first
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the login id in the session cookie; raised on logout, password change and
    # blocking, so every cookie issued before stops working on the server.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Wrong passwords or codes since the last good login; locks the account (growing lockout).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffRow(Protocol):
    """What the lockout and epoch rules need of a staff row."""

    id: int
    failed_logins: int
    locked_until: datetime | None
    session_epoch: int


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong logins lock a staff account, and for how long at first."""

    max_attempts: int = 5
    lockout_seconds: int = 900


def policy() -> LockoutPolicy:
    """Return the running app's staff lockout settings."""
    cfg = current_app.config
    return LockoutPolicy(
        max_attempts=int(cfg.get("STAFF_MAX_ATTEMPTS", 5)),
        lockout_seconds=int(cfg.get("STAFF_LOCKOUT_SECONDS", 900)),
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def locked_error(until: datetime, now: datetime) -> DomainError:
    """Return the answer for a locked account (the same whatever the password was)."""
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return DomainError(
        "account_locked",
        _l(
            "Too many failed logins. This account is locked; try again in %(minutes)s minutes.",
            minutes=minutes,
        ),
        minutes=minutes,
        keeps_work=True,  # the counted failure and the failed login's audit event
    )


def refuse_if_locked(user: StaffRow, now: datetime) -> None:
    """Raise ``account_locked`` while the account's lockout lasts."""
    until = _aware(user.locked_until)
    if until is not None and now < until:
        raise locked_error(until, now)


def count_failure(user: StaffRow, rules: LockoutPolicy, now: datetime) -> DomainError | None:
    """Count a wrong password or code; return the lockout error when this one locks.

    The lockout error keeps its work (``keeps_work``): the count is committed although the
    login is answered with an error; so must the caller's other refusals of a login be.
    """
    user.failed_logins = (user.failed_logins or 0) + 1
    rounds, rest = divmod(user.failed_logins, max(1, rules.max_attempts))
    if rest != 0:
        return None
    seconds = rules.lockout_seconds * 2 ** min(rounds - 1, 20)
    until = now + min(timedelta(seconds=seconds), MAX_LOCKOUT)
    user.locked_until = until
    return locked_error(until, now)


def count_success(user: StaffRow) -> None:
    """Forget earlier failures after a good login."""
    user.failed_logins = 0
    user.locked_until = None


def end_sessions(user: StaffRow) -> None:
    """Make every login cookie of ``user`` issued so far stop working."""
    user.session_epoch = (user.session_epoch or 0) + 1


def login_id(prefix: str, user: StaffRow) -> str:
    """Return the Flask-Login id of ``user``: ``<prefix>:<id>:<epoch>``."""
    return f"{prefix}:{user.id}:{user.session_epoch or 0}"


def parse_rest(rest: str) -> tuple[int, int] | None:
    """Return ``(id, epoch)`` from the part of a login id after the prefix, or None."""
    user_id, _, epoch = rest.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    return int(user_id), int(epoch)


def current_epoch(user: Any, epoch: int) -> bool:
    """Return True when the cookie's ``epoch`` is the row's current one."""
    return user is not None and int(user.session_epoch or 0) == epoch
