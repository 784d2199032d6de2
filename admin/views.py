"""Pages of the municipality (``/admin``): login here; feature pages in ``views_*`` modules."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from admin import auth
from kindpakket.auth import require_role, safe_next
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.security import limiter

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


class LoginForm(FlaskForm):
    """E-mail, password and (when switched on) the TOTP code."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    totp = StringField(
        _l("6-digit code (if you use an authenticator app)"),
        validators=[Optional(), Length(min=6, max=6)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    """Log a staff member in."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = auth.authenticate(
                db.session, form.email.data or "", form.password.data or "", form.totp.data
            )
        except DomainError as err:
            error = err.message
            auth.record_login(db.session, form.email.data or "", err)
        else:
            auth.record_login(db.session, user.email)
            login_user(auth.AdminPrincipal(user))
            return redirect(safe_next("/admin", "admin.index"))
    status = 401 if error else (400 if form.errors else 200)
    return render_template("admin/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Log out."""
    auth.record_logout(db.session)
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("admin.login"))


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """Show the municipality's funds."""
    return render_template("admin/index.html", funds=auth.tenant_funds(db.session))


def feature_blueprints() -> list[Blueprint]:
    """Return the blueprints of the municipality's feature pages (funds, shops, reports...)."""
    from admin import views_audit, views_funds, views_reports, views_settlement, views_shops

    return [views_funds.bp, views_shops.bp, views_reports.bp, views_settlement.bp, views_audit.bp]
