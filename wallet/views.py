"""Pages of the wallet package (thin: services do the work)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kindpakket.appkeys import app_keyring
from kindpakket.auth import require_role, safe_next
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from kindpakket.security import limiter, login_limits
from kindpakket.time import format_moment
from wallet import auth, services
from wallet.forms import ActivateForm, ButtonForm, LoginForm, PinForm
from wallet.parties import family_receipt_link

bp = Blueprint(
    "wallet",
    __name__,
    url_prefix="/wallet",
    template_folder="templates",
    static_folder="static",
)
REMEMBER = timedelta(days=400)  # a device stays logged in until it is logged out or revoked


@bp.context_processor
def _helpers() -> dict[str, object]:
    """Give the wallet templates money, date and time formatting in the page's language."""
    return {"euro": _euro, "day": _day, "moment": _moment, "now_unix": lambda: int(time.time())}


def _euro(cents: int) -> str:
    return format_euro(int(cents), current_language())


def _day(value: date) -> str:
    return format_date(value, "d MMM yyyy")


def _moment(value: datetime) -> str:
    return format_moment(value, current_language())


def init_app(app: Flask) -> None:
    """Create the app's keyring object once (private keys are then read once)."""
    with app.app_context():
        app_keyring()


def _is_family() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "role", "") == auth.ROLE)


def _start(row):  # type: ignore[no-untyped-def]
    """Log the fresh device session in, remembered on this device."""
    login_user(auth.principal_for(row), remember=True, duration=REMEMBER)


def _typed_code() -> str:
    """Return the posted activation code in its stored form (the per-account limit key)."""
    return services.normalise_code(request.form.get("code", ""))


def _household_key() -> str:
    """Return the logged-in household (the per-account limit key of PIN checks)."""
    return str(getattr(current_user, "household_id", "") or "")


@bp.route("/login", methods=["GET", "POST"])
@login_limits("family", _typed_code)
def login():  # type: ignore[no-untyped-def]
    """Log in with the activation code and PIN."""
    if _is_family() and request.method == "GET":
        return redirect(url_for("wallet.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            _household, row = services.login(
                db.session,
                form.code.data or "",
                form.pin.data or "",
                device=auth.device_label(),
                policy=auth.pin_policy(),
            )
        if err := refused.error:
            error = err
        else:
            _start(row)
            return redirect(safe_next("/wallet", "wallet.index"))
    status = error.status if error else (400 if form.errors else 200)
    return render_template("wallet/login.html", form=form, error=error), status


@bp.route("/activate", methods=["GET", "POST"])
@login_limits("family", _typed_code)
def activate():  # type: ignore[no-untyped-def]
    """Activate a code from the letter (link or typed) and choose a PIN."""
    form = ActivateForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = services.format_code(request.args["code"])
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            _household, row = services.activate(
                db.session,
                form.code.data or "",
                form.pin.data or "",
                form.pin_again.data or "",
                device=auth.device_label(),
                keyring=app_keyring(),
            )
        if err := refused.error:
            error = err
        else:
            _start(row)
            flash(_("Your PIN is set. This device stays logged in."))
            return redirect(url_for("wallet.index"))
    status = error.status if error else (400 if form.errors else 200)
    return render_template("wallet/activate.html", form=form, error=error), status


@bp.post("/logout")
@require_role(auth.ROLE)
def logout():  # type: ignore[no-untyped-def]
    """Log this device out (its session cannot be used again)."""
    _check_form()
    household = auth.household()
    services.revoke_session(db.session, household, auth.me().session_id, actor=auth.me().actor)
    logout_user()
    flash(_("You are logged out on this device."))
    return redirect(url_for("wallet.login"))


def _check_form(form: ButtonForm | None = None) -> None:
    """Refuse a POST whose CSRF token is missing or stale."""
    if not (form or ButtonForm()).validate_on_submit():
        raise DomainError("bad_form", _("The form has expired. Please try again."))


@bp.get("/")
@require_role(auth.ROLE)
def index():  # type: ignore[no-untyped-def]
    """Show every child's remaining budget and period."""
    household = auth.household()
    cards = [
        services.voucher_view(db.session, v)
        for v in services.household_vouchers(db.session, household)
    ]
    return render_template("wallet/home.html", cards=cards, form=ButtonForm())


@bp.route("/pay/<int:voucher_id>", methods=["GET", "POST"])
@require_role(auth.ROLE)
@limiter.limit("30 per minute", methods=["POST"])
def pay(voucher_id: int):  # type: ignore[no-untyped-def]
    """Show the child's payment QR code; the script renews it before it expires."""
    household = auth.household()
    voucher = services.household_voucher(db.session, household, voucher_id)
    card = services.voucher_view(db.session, voucher)
    form = ButtonForm()
    payment = None
    if request.method == "POST":  # without JavaScript: a code is made by the button
        _check_form(form)
        payment = services.issue_payment(
            db.session, voucher, keyring=app_keyring(), ttl=auth.token_ttl()
        )
    return render_template("wallet/pay.html", card=card, payment=payment, form=form)


@bp.get("/history")
@require_role(auth.ROLE)
def history():  # type: ignore[no-untyped-def]
    """Show the payments and refunds of every child."""
    items = services.history(db.session, auth.household(), family_receipt_link)
    return render_template("wallet/history.html", items=items)


@bp.post("/vouchers/<int:voucher_id>/block")
@require_role(auth.ROLE)
def block(voucher_id: int):  # type: ignore[no-untyped-def]
    """Block a child's budget."""
    _check_form()
    household = auth.household()
    voucher = services.household_voucher(db.session, household, voucher_id)
    services.block_voucher(db.session, household, voucher, actor=auth.me().actor)
    flash(_("The budget of %(name)s is blocked.", name=voucher.child.first_name))
    return redirect(url_for("wallet.index"))


@bp.route("/vouchers/<int:voucher_id>/unblock", methods=["GET", "POST"])
@require_role(auth.ROLE)
@login_limits("household", _household_key)
def unblock(voucher_id: int):  # type: ignore[no-untyped-def]
    """Unblock a child's budget with the PIN."""
    household = auth.household()
    voucher = services.household_voucher(db.session, household, voucher_id)
    form = PinForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            services.unblock_voucher(
                db.session,
                household,
                voucher,
                form.pin.data or "",
                actor=auth.me().actor,
                policy=auth.pin_policy(),
            )
        if err := refused.error:
            error = err
        else:
            flash(_("The budget of %(name)s can be used again.", name=voucher.child.first_name))
            return redirect(url_for("wallet.index"))
    status = error.status if error else (400 if form.errors else 200)
    card = services.voucher_view(db.session, voucher)
    return render_template("wallet/unblock.html", form=form, card=card, error=error), status


@bp.get("/devices")
@require_role(auth.ROLE)
def devices():  # type: ignore[no-untyped-def]
    """List the devices that are logged in."""
    rows = services.list_sessions(db.session, auth.household())
    return render_template(
        "wallet/devices.html", rows=rows, current=auth.me().session_id, form=ButtonForm()
    )


@bp.post("/devices/<session_id>/logout")
@require_role(auth.ROLE)
def device_logout(session_id: str):  # type: ignore[no-untyped-def]
    """Log another device (e.g. a lost phone) out."""
    _check_form()
    household = auth.household()
    services.revoke_session(db.session, household, session_id, actor=auth.me().actor)
    if session_id == auth.me().session_id:
        logout_user()
        flash(_("You are logged out on this device."))
        return redirect(url_for("wallet.login"))
    flash(_("That device is logged out."))
    return redirect(url_for("wallet.devices"))
