"""Shop logins: owner and cashier, loaded by Flask-Login from ``shop_user:<id>``."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kindpakket import auth
from kindpakket.db import db
from kindpakket.errors import DomainError
from merchant.models import ShopUser, shop_fund_ids

ROLES = ("owner", "cashier")
OWNER = ("owner",)


class ShopPrincipal(auth.StaffPrincipal):
    """The logged-in shop user as Flask-Login sees it."""

    prefix = "shop_user"
    noun = "shop_user"
    model = ShopUser

    def __init__(self, user: ShopUser, *, confirmed: bool = True) -> None:
        super().__init__(user)
        self.row = user  # loaded once per request; the views reuse it without a query
        self.shop_id = user.shop_id
        # False: taken from the rows this process read recently; the request's own unit of
        # work confirms it (see ``confirmed_in_unit_of_work``) before it answers.
        self.confirmed = confirmed

    @classmethod
    def audit_scope(cls, session: Session, who: Any) -> dict[str, Any]:
        """Return the funds that decided on the shop: their municipalities audit its staff."""
        return {"funds": shop_fund_ids(session, who.shop_id)}


class LoginEnded(DomainError):
    """The shop user's login ended (logged out elsewhere, blocked) while a request ran."""

    def __init__(self) -> None:
        super().__init__("login_required", _l("Please log in first."))


# Routes whose unit of work confirms the shop user in a query of its own (a payment reads the
# cashier's row with the voucher it locks): their requests take the principal from the rows
# this app read recently instead of reading it first. That first read is a transaction of
# its own on SQLite and a round trip on PostgreSQL: a tenth of a scanned payment's work.
_CONFIRMED_LATER: set[tuple[str, str]] = set()
RECENT_LOGINS = 1024  # rows kept per app; all are dropped when more come (bounded memory)
_RECENT = "kindpakket_recent_shop_logins"


def confirmed_in_unit_of_work(endpoint: str, method: str) -> None:
    """Let ``method`` requests of ``endpoint`` confirm their shop user themselves."""
    _CONFIRMED_LATER.add((endpoint, method))


def _recent() -> dict[str, ShopUser]:
    recent: dict[str, ShopUser] = current_app.extensions.setdefault(_RECENT, {})
    return recent


def _load(rest: str) -> ShopPrincipal | None:
    """Load the shop user of a login id; a cookie from before a logout is refused."""
    recent = _recent()
    if (request.endpoint, request.method) in _CONFIRMED_LATER:
        seen = recent.get(rest)  # a detached row: only ever read
        if seen is not None:
            return ShopPrincipal(seen, confirmed=False)
    with db.reader() as session:
        user = ShopPrincipal.load_row(session, rest)
    if user is None:
        recent.pop(rest, None)
        return None
    if len(recent) >= RECENT_LOGINS:
        recent.clear()
    recent[rest] = user
    return ShopPrincipal(user)


_CURRENT = select(ShopUser.active, ShopUser.role, ShopUser.session_epoch, ShopUser.shop_id).where(
    ShopUser.id == bindparam("id")
)


def check_current(cashier: ShopUser, current: Any | None) -> None:
    """Raise LoginEnded unless ``current`` (the row's active, role, session_epoch and
    shop_id, read in the caller's transaction) still lets ``cashier``'s login act for its shop.
    """
    if (
        current is None
        or not current.active
        or current.role not in ROLES
        or int(current.session_epoch or 0) != int(cashier.session_epoch or 0)
        or current.shop_id != cashier.shop_id
    ):
        raise LoginEnded()


def confirm(session: Session, cashier: ShopUser) -> None:
    """Read the shop user's row in ``session``'s transaction and check the login still holds."""
    found = session.connection().execute(_CURRENT, {"id": cashier.id}).first()
    check_current(cashier, found)


auth.register_role("shop_user", _load, "merchant.login", ROLES)


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
