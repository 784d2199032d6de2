"""Fund pages of the municipality: create, overview, CSV import with preview, letters."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
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
from werkzeug.utils import secure_filename

from admin import auth
from admin.funds import csvimport, import_text, importer, issuance
from admin.funds import letters as letter_pdf
from admin.funds import services as funds
from admin.funds.forms import ConfirmForm, FundForm, LettersForm, ReissueForm, UploadForm
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.money import format_euro, parse_amount
from merchant.services import CATEGORIES
from wallet.models import Household, Municipality

bp = Blueprint("admin_funds", __name__, url_prefix="/admin/funds", template_folder="../templates")

PREVIEW_ROWS = 100  # changes and errors listed on the preview page
_SHA = re.compile(r"^[0-9a-f]{64}$")
CHANGE_LABELS = {
    "new_household": _l("new household"),
    "updated_household": _l("household details change"),
    "new_child": _l("new child"),
    "updated_child": _l("child details change"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    """Offer money and date formatting in the current language to the templates."""
    lang = current_language()
    return {
        "euro": lambda cents: format_euro(int(cents), lang),
        "day": lambda d: letter_pdf.format_date(d, lang),
        "is_administrator": getattr(auth.me(), "role", None) == "administrator",
        "column_label": lambda key: csvimport.column_name(key, lang),
        "import_message": import_text.message,
        "change_label": lambda kind: CHANGE_LABELS.get(kind, kind),
        "category_label": lambda key: CATEGORIES.get(key, key),
    }


def _ip() -> str | None:
    """Return the client address recorded in audit events."""
    return request.remote_addr


@bp.route("/new", methods=["GET", "POST"])
@require_role(*auth.ADMINISTRATOR)
def new():  # type: ignore[no-untyped-def]
    """Create a fund."""
    form = FundForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            fund = _create(form)
        if err := refused.error:
            error = err.message
        else:
            flash(_("The fund has been created."))
            return redirect(url_for(".show", fund_id=fund.id))
    status = 400 if (error or form.errors) else 200
    return render_template("admin/funds/new.html", form=form, error=error), status


def _create(form: FundForm) -> Any:
    """Create the fund from a validated form (raises DomainError)."""
    municipality = db.session.get(Municipality, auth.me().municipality_id)
    bands = [
        funds.parse_age_band(line)
        for line in (form.age_bands.data or "").splitlines()
        if line.strip()
    ]
    deposit = (form.deposit.data or "").strip()
    assert form.start.data and form.end.data  # DataRequired
    return funds.create_fund(
        db.session,
        municipality,  # type: ignore[arg-type]
        name=form.name.data or "",
        start=form.start.data,
        end=form.end.data,
        reference_date=form.reference_date.data,
        budget_cents=parse_amount(form.budget.data or ""),
        deposit_cents=parse_amount(deposit) if deposit else 0,
        age_bands=bands,
        max_age=form.max_age.data if form.max_age.data is not None else 17,
        categories=form.categories.data or [],
        pro_rata=bool(form.pro_rata.data),
        show_balance_to_shop=bool(form.show_balance_to_shop.data),
        actor=auth.me().actor,
        ip=_ip(),
    )


@bp.get("/<int:fund_id>")
@require_role(*auth.EVERYONE)
def show(fund_id: int):  # type: ignore[no-untyped-def]
    """Show a fund: households, children, money issued, imports; find a household."""
    fund = auth.tenant_fund(db.session, fund_id)
    wanted = request.args.get("household", "").strip()[:64]
    household = funds.find_household(db.session, fund, wanted) if wanted else None
    return render_template(
        "admin/funds/show.html",
        fund=fund,
        o=funds.overview(db.session, fund),
        wanted=wanted,
        household=household,
        reissue_form=ReissueForm(),
    )


@bp.post("/<int:fund_id>/households/<int:household_id>/code")
@require_role(*auth.ADMINISTRATOR)
def reissue(fund_id: int, household_id: int):  # type: ignore[no-untyped-def]
    """Give one household a new activation code and download its letter."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = ReissueForm()
    household = db.session.get(Household, household_id)
    if household is None or household.fund_id != fund.id or not form.validate_on_submit():
        abort(404)
    batch = issuance.print_letters(
        db.session,
        fund,
        [household],
        actor=auth.me().actor,
        base_url=current_app.config["BASE_URL"],
        language=form.language.data or "nl",
        ip=_ip(),
    )
    assert batch is not None  # one household given; the services recorded the audit events
    return _pdf(batch.pdf, f"letter-{secure_filename(household.reference) or household.id}.pdf")


def _pdf(data: bytes, filename: str) -> Response:
    """Answer a PDF download that is never cached (it holds activation codes)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _upload_dir() -> Path:
    """Return the folder where uploaded files wait between preview and confirm."""
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(fund_id: int, sha: str) -> Path:
    """Return the path of an uploaded file kept for confirmation."""
    if not _SHA.match(sha):
        abort(400)
    return _upload_dir() / f"{fund_id}-{sha}.csv"


@bp.route("/<int:fund_id>/import", methods=["GET", "POST"])
@require_role(*auth.EVERYONE)
def import_page(fund_id: int):  # type: ignore[no-untyped-def]
    """Upload a CSV file of eligible children and preview what the import will change."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = UploadForm()
    context: dict[str, Any] = {"fund": fund, "form": form, "columns": csvimport.COLUMNS}
    if request.method == "GET":
        return render_template("admin/funds/import.html", **context)
    if auth.me().role != "administrator":
        raise DomainError("forbidden", _l("You are not allowed to do this."))
    if not form.validate_on_submit():
        return render_template("admin/funds/import.html", **context), 400
    data = form.file.data.read()
    filename = secure_filename(form.file.data.filename or "") or "import.csv"
    summary = importer.import_rows(db.session, fund, data, actor=auth.me().actor, dry_run=True)
    if summary.ok:
        _stored(fund.id, summary.sha256).write_bytes(data)
    auth.audit(
        db.session,
        "fund.import_previewed",
        subject=f"fund:{fund.id}",
        after={"sha256": summary.sha256, "filename": filename, "errors": len(summary.errors)},
    )
    confirm = ConfirmForm(formdata=None, sha256=summary.sha256, filename=filename)
    return render_template(
        "admin/funds/preview.html",
        **context,
        summary=summary,
        confirm=confirm,
        filename=filename,
        limit=PREVIEW_ROWS,
    ), (200 if summary.ok else 422)


@bp.post("/<int:fund_id>/import/confirm")
@require_role(*auth.ADMINISTRATOR)
def import_confirm(fund_id: int):  # type: ignore[no-untyped-def]
    """Import exactly the file that was previewed (found again by its SHA-256)."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    path = _stored(fund.id, form.sha256.data or "")
    data = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(data).hexdigest() != form.sha256.data:
        flash(_("The checked file is no longer available. Please upload it again."), "error")
        return redirect(url_for(".import_page", fund_id=fund.id))
    summary = importer.import_rows(
        db.session,
        fund,
        data,
        actor=auth.me().actor,
        filename=form.filename.data or "import.csv",
        tenant_ip=_ip(),
    )
    if not summary.imported:  # refused: the import wrote nothing
        flash(_("The import was refused because the data changed. Check the file again."), "error")
        return redirect(url_for(".import_page", fund_id=fund.id))
    path.unlink(missing_ok=True)
    flash(
        _(
            "Imported: %(households)d households, %(children)d new children, %(amount)s issued.",
            households=summary.households,
            children=summary.children_new,
            amount=format_euro(summary.issued_cents, current_language()),
        )
    )
    return redirect(url_for(".show", fund_id=fund.id))


@bp.route("/<int:fund_id>/letters", methods=["GET", "POST"])
@require_role(*auth.EVERYONE)
def letters(fund_id: int):  # type: ignore[no-untyped-def]
    """Download activation letters as one PDF (issues new codes for those households)."""
    fund = auth.tenant_fund(db.session, fund_id)
    form = LettersForm()
    pending = len(issuance.households_needing_letters(db.session, fund))
    if request.method == "POST":
        if auth.me().role != "administrator":
            raise DomainError("forbidden", _l("You are not allowed to do this."))
        if form.validate_on_submit():
            households = issuance.households_needing_letters(
                db.session, fund, all_households=form.scope.data == "all"
            )
            batch = issuance.print_letters(
                db.session,
                fund,
                households,
                actor=auth.me().actor,
                base_url=current_app.config["BASE_URL"],
                language=form.language.data or "nl",
                ip=_ip(),
            )
            if batch is not None:
                return _pdf(batch.pdf, f"letters-fund-{fund.id}-{form.language.data}.pdf")
            flash(_("No household needs a letter."))
    return render_template("admin/funds/letters.html", fund=fund, form=form, pending=pending)
