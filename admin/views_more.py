"""Menu pages of the municipality that had no page before: payouts per fund, staff."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import select

from admin import auth
from admin.models import AdminUser
from kindpakket.auth import require_role
from kindpakket.db import db

bp = Blueprint("admin_more", __name__, url_prefix="/admin", template_folder="templates")


@bp.get("/payouts")
@require_role(*auth.FINANCE)
def payouts():  # type: ignore[no-untyped-def]
    """Choose the fund to settle (a municipality with one fund goes straight to it)."""
    funds = auth.tenant_funds(db.session)
    if len(funds) == 1:
        return redirect(url_for("admin_settlement.index", fund_id=funds[0].id))
    return render_template("admin/more/payouts.html", funds=funds)


@bp.get("/staff")
@require_role(*auth.ADMINISTRATOR)
def staff():  # type: ignore[no-untyped-def]
    """List the municipality's staff, their role and second factor (managed on the CLI)."""
    users = db.session.execute(
        select(AdminUser)
        .where(AdminUser.municipality_id == auth.me().municipality_id)
        .order_by(AdminUser.active.desc(), AdminUser.name)
    ).scalars()
    return render_template("admin/more/staff.html", users=list(users))
