"""Settlement pages (``/admin/settlement``): batches per fund, create, download, confirm, cancel."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin import auth
from admin.models import SettlementBatch
from admin.reports import services as reports
from admin.settlement import bankreasons
from admin.settlement import services as settlement
from admin.settlement.forms import ActionForm, BankFileForm, CancelForm, ConfirmForm, SettleForm
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from kindpakket.time import format_day
from merchant.models import Shop

bp = Blueprint(
    "admin_settlement", __name__, url_prefix="/admin/settlement", template_folder="../templates"
)

STATES = {
    "draft": _l("draft"),
    "exported": _l("exported"),
    "confirmed": _l("confirmed"),
    "cancelled": _l("cancelled"),
}
SKIP_REASONS = {
    "invalid_iban": _l("invalid IBAN"),
    "invalid_bic": _l("invalid BIC"),
    "invalid_name": _l("name cannot be used in a bank transfer"),
    "negative_balance": _l("owes money back: carried forward"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "euro": lambda cents: format_euro(int(cents), current_language()),
        "state_name": lambda s: STATES.get(s, s),
        "skip_reason": lambda c: SKIP_REASONS.get(c, c),
        "execution_day_name": format_day,
        "return_reason": lambda code: str(bankreasons.reason_text(code)),
    }


def moved_note(day: date) -> str:
    """Return the sentence saying the execution date was moved to ``day``."""
    return _("Execution date moved to %(day)s, the next TARGET2 business day.", day=format_day(day))


def _ip() -> str | None:
    return request.remote_addr


def _batch(fund_id: int, batch_id: int) -> tuple[Any, SettlementBatch]:
    """Return the fund (of this municipality) and its batch, else 404."""
    fund = auth.tenant_fund(db.session, fund_id)
    batch = db.session.get(SettlementBatch, batch_id)
    if batch is None or batch.fund_id != fund.id:
        abort(404)
    return fund, batch


@bp.route("/<int:fund_id>", methods=["GET", "POST"])
@require_role(*auth.FINANCE)
def index(fund_id: int):  # type: ignore[no-untyped-def]
    """List a fund's batches and settle up to a day."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = SettleForm()
    if request.method == "GET":
        form.until.data = reports.today()
        form.execution_date.data = settlement.execution_day(reports.today())
    error, skipped, status = None, [], 200
    if form.validate_on_submit():
        with db.refusing() as refused:
            batch = settlement.settle(
                db.session,
                fund,
                until=form.until.data,
                execution_date=form.execution_date.data,
                version=form.version.data or "03",
                actor=auth.me().actor,
                ip=_ip(),
            )
            settlement.checkpoint(
                db.session, current_app.config["KEY_DIR"], current_app.config["LEDGER_ORIGIN"]
            )
        if err := refused.error:
            error, skipped, status = err, err.details.get("skipped", []), err.status
        else:
            flash(_("Batch %(id)s made: check it, then download the SEPA file.", id=batch.id))
            if batch.execution_date != form.execution_date.data:
                flash(moved_note(batch.execution_date))
            return redirect(url_for(".batch", fund_id=fund.id, batch_id=batch.id))
    elif form.errors:
        status = 400
    return render_template(
        "admin/settlement/index.html",
        fund=fund,
        form=form,
        error=error,
        skipped=skipped,
        batches=settlement.batches(db.session, fund),
        bank_form=BankFileForm(),
    ), status


@bp.get("/<int:fund_id>/batches/<int:batch_id>")
@require_role(*auth.FINANCE)
def batch(fund_id: int, batch_id: int):  # type: ignore[no-untyped-def]
    """Show a batch: payouts, shops left out, and what can be done next."""
    fund, b = _batch(fund_id, batch_id)
    shops = {
        s.id: s for s in db.session.query(Shop).filter(Shop.id.in_([p.shop_id for p in b.payouts]))
    }
    return render_template(
        "admin/settlement/batch.html",
        fund=fund,
        batch=b,
        shops=shops,
        form=ActionForm(),
        confirm_form=ConfirmForm(),
        cancel_form=CancelForm(),
        ledger_total=settlement.ledger_total(db.session, b),
    )


@bp.post("/<int:fund_id>/batches/<int:batch_id>/download")
@require_role(*auth.FINANCE)
def download(fund_id: int, batch_id: int):  # type: ignore[no-untyped-def]
    """Download the batch's SEPA file (a draft becomes exported)."""
    _, b = _batch(fund_id, batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    data = settlement.export_file(db.session, b, actor=auth.me().actor, ip=_ip())
    return Response(
        data,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{b.message_id}.xml"'},
    )


def _action(fund_id: int, batch_id: int, action: Any, done: str) -> Any:
    _, b = _batch(fund_id, batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    action(db.session, b, actor=auth.me().actor, ip=_ip())
    flash(done)
    return redirect(url_for(".batch", fund_id=fund_id, batch_id=batch_id))


@bp.post("/<int:fund_id>/batches/<int:batch_id>/confirm")
@require_role(*auth.FINANCE)
def confirm(fund_id: int, batch_id: int):  # type: ignore[no-untyped-def]
    """Record by hand, with a reason, that the bank has paid the batch."""
    b = _batch(fund_id, batch_id)[1]
    # The button shows on a draft too: downloading does not reload the page (no stale page).
    if b.status == "draft":
        flash(_("Download the SEPA file and give it to the bank first; then confirm."), "error")
        return redirect(url_for(".batch", fund_id=fund_id, batch_id=batch_id))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    settlement.confirm(db.session, b, actor=auth.me().actor, ip=_ip(), reason=form.reason.data)
    flash(_("The batch is confirmed as paid."))
    return redirect(url_for(".batch", fund_id=fund_id, batch_id=batch_id))


@bp.post("/<int:fund_id>/batches/<int:batch_id>/cancel")
@require_role(*auth.FINANCE)
def cancel(fund_id: int, batch_id: int):  # type: ignore[no-untyped-def]
    """Cancel the batch (an exported one with the bank's rejection): money back to the shops."""
    b = _batch(fund_id, batch_id)[1]
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    # A refusal (no bank rejection, wrong state) is shown by the error page with its status.
    settlement.cancel(
        db.session, b, actor=auth.me().actor, ip=_ip(), bank_rejection=form.bank_rejection.data
    )
    flash(_("The batch is cancelled. The amounts are open again for the shops."))
    return redirect(url_for(".batch", fund_id=fund_id, batch_id=batch_id))
