"""One household of a fund: its children, their budgets, and what staff can do for it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin import auth
from admin.funds import issuance
from admin.funds import letters as letter_pdf
from admin.funds.forms import ReissueForm, TopupForm
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.money import format_euro, parse_amount
from ledger import store
from wallet.models import Fund, Household

bp = Blueprint(
    "admin_households",
    __name__,
    url_prefix="/admin/funds/<int:fund_id>/households",
    template_folder="../templates",
)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    """Offer money and date formatting in the current language to the templates."""
    lang = current_language()
    return {
        "euro": lambda cents: format_euro(int(cents), lang),
        "day": lambda d: letter_pdf.format_date(d, lang),
        "is_administrator": getattr(auth.me(), "role", None) == "administrator",
    }


def _household(fund: Fund, household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.fund_id != fund.id:
        abort(404)
    return household


def _topup_form(household: Household, **kwargs: object) -> TopupForm:
    form = TopupForm(**kwargs)  # type: ignore[arg-type]
    form.child.choices = [
        (c.reference, f"{c.first_name} ({c.reference})")
        for c in household.children
        if c.voucher is not None and c.voucher.status == "active"
    ]
    return form


def _page(fund: Fund, household: Household, form: TopupForm, error: object = None, status=200):  # type: ignore[no-untyped-def]
    budgets = [
        (c, c.voucher, store.balance(db.session, c.voucher.account) if c.voucher else None)
        for c in household.children
    ]
    return render_template(
        "admin/households/show.html",
        fund=fund,
        household=household,
        budgets=budgets,
        topup_form=form,
        reissue_form=ReissueForm(formdata=None),
        error=error,
    ), status


@bp.get("/<int:household_id>")
@require_role(*auth.EVERYONE)
def show(fund_id: int, household_id: int):  # type: ignore[no-untyped-def]
    """Show the household, its children's budgets and the actions staff may take."""
    fund = auth.tenant_fund(db.session, fund_id)
    household = _household(fund, household_id)
    return _page(fund, household, _topup_form(household, formdata=None))


@bp.post("/<int:household_id>/topup")
@require_role(*auth.ADMINISTRATOR)
def topup(fund_id: int, household_id: int):  # type: ignore[no-untyped-def]
    """Add money to one child's budget in the middle of the year (a ledger entry, audited)."""
    fund = auth.tenant_fund(db.session, fund_id)
    household = _household(fund, household_id)
    form = _topup_form(household)
    if not form.validate_on_submit():
        return _page(fund, household, form, status=400)
    with db.refusing() as refused:
        cents = parse_amount(form.amount.data or "")
        issuance.topup(
            db.session, fund, form.child.data or "", cents, actor=auth.me().actor, ip=_ip()
        )
    if err := refused.error:
        return _page(fund, household, form, error=err.message, status=err.status)
    flash(
        _(
            "%(amount)s added to the budget of %(child)s.",
            amount=format_euro(cents, current_language()),
            child=form.child.data,
        )
    )
    return redirect(url_for(".show", fund_id=fund.id, household_id=household.id))


def _ip() -> str | None:
    return request.remote_addr
