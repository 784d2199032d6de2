"""Staff logins shared by the municipality and the shops: one set of rules for both doors.

A staff row (``AdminUser``, ``ShopUser``) has the columns of :class:`StaffCredentials`; the
actor's principal class (:class:`kindpakket.auth.StaffPrincipal`) names its table, its prefix
in login ids and audit actors, its noun in audit events and where those events belong.

* :func:`authenticate` checks e-mail and password (argon2id; an unknown e-mail costs the same
  time), the TOTP code of an account that has one, and rehashes a password whose argon2
  parameters are out of date.
* Wrong passwords and codes lock the account for a while, longer each time the failures go on
  (``base x 2^n``, at most a day); a good login resets the count.
* The session epoch is part of the login id in the session cookie (``admin:<id>:<epoch>``);
  raising it on logout, password change or blocking makes every cookie issued before
  worthless on the server.
* :func:`change_password`, :func:`create_staff` and :func:`record_login` write the audit
  events ``<noun>.password_changed``, ``<noun>.created``, ``<noun>.logged_in`` and
  ``<noun>.login_failed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kindpakket.audit import ANONYMOUS, record_event
from kindpakket.emails import checked_address
from kindpakket.errors import DomainError
from kindpakket.passwords import check_password_strength, hash_secret, needs_rehash, verify_secret
from ledger.base import UtcDateTime

if TYPE_CHECKING:
    from kindpakket.auth import StaffPrincipal

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


def refuse_if_locked(user: StaffCredentials, now: datetime) -> None:
    """Raise ``account_locked`` while the account's lockout lasts."""
    until = user.locked_until
    if until is not None and now < until:
        raise locked_error(until, now)


def count_failure(
    user: StaffCredentials, rules: LockoutPolicy, now: datetime
) -> DomainError | None:
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


def count_success(user: StaffCredentials) -> None:
    """Forget earlier failures after a good login."""
    user.failed_logins = 0
    user.locked_until = None


def end_sessions(user: StaffCredentials) -> None:
    """Make every login cookie of ``user`` issued so far stop working."""
    user.session_epoch = (user.session_epoch or 0) + 1


def login_id(prefix: str, user: StaffCredentials) -> str:
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


# -- use cases ---------------------------------------------------------------------------------


def find(session: Session, kind: type[StaffPrincipal], email: str) -> Any:
    """Return the ``kind`` staff row with this e-mail address, or None."""
    model = kind.model
    wanted = (email or "").strip().lower()
    return session.execute(select(model).where(model.email == wanted)).scalar_one_or_none()


def authenticate(
    session: Session,
    kind: type[StaffPrincipal],
    email: str,
    password: str,
    totp: str | None = None,
    *,
    policy: LockoutPolicy = LockoutPolicy(),
    now: datetime | None = None,
) -> Any:
    """Return the ``kind`` staff row for these credentials or raise a DomainError.

    Wrong passwords and codes are counted on the account: the errors keep that work. A row
    with a ``totp_secret`` (municipality staff) also needs its code, accepted once: its time
    step is remembered and that step and earlier ones are refused afterwards.
    """
    now = now or datetime.now(UTC)
    user = find(session, kind, email)
    if user is not None:
        refuse_if_locked(user, now)
    if not verify_secret(user.password_hash if user else None, password) or user is None:
        if user is not None and (locked := count_failure(user, policy, now)):
            raise locked
        raise DomainError(
            "bad_credentials", _l("E-mail address or password is wrong."), keeps_work=True
        )
    if not user.active:
        raise DomainError(
            "account_disabled", _l("This account has been switched off."), keeps_work=True
        )
    if getattr(user, "totp_secret", None):
        _check_totp(user, totp, policy, now)
    if needs_rehash(user.password_hash):  # our argon2 parameters changed since it was hashed
        user.password_hash = hash_secret(password)
    count_success(user)
    return user


def _check_totp(user: Any, code: str | None, rules: LockoutPolicy, now: datetime) -> None:
    """Accept a code of the account's authenticator app once, or raise (counted when wrong)."""
    if not code:
        raise DomainError(
            "totp_required",
            _l("Enter the 6-digit code from your authenticator app."),
            keeps_work=True,
        )
    step = _totp_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        if locked := count_failure(user, rules, now):
            raise locked
        raise DomainError(
            "bad_totp",
            _l("The 6-digit code is wrong, too old or already used. Wait for the next code."),
            keeps_work=True,  # the counted failure
        )
    user.totp_last_step = step


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step whose code this is (one step of clock drift allowed), or None."""
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code.strip(), for_time=now, valid_window=1
        )
    except (OTPVerificationError, ValueError):
        return None


def change_password(
    session: Session, kind: type[StaffPrincipal], user: Any, *, current: str, new: str
) -> None:
    """Set a new password after checking the current one; other logins of the user end."""
    if not verify_secret(user.password_hash, current or ""):
        raise DomainError("bad_password", _l("Your current password is wrong."))
    check_password_strength(new, (user.email, user.name))
    user.password_hash = hash_secret(new)
    end_sessions(user)
    record_event(
        session,
        f"{kind.noun}.password_changed",
        actor=f"{kind.prefix}:{user.id}",
        subject=f"{kind.noun}:{user.id}",
        **kind.audit_scope(session, user),
    )


def refuse_taken(session: Session, kind: type[StaffPrincipal], email: str) -> None:
    """Raise ``email_taken`` when a ``kind`` login already has this e-mail address."""
    if find(session, kind, email) is not None:
        raise DomainError("email_taken", _l("There is already an account with this e-mail."))


def create_staff(
    session: Session,
    kind: type[StaffPrincipal],
    *,
    email: str,
    name: str,
    password: str,
    actor: str,
    after: dict[str, Any] | None = None,
    **columns: Any,
) -> Any:
    """Add an active ``kind`` login (``columns`` say its role and its own columns); audited.

    A blank ``name`` becomes the e-mail address.
    """
    email = checked_address(email)
    check_password_strength(password, (email, name))
    refuse_taken(session, kind, email)
    user = kind.model(
        email=email,
        name=name.strip() or email,
        password_hash=hash_secret(password),
        active=True,
        created_at=datetime.now(UTC),
        **columns,
    )
    session.add(user)
    session.flush()  # the id goes into the audit event
    record_event(
        session,
        f"{kind.noun}.created",
        actor=actor,
        subject=f"{kind.noun}:{user.id}",
        after={"email": email, "role": user.role, **(after or {})},
        **kind.audit_scope(session, user),
    )
    return user


def record_login(
    session: Session, kind: type[StaffPrincipal], email: str, error: DomainError | None = None
) -> None:
    """Audit a login attempt: ``<noun>.logged_in`` or, with ``error``, ``<noun>.login_failed``."""
    user = find(session, kind, email)
    record_event(
        session,
        f"{kind.noun}.login_failed" if error else f"{kind.noun}.logged_in",
        actor=ANONYMOUS if error or user is None else f"{kind.prefix}:{user.id}",
        subject=f"{kind.noun}:{user.id}" if user else None,
        after={"reason": error.code} if error else None,
        **(kind.audit_scope(session, user) if user else {}),
    )
