"""Pages of the municipality (``/admin``): login and home here; features in the rooms' views."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from admin import auth
from kindpakket import staff_pages
from kindpakket.auth import require_role
from kindpakket.db import db

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
# /admin/login (with the authenticator app's code), /admin/logout and /admin/password.
staff_pages.register(bp, auth.AdminPrincipal, budget="admin", totp=True)


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """Show the municipality's funds."""
    return render_template("admin/index.html", funds=auth.tenant_funds(db.session))


def feature_blueprints() -> list[Blueprint]:
    """Return the blueprints of the municipality's feature pages (funds, shops, reports...)."""
    from admin import views_more
    from admin.audit import views as views_audit
    from admin.funds import views as views_funds
    from admin.funds import views_households
    from admin.notifications import views as views_notify
    from admin.passes import views as views_passes
    from admin.reports import views as views_reports
    from admin.reports import views_public
    from admin.settlement import views as views_settlement
    from admin.settlement import views_bank
    from admin.shops import views as views_shops

    return [
        views_funds.bp,
        views_households.bp,
        views_shops.bp,
        views_reports.bp,
        views_settlement.bp,
        views_bank.bp,
        views_audit.bp,
        views_passes.bp,
        views_more.bp,
        views_public.bp,
        views_notify.bp,
    ]


def init_app(app: Flask) -> None:
    """Offer the municipality's menu to every admin page."""
    from admin import menu

    menu.init_app(app)
