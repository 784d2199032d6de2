"""Shop logins: owner and cashier, loaded by Flask-Login from ``shop_user:<id>``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
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

    def __init__(self, user: ShopUser) -> None:
        super().__init__(user)
        self.row = user  # loaded once per request; the views reuse it without a query
        self.shop_id = user.shop_id

    @classmethod
    def audit_scope(cls, session: Session, who: Any) -> dict[str, Any]:
        """Return the funds that decided on the shop: their municipalities audit its staff."""
        return {"funds": shop_fund_ids(session, who.shop_id)}


def _load(rest: str) -> ShopPrincipal | None:
    """Load the shop user of a login id; a cookie from before a logout is refused."""
    with db.reader() as session:
        user = ShopPrincipal.load_row(session, rest)
    return ShopPrincipal(user) if user is not None else None


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
