"""The preferences page behind every message's link: choose what you get, no login needed.

The link carries a token signed with the app's secret key naming the recipient (and the
municipality whose audit log records the change). Whoever holds the link may change that
recipient's choices, which is exactly what the link in their mailbox is for; so the form
is exempt from CSRF (a forger would need the token). ``POST`` with
``List-Unsubscribe=One-Click`` (RFC 8058, sent by mail programs) switches off everything
that can be switched off.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from kindpakket import outbox
from kindpakket.audit import record_event
from kindpakket.db import db
from kindpakket.security import csrf

bp = Blueprint("notify", __name__, url_prefix="/notify")
SALT = "kindpakket-notification-preferences"

# The categories each kind of recipient can choose, with their labels.
CHOICES: dict[str, tuple[tuple[str, Any], ...]] = {
    "household": (
        ("account", _l("News about your budget (issued, blocked, unblocked)")),
        ("reminders", _l("Reminders before your budget expires")),
        ("receipts", _l("A receipt for every payment")),
    ),
    "shop": (("shop", _l("News about your shop's approvals and payouts")),),
    "admin_user": (("staff", _l("Notices for municipality staff (applications, digests)")),),
}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def preferences_link(recipient: str, municipality_id: int | None) -> str:
    """Return the absolute preferences URL of ``recipient``."""
    token = _serializer().dumps({"r": recipient, "m": municipality_id})
    return f"{current_app.config['BASE_URL'].rstrip('/')}/notify/preferences/{token}"


def _read(token: str) -> tuple[str, int | None]:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        abort(404)
    recipient = str(data.get("r", ""))
    if recipient.partition(":")[0] not in CHOICES:
        abort(404)
    return recipient, data.get("m")


@bp.get("/preferences/<token>")
def preferences(token: str) -> Any:
    """Show which messages this recipient gets, with a form to change it."""
    recipient, _m = _read(token)
    return _page(recipient, outbox.preferences(db.session, recipient), saved=False)


@bp.post("/preferences/<token>")
@csrf.exempt
def save_preferences(token: str) -> Any:
    """Save the choices (or, for a one-click unsubscribe, switch everything off)."""
    recipient, municipality = _read(token)
    kind = recipient.partition(":")[0]
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    chosen = {key: (not one_click and request.form.get(key) == "on") for key, _ in CHOICES[kind]}
    before = outbox.set_preferences(db.session, recipient, chosen)
    after = outbox.preferences(db.session, recipient)
    changed = {k: after[k] for k, _ in CHOICES[kind] if before[k] != after[k]}
    if changed:
        record_event(
            db.session,
            "notification.preferences_changed",
            actor=recipient.replace("admin_user:", "admin:"),  # the link's holder
            subject=recipient,
            municipalities=[municipality],
            before={k: before[k] for k in changed},
            after=changed,
        )
    if one_click:
        return {"status": "unsubscribed"}
    return _page(recipient, after, saved=True)


def _page(recipient: str, choices: dict[str, bool], *, saved: bool) -> Any:
    kind = recipient.partition(":")[0]
    items = [(key, label, choices[key]) for key, label in CHOICES[kind]]
    message = _("Your choices are saved.") if saved else None
    return render_template("notify/preferences.html", items=items, message=message)
