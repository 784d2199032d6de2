"""The municipality's menu: one list of doors shown on every admin page, per role.

A context processor offers ``admin_menu`` to every template rendered by an admin blueprint,
so a page cannot forget it. The shops entry carries the number of applications waiting
for a decision on one of the municipality's open funds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin import auth
from admin.shops import services as shops
from kindpakket.db import db
from merchant.services import CATEGORIES


@dataclass(frozen=True)
class MenuItem:
    """One entry of the menu: where it goes, what it says, an optional count."""

    endpoint: str
    label: Any
    url: str
    count: int | None = None


ROLE_LABELS = {
    "administrator": _l("administrator"),
    "finance": _l("finance"),
    "viewer": _l("viewer (reads only)"),
}

# (endpoint, label, roles, the blueprint whose pages count as "here")
ITEMS: tuple[tuple[str, Any, tuple[str, ...], str], ...] = (
    ("admin.index", _l("Funds"), auth.EVERYONE, "admin_funds"),
    ("admin_shops.index", _l("Shops"), auth.EVERYONE, "admin_shops"),
    ("admin_reports.index", _l("Reports"), auth.EVERYONE, "admin_reports"),
    ("admin_more.payouts", _l("Payouts"), auth.FINANCE, "admin_settlement"),
    ("admin_notify.index", _l("Notifications"), auth.EVERYONE, "admin_notify"),
    ("admin_audit.index", _l("Audit log"), auth.ADMINISTRATOR, "admin_audit"),
    ("admin_more.staff", _l("Staff"), auth.ADMINISTRATOR, "admin_more.staff"),
)


def pending_applications() -> int:
    """Return how many shops wait for a decision on one of the municipality's open funds."""
    funds = auth.tenant_funds(db.session)
    return sum(1 for row in shops.shop_rows(db.session, funds) if row.pending_for(funds))


def items() -> list[MenuItem]:
    """Return the menu of the logged-in staff member (empty for anyone else)."""
    role = getattr(current_user, "role", None)
    if not current_user.is_authenticated or role not in auth.EVERYONE:
        return []
    found = []
    for endpoint, label, roles, _area in ITEMS:
        if role not in roles:
            continue
        count = pending_applications() if endpoint == "admin_shops.index" else None
        found.append(MenuItem(endpoint, label, url_for(endpoint), count))
    return found


def current(item: MenuItem) -> bool:
    """Return True when the page shown belongs to this menu entry."""
    area = next(a for e, _l_, _r, a in ITEMS if e == item.endpoint)
    endpoint = request.endpoint or ""
    if "." in area:
        return endpoint == area
    if area == "admin_funds":
        inside = ("admin_funds.", "admin_households.")
        return endpoint == "admin.index" or endpoint.startswith(inside)
    if area == "admin_settlement":
        return endpoint.startswith("admin_settlement.") or endpoint == "admin_more.payouts"
    return endpoint.startswith(area + ".")


def init_app(app: Flask) -> None:
    """Offer the menu to the templates of admin pages."""

    @app.context_processor
    def _menu() -> dict[str, Any]:
        # Mail templates render in the worker, with an app but no request.
        if not has_request_context() or not (request.blueprint or "").startswith("admin"):
            return {}
        return {
            "admin_menu": items,
            "admin_menu_current": current,
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "category_label": lambda key: CATEGORIES.get(key, key),
        }
