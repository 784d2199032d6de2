"""The municipality's notifications page: what was sent to whom and when, what failed.

Rows show the event, the recipient's reference and address, times, state and the last
error; never a message body (bodies are rendered at send time and not stored). From here
the printed reminders for households without e-mail are downloaded.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin import auth
from admin.funds.letter_texts import reminder_texts
from admin.notifications import reminder_letters
from admin.notifications import reminders as jobs  # noqa: F401 - registers the worker's daily jobs
from admin.notifications.forms import ReminderForm
from admin.notifications.reminders import letter_households
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.outbox import OutboxMessage

bp = Blueprint(
    "admin_notify", __name__, url_prefix="/admin/notifications", template_folder="../templates"
)
STATES = ("pending", "sending", "sent", "failed")
SHOWN = 200


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """List the newest messages of this municipality, and the reminders to print per fund."""
    state = request.args.get("state", "")
    query = select(OutboxMessage).where(OutboxMessage.municipality_id == auth.me().municipality_id)
    if state in STATES:
        query = query.where(OutboxMessage.state == state)
    rows = list(db.session.execute(query.order_by(OutboxMessage.id.desc()).limit(SHOWN)).scalars())
    funds = [
        (fund, len(letter_households(db.session, fund)))
        for fund in auth.tenant_funds(db.session)
        if fund.status == "open"
    ]
    return render_template(
        "admin/notifications.html",
        rows=rows,
        funds=funds,
        state=state,
        states=STATES,
        form=ReminderForm(),
    )


@bp.post("/letters/<int:fund_id>")
@require_role(*auth.EVERYONE)
def letters(fund_id: int):  # type: ignore[no-untyped-def]
    """Download one PDF of reminders for the households with money left and no e-mail."""
    fund = auth.tenant_fund(db.session, fund_id)
    if auth.me().role != "administrator":
        raise DomainError("forbidden", _l("You are not allowed to do this."))
    form = ReminderForm()
    if not form.validate_on_submit():
        raise DomainError("bad_form", _l("The form has expired. Please try again."))
    items = reminder_letters.reminders(db.session, fund)
    if not items:
        flash(_("No household needs a printed reminder."))
        return redirect(url_for(".index"))
    language = form.language.data or "nl"
    pdf = reminder_letters.render(items, reminder_texts, language=language)
    auth.audit(
        db.session,
        "fund.reminder_letters_printed",
        subject=f"fund:{fund.id}",
        after={"letters": len(items), "language": language},
    )
    response = Response(pdf, mimetype="application/pdf")
    name = f"reminders-fund-{fund.id}-{language}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
