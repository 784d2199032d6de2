"""Pages of the municipality (``/admin``): login here; feature pages in ``views_*`` modules."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_user

from admin import auth
from admin.forms import LoginForm, PasswordForm
from admin.models import AdminUser
from kindpakket import logins
from kindpakket.auth import log_out_staff, require_role, safe_next
from kindpakket.db import db
from kindpakket.security import form_field, login_limits

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
@login_limits("admin", form_field("email"))
def login():  # type: ignore[no-untyped-def]
    """Log a staff member in."""
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        with db.refusing() as refused:
            user = auth.authenticate(
                db.session,
                form.email.data or "",
                form.password.data or "",
                form.totp.data,
                policy=logins.policy(),
            )
        if err := refused.error:
            error, status = err.message, (429 if err.status == 429 else 401)
            auth.record_login(db.session, form.email.data or "", err)
        else:
            auth.record_login(db.session, user.email)
            login_user(auth.AdminPrincipal(user))
            return redirect(safe_next("/admin", "admin.index"))
    status = status if error else (400 if form.errors else 200)
    return render_template("admin/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Log out everywhere: the cookie of this and every other login stops working."""
    auth.record_logout(db.session)
    log_out_staff(db.session, auth.AdminPrincipal)
    flash(_("You are logged out."))
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
@require_role(*auth.EVERYONE)
def password():  # type: ignore[no-untyped-def]
    """Change the password; every other login of this account ends."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        user = db.session.get(AdminUser, auth.me().user_id)
        assert user is not None  # the loader found it for this request
        with db.refusing() as refused:
            auth.change_password(
                db.session, user, current=form.current.data or "", new=form.new.data or ""
            )
        if err := refused.error:
            error = err.message
        else:
            login_user(auth.AdminPrincipal(user))  # this browser goes on with the new epoch
            flash(_("Your password has been changed. Other logins of this account have ended."))
            return redirect(url_for("admin.index"))
    status = 400 if (error or form.errors) else 200
    return render_template("admin/password.html", form=form, error=error), status


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """Show the municipality's funds."""
    return render_template("admin/index.html", funds=auth.tenant_funds(db.session))


def feature_blueprints() -> list[Blueprint]:
    """Return the blueprints of the municipality's feature pages (funds, shops, reports...)."""
    from admin import views_more
    from admin.audit import views as views_audit
    from admin.funds import views as views_funds
    from admin.funds import views_households
    from admin.notifications import views as views_notify
    from admin.passes import views as views_passes
    from admin.reports import views as views_reports
    from admin.reports import views_public
    from admin.settlement import views as views_settlement
    from admin.settlement import views_bank
    from admin.shops import views as views_shops

    return [
        views_funds.bp,
        views_households.bp,
        views_shops.bp,
        views_reports.bp,
        views_settlement.bp,
        views_bank.bp,
        views_audit.bp,
        views_passes.bp,
        views_more.bp,
        views_public.bp,
        views_notify.bp,
    ]


def init_app(app: Flask) -> None:
    """Offer the municipality's menu to every admin page."""
    from admin import menu

    menu.init_app(app)
