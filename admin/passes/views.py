"""Pass pages of the municipality: print in bulk or per household, block, replace, PINs."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from admin import auth
from admin.passes import orders as passorders
from admin.passes.forms import ButtonForm, PrintForm, SettingForm
from kindpakket.appkeys import app_keyring
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from wallet import passes
from wallet.models import Fund, Household
from wallet.passcode import format_number
from wallet.passmodels import Pass

bp = Blueprint("admin_passes", __name__, url_prefix="/admin/passes", template_folder="../templates")

WAYS = {
    "phone": _l("phone"),
    "pass": _l("pass"),
    "both": _l("phone and pass"),
    "none": _l("not yet"),
}
STATUSES = {
    "active": _l("active"),
    "blocked": _l("blocked"),
    "replaced": _l("replaced"),
}
REASONS = {"lost": _l("lost"), "pin": _l("3 wrong PINs"), "replaced": _l("replaced")}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "way_label": lambda way: WAYS.get(way, way),
        "status_label": lambda s: STATUSES.get(s, s),
        "reason_label": lambda r: REASONS.get(r, r or ""),
        "pass_number": format_number,
        "is_administrator": getattr(auth.me(), "role", None) == "administrator",
    }


def _fund(fund_id: int) -> Fund:
    return auth.tenant_fund(db.session, fund_id)


def _household(fund: Fund, household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.fund_id != fund.id:
        abort(404)
    return household


def _pass(fund: Fund, pass_id: int) -> Pass:
    row = db.session.get(Pass, pass_id)
    if row is None or row.fund_id != fund.id:
        abort(404)
    return row


def _download(data: bytes, filename: str, mimetype: str = "application/pdf") -> Response:
    """Answer a download that is never cached (PIN letters hold PINs)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _batch_download(batch: passorders.PassBatch, name: str) -> Response:
    """The cards alone, or cards and PIN letters together in a ZIP file."""
    if batch.pins_pdf is None:
        return _download(batch.cards_pdf, f"{name}.pdf")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.pdf", batch.cards_pdf)
        archive.writestr(f"{name}-pincodes.pdf", batch.pins_pdf)
    return _download(buffer.getvalue(), f"{name}.zip", "application/zip")


@bp.get("/<int:fund_id>")
@require_role(*auth.EVERYONE)
def index(fund_id: int):  # type: ignore[no-untyped-def]
    """Households and how they pay, their passes, open requests; print and setting forms."""
    fund = _fund(fund_id)
    rows = passes.usage(db.session, fund.id)
    by_household: dict[int, list[Pass]] = {}
    for row in db.session.query(Pass).filter(Pass.fund_id == fund.id).order_by(Pass.id.desc()):
        by_household.setdefault(row.household_id, []).append(row)
    counts = {way: sum(1 for r in rows if r["way"] == way) for way in WAYS}
    return render_template(
        "admin/passes/index.html",
        fund=fund,
        rows=rows,
        passes_of=by_household,
        counts=counts,
        requests=len(passes.open_requests(db.session, fund.id)),
        per=passes.pass_per(db.session, fund.id),
        print_form=PrintForm(),
        setting_form=SettingForm(per=passes.pass_per(db.session, fund.id)),
        button=ButtonForm(),
    )


@bp.post("/<int:fund_id>/setting")
@require_role(*auth.ADMINISTRATOR)
def setting(fund_id: int):  # type: ignore[no-untyped-def]
    """Choose one pass per household or per child."""
    fund = _fund(fund_id)
    form = SettingForm()
    if not form.validate_on_submit():
        abort(400)
    passes.set_pass_per(db.session, fund, form.per.data or "", actor=auth.me().actor)
    flash(_("Saved."), "success")
    return redirect(url_for(".index", fund_id=fund.id))


@bp.post("/<int:fund_id>/print")
@bp.post("/<int:fund_id>/households/<int:household_id>/print")
@require_role(*auth.ADMINISTRATOR)
def print_passes(fund_id: int, household_id: int | None = None):  # type: ignore[no-untyped-def]
    """Issue and download passes: every household without one, or one household."""
    fund = _fund(fund_id)
    form = PrintForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [_household(fund, household_id).id] if household_id is not None else None
    batch = passorders.print_passes(
        db.session,
        fund,
        app_keyring(),
        actor=auth.me().actor,
        household_ids=ids,
        layout=form.layout.data or "a4",
        language=form.language.data or "nl",
    )
    if batch is None:
        flash(_("Every household already has a pass: nothing to print."), "info")
        return redirect(url_for(".index", fund_id=fund.id))
    return _batch_download(batch, f"passes-{fund.id}")


@bp.post("/<int:fund_id>/passes/<int:pass_id>/block")
@require_role(*auth.ADMINISTRATOR)
def block(fund_id: int, pass_id: int):  # type: ignore[no-untyped-def]
    """Block a lost pass at once."""
    fund = _fund(fund_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        passes.block_pass(db.session, _pass(fund, pass_id), reason="lost", actor=auth.me().actor)
    except DomainError as err:
        flash(str(err.message), "error")
    else:
        flash(_("The pass is blocked. Payments with it are refused from now on."), "success")
    return redirect(url_for(".index", fund_id=fund.id))


@bp.post("/<int:fund_id>/passes/<int:pass_id>/replace")
@require_role(*auth.ADMINISTRATOR)
def replace(fund_id: int, pass_id: int):  # type: ignore[no-untyped-def]
    """Replace a pass (the old one is refused at once) and download the new card."""
    fund = _fund(fund_id)
    form = PrintForm()
    if not form.validate_on_submit():
        abort(400)
    batch = passorders.replace(
        db.session,
        _pass(fund, pass_id),
        app_keyring(),
        actor=auth.me().actor,
        layout=form.layout.data or "card",
        language=form.language.data or "nl",
    )
    return _batch_download(batch, f"pass-{pass_id}-new")


@bp.post("/<int:fund_id>/households/<int:household_id>/pin")
@require_role(*auth.ADMINISTRATOR)
def pin_letter(fund_id: int, household_id: int):  # type: ignore[no-untyped-def]
    """Issue a new pass PIN (unblocks passes blocked by wrong PINs) and download the letter."""
    fund = _fund(fund_id)
    form = PrintForm()
    if not form.validate_on_submit():
        abort(400)
    household = _household(fund, household_id)
    pdf = passorders.new_pin_letter(
        db.session,
        household,
        actor=auth.me().actor,
        language=form.language.data or "nl",
        keyring=app_keyring(),
    )
    name = secure_filename(household.reference) or str(household.id)
    return _download(pdf, f"pincode-{name}.pdf")
