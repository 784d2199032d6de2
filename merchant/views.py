"""Pages of the merchant package (thin: services do the work)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from kindpakket import staff_pages
from kindpakket import time as clock
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.iban import format_iban
from kindpakket.money import format_euro, parse_amount
from kindpakket.security import limiter, scanner_page
from merchant import auth, hours, refunds, refusals, reports, services
from merchant.forms import (
    REQUIRED,
    ApplyForm,
    ButtonForm,
    HoursForm,
    IbanForm,
    PeriodForm,
    RefundForm,
    StaffForm,
)
from merchant.models import Redemption, Shop, ShopApproval
from wallet.models import Fund

bp = Blueprint(
    "merchant",
    __name__,
    url_prefix="/merchant",
    template_folder="templates",
    static_folder="static",
)
# /merchant/login, /merchant/logout and /merchant/password.
staff_pages.register(
    bp, auth.ShopPrincipal, budget="shop", landing="merchant.scan", required=REQUIRED
)


@bp.app_template_filter("merchant_euro")
def _euro(cents: int) -> str:
    return format_euro(int(cents), current_language())


@bp.app_template_filter("hhmm")
def _hhmm(minute: int) -> str:
    return hours.hhmm(int(minute))


@bp.app_template_global("weekday_names")
def _weekday_names(title: bool = True) -> list[str]:
    """Return the weekday names, Monday first, in the page's language."""
    return hours.day_names(title=title)


@bp.app_template_global("opening_days")
def _opening_days() -> list[tuple[str, str]]:
    """Return (field prefix, name) of each weekday, Monday first, for the hours fields."""
    return list(zip(hours.DAYS, hours.day_names(), strict=True))


@bp.route("/apply", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def apply():  # type: ignore[no-untyped-def]
    """Let a shop apply to join."""
    form = ApplyForm()
    error: Any = None
    problems: dict[str, Any] = {}
    if form.validate_on_submit():
        fields = services.Application.__dataclass_fields__
        data = {k: (form[k].data or "") for k in fields if k != "hours"}
        with db.refusing() as refused:
            application = services.Application(**data, hours=form.week())
            services.apply_shop(db.session, application, ip=request.remote_addr)
        if err := refused.error:
            error, problems = _refusal(err)
        else:
            flash(_("Thank you. The municipality checks your application; then you can log in."))
            return redirect(url_for("merchant.login"))
    status = 400 if (error or problems or form.errors) else 200
    return render_template("merchant/apply.html", form=form, error=error, problems=problems), status


def _refusal(err: DomainError) -> tuple[Any, dict[str, Any]]:
    """Return (message, {day or "note": message}): opening hours are shown per day."""
    if isinstance(err, hours.HoursRefused):
        return None, err.messages()
    return err.message, {}


@bp.get("/")
@require_role(*auth.ROLES)
def index():  # type: ignore[no-untyped-def]
    """Show the shop, its approvals per fund and today's totals."""
    shop = db.session.get(Shop, auth.me().shop_id)
    approvals = db.session.execute(
        select(ShopApproval, Fund)
        .join(Fund, Fund.id == ShopApproval.fund_id)
        .where(ShopApproval.shop_id == auth.me().shop_id)
        .order_by(Fund.period_start.desc())
    ).all()
    today = clock.today()  # the shop's day is Amsterdam's, not the server's
    return render_template(
        "merchant/index.html",
        shop=shop,
        week=services.week_of(db.session, shop) if shop else None,
        approvals=approvals,
        iban=format_iban(shop.iban) if shop else "",
        totals=reports.totals(db.session, auth.me().shop_id, today, today),
    )


@bp.get("/scan")
@scanner_page
@require_role(*auth.ROLES)
def scan():  # type: ignore[no-untyped-def]
    """Show the scanner: camera or typed code, amount, result."""
    messages = {code: str(text) for code, text in refusals.MESSAGES.items()}
    approved = db.session.execute(
        select(ShopApproval.id).where(
            ShopApproval.shop_id == auth.me().shop_id, ShopApproval.status == "approved"
        )
    ).first()
    return render_template(
        "merchant/scan.html",
        messages=messages,
        client=_client_texts(),
        not_approved=approved is None,
    )


def _client_texts() -> dict[str, str]:
    """Return the texts the scanner script shows itself, in the page's language."""
    return {
        "paid": _("Paid"),
        "checking": _("Checking the code…"),
        "sending": _("Payment is being sent…"),
        "network": _("No connection. The payment was not confirmed. Try again."),
        "crypto_unavailable": _("This browser cannot check the code; the server will check it."),
        "code_ok": _("Code is valid."),
        "title_checked": _("Code is valid. Enter the amount"),
        "title_unchecked": _("Enter the amount. The code is checked when you confirm."),
        "code": _("Error code"),
        "left": _("Budget left"),
        "receipt": _("Receipt number"),
        "amount": _("Amount"),
        "refused": _("Not paid"),
        "next_customer": _("Next customer"),
        "scan_again": _("Start again"),
        "code_digits": _("A payment code has 8 digits."),
    }


@bp.get("/payments")
@require_role(*auth.ROLES)
def payments():  # type: ignore[no-untyped-def]
    """List the shop's payments and refunds in a period, with totals."""
    form = PeriodForm(request.args)
    form.validate()
    start, end = form.start.data, form.end.data
    shop_id = auth.me().shop_id
    return render_template(
        "merchant/payments.html",
        form=form,
        lines=reports.lines(db.session, shop_id, start, end),
        totals=reports.totals(db.session, shop_id, start, end),
        csv_url=url_for("merchant.payments_csv", **{k: v for k, v in request.args.items()}),
    )


@bp.get("/payments.csv")
@require_role(*auth.ROLES)
def payments_csv() -> Response:
    """Download the period's payments and refunds as CSV (semicolons, UTF-8 with BOM)."""
    form = PeriodForm(request.args)
    form.validate()
    labels = {
        "date": _("Date"),
        "kind": _("Kind"),
        "amount": _("Amount (EUR)"),
        "receipt": _("Receipt number"),
        "cashier": _("Cashier"),
        "fund": _("Fund"),
        "payment": _("Payment"),
        "refund": _("Refund"),
    }
    rows = reports.lines(db.session, auth.me().shop_id, form.start.data, form.end.data)
    return Response(
        reports.csv_bytes(rows, labels),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="kindpakket-betalingen.csv"'},
    )


@bp.route("/payments/<int:redemption_id>/refund", methods=["GET", "POST"])
@require_role(*auth.ROLES)
def refund(redemption_id: int):  # type: ignore[no-untyped-def]
    """Refund (part of) a payment of this shop."""
    row = db.session.get(Redemption, redemption_id)
    if row is None or row.shop_id != auth.me().shop_id:
        abort(404)
    form = RefundForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            made = refunds.refund(
                db.session,
                cashier=auth.current_shop_user(db.session),
                redemption_id=row.id,
                amount_cents=parse_amount(form.amount.data or ""),
                reason=form.reason.data or "",
                idempotency_key=request.form.get("idempotency_key"),
            )
        if err := refused.error:
            error = err.message
        else:
            flash(
                _(
                    "Refunded %(amount)s. Receipt number %(receipt)s.",
                    amount=format_euro(made.amount_cents, current_language()),
                    receipt=made.receipt_number,
                )
            )
            return redirect(url_for("merchant.payments"))
    status = 400 if (error or form.errors) else 200
    key = request.form.get("idempotency_key") or secrets.token_urlsafe(16)
    return render_template("merchant/refund.html", form=form, row=row, error=error, key=key), status


@bp.route("/staff", methods=["GET", "POST"])
@require_role(*auth.OWNER)
def staff():  # type: ignore[no-untyped-def]
    """Show the shop's logins and add a cashier (owner only)."""
    form = StaffForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            services.add_staff(
                db.session,
                auth.current_shop_user(db.session),
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
            )
        if err := refused.error:
            error = err.message
        else:
            flash(_("Cashier added."))
            return redirect(url_for("merchant.staff"))
    users = services.staff(db.session, auth.me().shop_id)
    status = 400 if (error or form.errors) else 200
    return render_template(
        "merchant/staff.html", form=form, users=users, error=error, button=ButtonForm()
    ), status


@bp.post("/staff/<int:user_id>/<any(activate, deactivate):action>")
@require_role(*auth.OWNER)
def staff_active(user_id: int, action: str):  # type: ignore[no-untyped-def]
    """Switch a cashier off or on again (owner only)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.set_staff_active(
        db.session, auth.current_shop_user(db.session), user_id, active=action == "activate"
    )
    flash(_("Saved."))
    return redirect(url_for("merchant.staff"))


@bp.route("/hours", methods=["GET", "POST"])
@require_role(*auth.OWNER)
def opening_hours():  # type: ignore[no-untyped-def]
    """Change the shop's opening hours and note, shown on the public shop list (owner only)."""
    shop = db.session.get(Shop, auth.me().shop_id)
    assert shop is not None  # the login's shop
    form = HoursForm()
    error: Any = None
    problems: dict[str, Any] = {}
    if form.validate_on_submit():
        with db.refusing() as refused:
            services.change_hours(
                db.session, auth.current_shop_user(db.session), form.week(), ip=request.remote_addr
            )
        if err := refused.error:
            error, problems = _refusal(err)
        else:
            flash(_("The opening hours have been saved."))
            return redirect(url_for("merchant.index", _anchor="hours"))
    elif request.method == "GET":
        form.fill(services.week_of(db.session, shop))
    status = 400 if (error or problems or form.errors) else 200
    return render_template("merchant/hours.html", form=form, error=error, problems=problems), status


@bp.route("/bank", methods=["GET", "POST"])
@require_role(*auth.OWNER)
def bank():  # type: ignore[no-untyped-def]
    """Change the shop's IBAN after entering the owner's password again."""
    shop = db.session.get(Shop, auth.me().shop_id)
    form = IbanForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            services.change_iban(
                db.session,
                auth.current_shop_user(db.session),
                iban=form.iban.data or "",
                password=form.password.data or "",
                ip=request.remote_addr,
            )
        if err := refused.error:
            error = err.message
        else:
            flash(_("The IBAN has been changed."))
            return redirect(url_for("merchant.index"))
    status = 400 if (error or form.errors) else 200
    current: Any = format_iban(shop.iban) if shop else ""
    return render_template("merchant/bank.html", form=form, error=error, iban=current), status
