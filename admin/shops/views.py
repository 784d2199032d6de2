"""Shop applications in /admin/shops: list, approve or reject per fund, suspend."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin import auth
from admin.shops import services as shops
from admin.shops.forms import DecisionForm, NameForm
from kindpakket.auth import require_role
from kindpakket.db import db
from merchant.models import Shop
from merchant.services import week_of

bp = Blueprint("admin_shops", __name__, url_prefix="/admin/shops", template_folder="../templates")


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """List shops, applications waiting for a decision first."""
    funds = auth.tenant_funds(db.session)
    return render_template(
        "admin/shops/index.html", rows=shops.shop_rows(db.session, funds), funds=funds
    )


@bp.get("/<int:shop_id>")
@require_role(*auth.EVERYONE)
def detail(shop_id: int):  # type: ignore[no-untyped-def]
    """Show one shop and the decisions for this municipality's funds."""
    shop = db.session.get(Shop, shop_id) or abort(404)
    funds = auth.tenant_funds(db.session)
    row = shops.ShopRow(shop, shops.approvals_of(db.session, shop, funds))
    return render_template(
        "admin/shops/detail.html",
        shop=shop,
        week=week_of(db.session, shop),
        row=row,
        funds=funds,
        form=DecisionForm(),
        name_form=NameForm(name=shop.name),
        can_decide=auth.me().role in auth.ADMINISTRATOR,
    )


@bp.post("/<int:shop_id>/funds/<int:fund_id>/<any(approve, reject, suspend):decision>")
@require_role(*auth.ADMINISTRATOR)
def decide(shop_id: int, fund_id: int, decision: str):  # type: ignore[no-untyped-def]
    """Approve, reject or suspend a shop for one fund of this municipality."""
    fund = auth.tenant_fund(db.session, fund_id)
    shop = db.session.get(Shop, shop_id) or abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    status = {"approve": "approved", "reject": "rejected", "suspend": "suspended"}[decision]
    with db.refusing() as refused:
        shops.decide(
            db.session,
            shop,
            fund,
            status,
            actor=auth.me().actor,
            reason=form.reason.data,
            ip=request.remote_addr,
        )
    if err := refused.error:
        flash(str(err.message), "error")
    else:
        flash(_("Decision saved: %(shop)s, %(fund)s.", shop=shop.name, fund=fund.name))
    return redirect(url_for("admin_shops.detail", shop_id=shop.id))


@bp.post("/<int:shop_id>/name")
@require_role(*auth.ADMINISTRATOR)
def rename(shop_id: int):  # type: ignore[no-untyped-def]
    """Correct the shop's legal name (audited): a shop that applied to or works in our funds."""
    shop = db.session.get(Shop, shop_id) or abort(404)
    if not shops.ours_to_rename(db.session, shop, auth.tenant_funds(db.session)):
        abort(404)
    form = NameForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("admin_shops.detail", shop_id=shop.id))
    with db.refusing() as refused:
        shops.rename_shop(
            db.session,
            shop,
            form.name.data or "",
            actor=auth.me().actor,
            tenant_id=auth.me().municipality_id,
            ip=request.remote_addr,
        )
    if err := refused.error:
        flash(str(err.message), "error")
    else:
        flash(_("Legal name saved: %(name)s.", name=shop.name))
    return redirect(url_for("admin_shops.detail", shop_id=shop.id))
