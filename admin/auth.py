"""Municipality staff: its principal (login rules in kindpakket.logins), roles, tenant guard."""

from __future__ import annotations

from typing import Any

import pyotp
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.models import ROLES, AdminUser
from kindpakket import auth, logins
from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.passwords import check_password_strength, hash_secret
from wallet.models import Fund, Municipality

# Who may do what: every admin page names the roles it admits.
EVERYONE = ROLES
FINANCE = ("administrator", "finance")
ADMINISTRATOR = ("administrator",)


class AdminPrincipal(auth.StaffPrincipal):
    """The logged-in staff member as Flask-Login sees it."""

    prefix = "admin"
    noun = "admin_user"
    model = AdminUser

    def __init__(self, user: AdminUser) -> None:
        super().__init__(user)
        self.municipality_id = user.municipality_id

    @classmethod
    def audit_scope(cls, session: Session, who: Any) -> dict[str, Any]:
        """Return the staff member's municipality: its audit events belong there."""
        return {"tenant_id": who.municipality_id}


def _load(rest: str) -> AdminPrincipal | None:
    """Load the staff member of a login id; a cookie from before a logout is refused."""
    user = AdminPrincipal.load_row(db.session, rest)
    return AdminPrincipal(user) if user is not None else None


auth.register_role("admin", _load, "admin.login", ROLES)


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
    if role not in ROLES:
        raise DomainError("bad_role", _l("Role must be administrator, finance or viewer."))
    secret = pyotp.random_base32() if with_totp else None
    user = logins.create_staff(
        session,
        AdminPrincipal,
        email=email,
        name=name,
        password=password,
        actor=actor,
        after={"totp": bool(secret)},
        municipality_id=municipality.id,
        role=role,
        totp_secret=secret,
    )
    return user, secret


def reset_user(
    session: Session,
    email: str,
    *,
    actor: str,
    password: str | None = None,
    active: bool | None = None,
) -> AdminUser:
    """Set a staff member's password and/or switch the account off or on; logins end."""
    user = logins.find(session, AdminPrincipal, email)
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
