"""Municipality staff: login with e-mail, password and optional TOTP; roles; tenant guard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.models import ROLES, AdminUser
from kindpakket import auth, logins
from kindpakket.audit import ANONYMOUS, record_event
from kindpakket.db import db
from kindpakket.emails import is_email_address
from kindpakket.errors import DomainError
from kindpakket.passwords import check_password_strength, hash_secret, verify_secret
from wallet.models import Fund, Municipality

# Who may do what: every admin page names the roles it admits.
EVERYONE = ROLES
FINANCE = ("administrator", "finance")
ADMINISTRATOR = ("administrator",)


class AdminPrincipal(auth.StaffPrincipal):
    """The logged-in staff member as Flask-Login sees it."""

    prefix = "admin"
    model = AdminUser

    def __init__(self, user: AdminUser) -> None:
        super().__init__(user)
        self.municipality_id = user.municipality_id


def _load(rest: str) -> AdminPrincipal | None:
    """Load the staff member of a login id; a cookie from before a logout is refused."""
    user = AdminPrincipal.load_row(db.session, rest)
    return AdminPrincipal(user) if user is not None else None


auth.register_role("admin", _load, "admin.login", ROLES)


def authenticate(
    session: Session,
    email: str,
    password: str,
    totp: str | None,
    *,
    policy: logins.LockoutPolicy = logins.LockoutPolicy(),
    now: datetime | None = None,
) -> AdminUser:
    """Return the staff member for these credentials or raise a DomainError.

    Wrong passwords and codes are counted on the account (see :mod:`kindpakket.logins`):
    the errors keep that work. A TOTP code is accepted once: its time
    step is remembered and that step and earlier ones are refused afterwards.
    """
    now = now or datetime.now(UTC)
    user = session.execute(
        select(AdminUser).where(AdminUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is not None:
        logins.refuse_if_locked(user, now)
    if not verify_secret(user.password_hash if user else None, password) or user is None:
        if user is not None and (locked := logins.count_failure(user, policy, now)):
            raise locked
        raise DomainError(
            "bad_credentials", _l("E-mail address or password is wrong."), keeps_work=True
        )
    if not user.active:
        raise DomainError(
            "account_disabled", _l("This account has been switched off."), keeps_work=True
        )
    if user.totp_secret:
        if not totp:
            raise DomainError(
                "totp_required",
                _l("Enter the 6-digit code from your authenticator app."),
                keeps_work=True,
            )
        step = _totp_step(user.totp_secret, totp, now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            if locked := logins.count_failure(user, policy, now):
                raise locked
            raise DomainError(
                "bad_totp",
                _l("The 6-digit code is wrong, too old or already used. Wait for the next code."),
                keeps_work=True,  # the counted failure
            )
        user.totp_last_step = step
    logins.count_success(user)
    return user


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step whose code this is (one step of clock drift allowed), or None."""
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code.strip(), for_time=now, valid_window=1
        )
    except (OTPVerificationError, ValueError):
        return None


def create_user(
    session: Session,
    municipality: Municipality,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    actor: str,
    with_totp: bool = False,
) -> tuple[AdminUser, str | None]:
    """Create a staff member; return it and its TOTP secret when asked for one."""
    email = email.strip().lower()
    if role not in ROLES:
        raise DomainError("bad_role", _l("Role must be administrator, finance or viewer."))
    if len(email) > 200 or not is_email_address(email):
        raise DomainError("bad_email", _l("That is not an e-mail address."))
    check_password_strength(password, (email, name))
    if session.execute(select(AdminUser.id).where(AdminUser.email == email)).first():
        raise DomainError("email_taken", _l("There is already an account with this e-mail."))
    secret = pyotp.random_base32() if with_totp else None
    user = AdminUser(
        municipality_id=municipality.id,
        email=email,
        name=name.strip(),
        password_hash=hash_secret(password),
        role=role,
        totp_secret=secret,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()  # the id goes into the audit event
    record_event(
        session,
        "admin_user.created",
        actor=actor,
        subject=f"admin_user:{user.id}",
        tenant_id=municipality.id,
        after={"email": email, "role": role, "totp": bool(secret)},
    )
    return user, secret


def change_password(session: Session, user: AdminUser, *, current: str, new: str) -> None:
    """Set a new password after checking the current one; other logins of the user end."""
    if not verify_secret(user.password_hash, current or ""):
        raise DomainError("bad_password", _l("Your current password is wrong."))
    check_password_strength(new, (user.email, user.name))
    user.password_hash = hash_secret(new)
    logins.end_sessions(user)
    record_event(
        session,
        "admin_user.password_changed",
        actor=f"admin:{user.id}",
        subject=f"admin_user:{user.id}",
        tenant_id=user.municipality_id,
    )


def reset_user(
    session: Session,
    email: str,
    *,
    actor: str,
    password: str | None = None,
    active: bool | None = None,
) -> AdminUser:
    """Set a staff member's password and/or switch the account off or on; logins end."""
    user = session.execute(
        select(AdminUser).where(AdminUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise DomainError("not_found", _l("There is no staff member with this e-mail."))
    changed: dict[str, Any] = {}
    if password is not None:
        check_password_strength(password, (user.email, user.name))
        user.password_hash = hash_secret(password)
        logins.count_success(user)  # a reset also lifts a lockout
        changed["password_reset"] = True
    if active is not None:
        changed["active"] = user.active = active
    logins.end_sessions(user)
    record_event(
        session,
        "admin_user.reset",
        actor=actor,
        subject=f"admin_user:{user.id}",
        tenant_id=user.municipality_id,
        after=changed,
    )
    return user


def me() -> AdminPrincipal:
    """Return the logged-in staff member (views are guarded by ``require_role``)."""
    return current_user  # type: ignore[return-value]


def tenant_fund(session: Session, fund_id: int) -> Fund:
    """Return the fund if it belongs to the staff member's municipality, else 404."""
    fund = session.get(Fund, fund_id)
    if fund is None or fund.municipality_id != me().municipality_id:
        abort(404)
    return fund


def tenant_funds(session: Session) -> list[Fund]:
    """Return the funds of the staff member's municipality, newest first."""
    return list(
        session.execute(
            select(Fund)
            .where(Fund.municipality_id == me().municipality_id)
            .order_by(Fund.period_start.desc(), Fund.id.desc())
        ).scalars()
    )


def audit(session: Session, name: str, **fields: Any) -> None:
    """Record an audit event by the logged-in staff member in their municipality."""
    from flask import request

    record_event(
        session,
        name,
        actor=me().actor,
        tenant_id=me().municipality_id,
        ip=request.remote_addr,
        **fields,
    )


def record_login(session: Session, email: str, error: DomainError | None = None) -> None:
    """Audit a login attempt: ``admin_user.logged_in`` or, with ``error``, ``login_failed``."""
    user = session.execute(
        select(AdminUser).where(AdminUser.email == (email or "").strip().lower())
    ).scalar_one_or_none()
    record_event(
        session,
        "admin_user.login_failed" if error else "admin_user.logged_in",
        actor=ANONYMOUS if error or user is None else f"admin:{user.id}",
        subject=f"admin_user:{user.id}" if user else None,
        tenant_id=user.municipality_id if user else None,
        after={"reason": error.code} if error else None,
    )


def record_logout(session: Session) -> None:
    """Audit the logged-in staff member logging out (nothing when nobody is logged in)."""
    principal = auth.logged_in(AdminPrincipal)
    if principal is None:
        return
    record_event(
        session,
        "admin_user.logged_out",
        actor=principal.actor,
        subject=f"admin_user:{principal.user_id}",
        tenant_id=principal.municipality_id,
    )
