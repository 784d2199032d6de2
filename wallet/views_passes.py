"""Pages of the pass for families: block a lost pass, order one, and the public balance page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from kindpakket.passwords import verify_secret
from kindpakket.security import login_limits
from ledger import store
from wallet import auth, passes
from wallet.forms import ButtonForm
from wallet.models import Child, Voucher
from wallet.passcode import format_number
from wallet.passmodels import Pass

bp = Blueprint("wallet_passes", __name__, template_folder="templates")


class BalanceForm(FlaskForm):
    """Pass number and PIN."""

    number = StringField(
        _l("Pass number (12 digits, on the front of the pass)"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    pin = PasswordField(
        _l("PIN"),
        validators=[DataRequired(), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def _is_family() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "role", "") == auth.ROLE)


@bp.app_context_processor
def _family_passes() -> dict[str, Any]:
    """Let the wallet's home page list the household's passes (``family_passes()``)."""

    def family_passes() -> list[dict[str, Any]]:
        if not _is_family():
            return []
        household = auth.household()
        return [
            {"id": p.id, "number": format_number(p.number), "status": p.status}
            for p in passes.household_passes(db.session, household.id)
            if p.status != "replaced"
        ]

    def pass_requested() -> bool:
        if not _is_family():
            return False
        fund_id = auth.household().fund_id
        mine = auth.household().id
        return any(r.household_id == mine for r in passes.open_requests(db.session, fund_id))

    return {"family_passes": family_passes, "pass_requested": pass_requested}


def _check_form() -> None:
    if not ButtonForm().validate_on_submit():
        raise DomainError("csrf", _l("The page was open too long. Try again."))


@bp.post("/wallet/passes/<int:pass_id>/block")
@require_role(auth.ROLE)
def block(pass_id: int):  # type: ignore[no-untyped-def]
    """Block a lost pass at once (the municipality sends a new one)."""
    _check_form()
    household = auth.household()
    row = passes.household_pass(db.session, household, pass_id)
    passes.block_pass(db.session, row, reason="lost", actor=auth.me().actor)
    flash(_("The pass is blocked. Ask the municipality for a new pass."))
    return redirect(url_for("wallet.index"))


@bp.post("/wallet/passes/request")
@require_role(auth.ROLE)
def order():  # type: ignore[no-untyped-def]
    """Ask the municipality for a pass."""
    _check_form()
    try:
        passes.request_pass(db.session, auth.household(), actor=auth.me().actor)
    except DomainError as err:
        flash(str(err.message))
    else:
        flash(_("Thank you. The municipality will send the pass by post."))
    return redirect(url_for("wallet.index"))


def _number_key() -> str:
    """The per-pass limit key of the balance page: the typed digits."""
    return "".join(ch for ch in request.form.get("number", "") if ch.isdigit())[:12]


@bp.route("/pass", methods=["GET", "POST"])
@login_limits("pass", _number_key)
def balance():  # type: ignore[no-untyped-def]
    """The public balance page of a pass: pass number and PIN, then each budget left."""
    form = BalanceForm()
    error: dict[str, str] | None = None
    budgets: list[dict[str, Any]] | None = None
    status = 200
    if form.validate_on_submit():
        row = passes.pass_by_number(db.session, form.number.data or "")
        try:
            budgets = _budgets(row, form.pin.data or "")
        except DomainError as err:
            error, status = {"code": err.code, "message": str(err.message)}, err.status
    elif request.method == "POST":
        status = 400
    return render_template(
        "wallet/pass_balance.html", form=form, error=error, budgets=budgets
    ), status


def _budgets(row: Pass | None, pin: str) -> list[dict[str, Any]]:
    """Check the PIN (counted towards the pass's lockout) and return the budgets left."""
    wrong = DomainError("pass_or_pin_wrong", _l("The pass number or the PIN is not right."))
    if row is None:
        verify_secret(None, pin)  # same time as a known pass: do not reveal which
        raise wrong
    if row.status != "active":
        raise DomainError("pass_blocked", _l("Pass blocked — call the municipality."))
    if not passes.pin_matches(db.session, row, pin):
        passes.record_pin_failure(db.session, row.id, actor="anonymous")
        raise wrong
    passes.reset_pin_failures(db.session, row)
    query = db.session.query(Voucher, Child).join(Child, Child.id == Voucher.child_id)
    if row.child_id is not None:
        query = query.filter(Voucher.child_id == row.child_id)
    else:
        query = query.filter(Child.household_id == row.household_id, Voucher.fund_id == row.fund_id)
    found = query.order_by(Child.birth_date, Child.id).all()
    left = store.balances(db.session, [v.account for v, _ in found])
    lang = current_language()
    return [
        {"name": c.first_name, "balance": format_euro(left[v.account], lang), "status": v.status}
        for v, c in found
    ]
