"""Shop logins: owner and cashier, loaded by Flask-Login from ``shop_user:<id>``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket import auth, logins
from kindpakket.audit import ANONYMOUS, record_event
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.passwords import verify_secret
from merchant.models import ShopUser, shop_fund_ids

ROLES = ("owner", "cashier")
OWNER = ("owner",)


class ShopPrincipal(auth.StaffPrincipal):
    """The logged-in shop user as Flask-Login sees it."""

    prefix = "shop_user"
    model = ShopUser

    def __init__(self, user: ShopUser) -> None:
        super().__init__(user)
        self.row = user  # loaded once per request; the views reuse it without a query
        self.shop_id = user.shop_id


def _load(rest: str) -> ShopPrincipal | None:
    """Load the shop user of a login id; a cookie from before a logout is refused."""
    with db.reader() as session:
        user = ShopPrincipal.load_row(session, rest)
    return ShopPrincipal(user) if user is not None else None


auth.register_role("shop_user", _load, "merchant.login", ROLES)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    policy: logins.LockoutPolicy = logins.LockoutPolicy(),
    now: datetime | None = None,
) -> ShopUser:
    """Return the shop user for these credentials or raise a DomainError.

    Wrong passwords are counted on the account and lock it for a growing while (see
    :mod:`kindpakket.logins`): the errors keep that work.
    """
    now = now or datetime.now(UTC)
    user = session.execute(
        select(ShopUser).where(ShopUser.email == email.strip().lower())
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
    logins.count_success(user)
    return user


def me() -> ShopPrincipal:
    """Return the logged-in shop user (views are guarded by ``require_role``)."""
    return current_user  # type: ignore[return-value]


def current_shop_user(session: Session) -> ShopUser:
    """Return the database row of the logged-in shop user (the one loaded for the login)."""
    principal = me()
    row = getattr(principal, "row", None)
    user = (
        session.merge(row, load=False)
        if isinstance(row, ShopUser)
        else session.get(ShopUser, principal.user_id)
    )
    if user is None or not user.active:
        raise DomainError("login_required", _l("Please log in first."))
    return user


def record_login(session: Session, email: str, error: DomainError | None = None) -> None:
    """Audit a login attempt: ``shop_user.logged_in`` or, with ``error``, ``login_failed``."""
    user = session.execute(
        select(ShopUser).where(ShopUser.email == (email or "").strip().lower())
    ).scalar_one_or_none()
    record_event(
        session,
        "shop_user.login_failed" if error else "shop_user.logged_in",
        actor=ANONYMOUS if error or user is None else f"shop_user:{user.id}",
        subject=f"shop_user:{user.id}" if user else None,
        funds=shop_fund_ids(session, user.shop_id) if user else (),
        after={"reason": error.code} if error else None,
    )


def record_logout(session: Session) -> None:
    """Audit the logged-in shop user logging out (nothing when nobody is logged in)."""
    principal = auth.logged_in(ShopPrincipal)
    if principal is None:
        return
    record_event(
        session,
        "shop_user.logged_out",
        actor=principal.actor,
        subject=f"shop_user:{principal.user_id}",
        funds=shop_fund_ids(session, principal.shop_id),
    )
