"""Bank files and reconciliation (``/admin/settlement/<fund>/bank``): upload, compare, resolve."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin import auth
from admin.reports import exports
from admin.reports import services as reports
from admin.settlement import bankimport, bankreasons, reconcile
from admin.settlement.forms import BankFileForm, ResolveForm
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.money import format_euro

bp = Blueprint(
    "admin_bank",
    __name__,
    url_prefix="/admin/settlement/<int:fund_id>/bank",
    template_folder="../templates",
)

OUTCOMES = {
    "unmatched": _l("matches none of our payouts"),
    "booked_but_cancelled": _l("booked by the bank, but the batch was cancelled here"),
    "booked_after_return": _l("booked by the bank after it returned the payout"),
    "return_on_cancelled": _l("returned by the bank, but the batch was cancelled here"),
    "return_on_draft": _l("returned by the bank, but the batch was never exported"),
    "credit_without_return": _l("money back from the bank without a return reason"),
}


@bp.route("/upload", methods=["POST"])
@require_role(*auth.FINANCE)
def upload(fund_id: int):  # type: ignore[no-untyped-def]
    """Import a bank file (pain.002, camt.053, camt.054) for the municipality."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = BankFileForm()
    if not form.validate_on_submit():
        abort(400)
    data = form.file.data.read()
    record, new = bankimport.import_file(
        db.session,
        fund.municipality,
        data,
        filename=form.file.data.filename or "bank.xml",
        actor=auth.me().actor,
        ip=request.remote_addr,
    )
    if new:
        done = ", ".join(f"{k} {v}" for k, v in record.summary.items())
        flash(_("Bank file %(schema)s imported: %(done)s.", schema=record.schema, done=done))
    else:
        flash(_("This file was imported before; nothing changed."))
    return redirect(url_for(".reconcile", fund_id=fund.id))


@bp.get("", endpoint="reconcile")
@require_role(*auth.EVERYONE)
def reconcile_page(fund_id: int):  # type: ignore[no-untyped-def]
    """Show what the ledger paid, what the bank booked, and every difference."""
    fund = auth.tenant_fund(db.session, fund_id)
    rec = reconcile.reconcile(db.session, fund, today=reports.today())
    return render_template(
        "admin/settlement/bank.html",
        fund=fund,
        rec=rec,
        form=ResolveForm(),
        euro=lambda cents: format_euro(int(cents), current_language()),
        outcome=lambda line: OUTCOMES.get(line.detail or line.outcome, line.outcome),
        reason=lambda code: str(bankreasons.reason_text(code)),
    )


@bp.get("/reconciliation.<fmt>")
@require_role(*auth.EVERYONE)
def export(fund_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """Download the reconciliation as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    fund = auth.tenant_fund(db.session, fund_id)
    tables = reconcile.tables(reconcile.reconcile(db.session, fund, today=reports.today()))
    body = exports.csv_bytes(tables) if fmt == "csv" else exports.xlsx_bytes(tables)
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"reconciliation-fund-{fund.id}.{fmt}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/lines/<int:line_id>/resolve")
@require_role(*auth.FINANCE)
def resolve(fund_id: int, line_id: int):  # type: ignore[no-untyped-def]
    """Mark a difference as resolved, with what was done about it."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        abort(400)
    reconcile.resolve_line(
        db.session,
        fund,
        line_id,
        note=form.note.data or "",
        actor=auth.me().actor,
        ip=request.remote_addr,
    )
    flash(_("The line is marked as resolved."))
    return redirect(url_for(".reconcile", fund_id=fund.id))
