"""The staff's login, logout and password pages: one implementation, registered per door.

``/admin`` and ``/merchant`` each call :func:`register` with their principal class (table,
roles, names in the audit log), the name of their per-account login budget and where a login
lands. Both doors therefore answer alike: the same statuses (401 for a refused login, 429
while locked or over the budget, 400 for a form with errors), messages, lockouts and audit
events. The pages render ``<blueprint>/login.html`` and the shared ``staff_password.html``,
both extending ``staff_page.html`` within the blueprint's ``<blueprint>/base.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from kindpakket import logins
from kindpakket.auth import (
    StaffPrincipal,
    log_out_staff,
    logged_in,
    require_role,
    roles_of,
    safe_next,
)
from kindpakket.db import db
from kindpakket.security import form_field, login_limits


def login_form(required: Any = None, *, totp: bool = False) -> type[FlaskForm]:
    """Return the login form: e-mail and password, and the authenticator code when ``totp``.

    ``required`` is what an empty field says (WTForms' own words when None).
    """

    class LoginForm(FlaskForm):
        email = EmailField(
            _l("E-mail address"),
            validators=[DataRequired(required), Email()],
            render_kw={"autocomplete": "username"},
        )
        password = PasswordField(
            _l("Password"),
            validators=[DataRequired(required), Length(max=200)],
            render_kw={"autocomplete": "current-password"},
        )

    if not totp:
        return LoginForm

    class TotpLoginForm(LoginForm):
        totp = StringField(
            _l("6-digit code (if you use an authenticator app)"),
            validators=[Optional(), Length(min=6, max=6)],
            render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
        )

    return TotpLoginForm


def password_form(required: Any = None) -> type[FlaskForm]:
    """Return the password form: the current password and a new one, typed twice."""

    class PasswordForm(FlaskForm):
        current = PasswordField(
            _l("Current password"),
            validators=[DataRequired(required), Length(max=200)],
            render_kw={"autocomplete": "current-password"},
        )
        new = PasswordField(
            _l("New password (at least 12 characters, not easy to guess)"),
            validators=[DataRequired(required), Length(max=200)],
            render_kw={"autocomplete": "new-password"},
        )
        again = PasswordField(
            _l("New password again"),
            validators=[
                DataRequired(required),
                EqualTo("new", _l("The two new passwords are not the same.")),
            ],
            render_kw={"autocomplete": "new-password"},
        )

    return PasswordForm


@dataclass(frozen=True)
class StaffPages:
    """One door's staff pages: who logs in there, their forms, and where they go."""

    kind: type[StaffPrincipal]
    budget: str  # the per-account login budget's name (kindpakket.security.login_limits)
    landing: str  # endpoint after logging in without a ``next``
    home: str  # endpoint after changing the password
    login_form: type[FlaskForm]
    password_form: type[FlaskForm]


def login(bp: Blueprint, pages: StaffPages) -> Any:
    """Log a staff member in."""
    form = pages.login_form()
    error = None
    status = 200
    if form.validate_on_submit():
        email = form.email.data or ""
        with db.refusing() as refused:
            user = logins.authenticate(
                db.session,
                pages.kind,
                email,
                form.password.data or "",
                form.data.get("totp"),
                policy=logins.policy(),
            )
        if err := refused.error:
            error, status = err.message, (429 if err.status == 429 else 401)
            logins.record_login(db.session, pages.kind, email, err)
        else:
            logins.record_login(db.session, pages.kind, user.email)
            login_user(pages.kind(user))
            return redirect(safe_next(bp.url_prefix or "/", pages.landing))
    status = status if error else (400 if form.errors else 200)
    return _page(bp, f"{bp.name}/login.html", form, error), status


def logout(bp: Blueprint, pages: StaffPages) -> Any:
    """Log out everywhere: the cookie of this and every other login stops working."""
    log_out_staff(db.session, pages.kind)
    flash(_("You are logged out."))
    return redirect(url_for(f"{bp.name}.login"))


def password(bp: Blueprint, pages: StaffPages) -> Any:
    """Change the password; every other login of this account ends."""
    form = pages.password_form()
    error = None
    if form.validate_on_submit():
        principal = logged_in(pages.kind)
        user = db.session.get(pages.kind.model, principal.user_id) if principal else None
        assert user is not None  # require_role let a logged-in staff member in
        with db.refusing() as refused:
            logins.change_password(
                db.session,
                pages.kind,
                user,
                current=form.current.data or "",
                new=form.new.data or "",
            )
        if err := refused.error:
            error = err.message
        else:
            login_user(pages.kind(user))  # this browser goes on with the new epoch
            flash(_("Your password has been changed. Other logins of this account have ended."))
            return redirect(url_for(pages.home))
    status = 400 if (error or form.errors) else 200
    return _page(bp, "staff_password.html", form, error), status


def _page(bp: Blueprint, template: str, form: FlaskForm, error: Any) -> str:
    return render_template(template, base=f"{bp.name}/base.html", form=form, error=error)


def register(
    bp: Blueprint,
    kind: type[StaffPrincipal],
    *,
    budget: str,
    landing: str | None = None,
    required: Any = None,
    totp: bool = False,
) -> None:
    """Add ``/login``, ``/logout`` and ``/password`` for ``kind``'s staff to ``bp``.

    ``budget`` names the per-account login budget; a login lands on ``landing`` (default: the
    blueprint's ``index``, where a password change lands); ``required`` is what an empty
    field says; ``totp`` asks for the authenticator app's code. Every role registered for
    ``kind`` may change its password.
    """
    home = f"{bp.name}.index"
    forms = login_form(required, totp=totp), password_form(required)
    pages = StaffPages(kind, budget, landing or home, home, *forms)

    def view(page: Callable[[Blueprint, StaffPages], Any]) -> Callable[[], Any]:
        def answer() -> Any:
            return page(bp, pages)

        # One name per door: Flask-Limiter keeps a view's limits under its qualified name.
        answer.__name__ = page.__name__
        answer.__qualname__ = f"{bp.name}.{page.__name__}"
        answer.__doc__ = page.__doc__
        return answer

    by_account = form_field("email")
    bp.add_url_rule(
        "/login",
        view_func=login_limits(pages.budget, by_account)(view(login)),
        methods=["GET", "POST"],
    )
    bp.add_url_rule("/logout", view_func=view(logout), methods=["POST"])
    bp.add_url_rule(
        "/password",
        view_func=require_role(*roles_of(kind.prefix))(view(password)),
        methods=["GET", "POST"],
    )
