"""The family's e-mail address: add it in the wallet, confirm it by the link sent to it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.i18n import current_language
from kindpakket.notify_views import preferences_link
from wallet import auth, contact
from wallet.forms import ButtonForm

bp = Blueprint("wallet_email", __name__, url_prefix="/wallet/email", template_folder="templates")


class EmailForm(FlaskForm):
    """The address to send notices to."""

    email = EmailField(
        _l("E-mail address"),
        description=_l("We send reminders before your budget expires, and other news about it."),
        validators=[DataRequired(), Length(max=contact.EMAIL_MAX)],
        render_kw={"autocomplete": "email"},
    )


@bp.route("/", methods=["GET", "POST"])
@require_role(auth.ROLE)
def email():  # type: ignore[no-untyped-def]
    """Show the address in use and let the family add or change it."""
    household = auth.household()
    form = EmailForm()
    error = None
    if form.validate_on_submit():
        with db.refusing() as refused:
            contact.request_address(
                db.session,
                household,
                form.email.data or "",
                current_language(),
                actor=auth.me().actor,
            )
        if err := refused.error:
            error = err
        else:
            flash(_("We sent a link to this address. Open it to confirm the address."))
            return redirect(url_for(".email"))
    in_use = contact.recipient(db.session, household)
    status = 400 if (error or form.errors) else 200
    return render_template(
        "wallet/email.html",
        form=form,
        error=error,
        in_use=in_use.address if in_use else None,
        waiting=contact.pending(db.session, household),
        preferences=preferences_link(f"household:{household.id}", household.fund.municipality_id),
    ), status


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):  # type: ignore[no-untyped-def]
    """Confirm an address by its link (a button, so that link checkers confirm nothing)."""
    form = ButtonForm()
    done = False
    if form.validate_on_submit():
        contact.confirm(db.session, token)
        done = True
    return render_template("wallet/email_confirm.html", form=form, done=done)
