"""What each notification says: subject and paragraphs per event, in Dutch and English.

Texts are English msgids with ``%(name)s`` placeholders, translated at send time in the
recipient's language. Parameters named ``*_cents`` are shown as euros and ``*_day`` (ISO
dates) as days in words; ``url`` becomes the message's button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kindpakket.money import format_euro
from kindpakket.time import format_day


@dataclass(frozen=True)
class Notice:
    """An event's wording: category (for preferences), subject, paragraphs, button label."""

    category: str
    subject: Any
    lines: tuple[Any, ...]
    button: Any = None


EVENTS: dict[str, Notice] = {
    # -- families
    "family.budget_issued": Notice(
        "account",
        _l("Budget for your children: %(amount_cents)s"),
        (
            _l("%(municipality)s has given your children a budget of %(amount_cents)s in total."),
            _l("You can use it in participating shops until %(end_day)s."),
        ),
        _l("Open your wallet"),
    ),
    "family.expiry_4w": Notice(
        "reminders",
        _l("Reminder: %(amount_cents)s left, usable until %(end_day)s"),
        (
            _l("Your children still have %(amount_cents)s left in %(fund)s."),
            _l("The budget can be used until %(end_day)s. Money left after that expires."),
        ),
        _l("Open your wallet"),
    ),
    "family.expiry_1w": Notice(
        "reminders",
        _l("Last week: %(amount_cents)s left, usable until %(end_day)s"),
        (
            _l("Your children still have %(amount_cents)s left in %(fund)s."),
            _l("Only one week left: the budget can be used until %(end_day)s."),
        ),
        _l("Open your wallet"),
    ),
    "family.voucher_blocked": Notice(
        "account",
        _l("The budget of %(child)s is blocked"),
        (
            _l("The budget of %(child)s in %(fund)s has been blocked. Shops cannot take it."),
            _l("Did you not do this? Log in and unblock it with your PIN, or call us."),
        ),
        _l("Open your wallet"),
    ),
    "family.voucher_unblocked": Notice(
        "account",
        _l("The budget of %(child)s can be used again"),
        (_l("The budget of %(child)s in %(fund)s has been unblocked."),),
        _l("Open your wallet"),
    ),
    "family.receipt": Notice(
        "receipts",
        _l("Receipt: %(amount_cents)s paid at %(shop)s"),
        (
            _l("You paid %(amount_cents)s at %(shop)s. Receipt number %(receipt)s."),
            _l("You can see every payment in your wallet."),
        ),
        _l("Open your wallet"),
    ),
    "family.email_confirm": Notice(
        "account",
        _l("Confirm your e-mail address for Kindpakket"),
        (
            _l("Please confirm that you want messages about your children's budget here."),
            _l("Did you not ask for this? Then you can ignore this message."),
        ),
        _l("Confirm my e-mail address"),
    ),
    # -- shops
    "shop.application_received": Notice(
        "shop",
        _l("We received the application of %(shop)s"),
        (_l("Thank you. The municipality checks your application and lets you know."),),
    ),
    "shop.approved": Notice(
        "shop",
        _l("%(shop)s is approved for %(fund)s"),
        (_l("Your shop can now take payments from %(fund)s."),),
        _l("Open the scanner"),
    ),
    "shop.rejected": Notice(
        "shop",
        _l("%(shop)s is not approved for %(fund)s"),
        (_l("The municipality did not approve your shop for %(fund)s. Reason: %(reason)s"),),
    ),
    "shop.suspended": Notice(
        "shop",
        _l("%(shop)s is suspended"),
        (_l("Your shop can no longer take payments. Reason: %(reason)s"),),
    ),
    "shop.payout_exported": Notice(
        "shop",
        _l("Payout of %(amount_cents)s on its way"),
        (_l("Payout batch %(batch)s of %(fund)s pays %(amount_cents)s to your bank account."),),
    ),
    "shop.payout_confirmed": Notice(
        "shop",
        _l("Payout of %(amount_cents)s paid"),
        (_l("The bank has paid batch %(batch)s of %(fund)s: %(amount_cents)s."),),
    ),
    # -- municipality staff
    "staff.shop_applied": Notice(
        "staff",
        _l("New shop application: %(shop)s"),
        (_l("%(shop)s in %(city)s has applied to join. Please review the application."),),
        _l("Review shops"),
    ),
    "staff.fund_low": Notice(
        "staff",
        _l("%(fund)s: balance under %(threshold_cents)s"),
        (_l("The unissued balance of %(fund)s is %(balance_cents)s."),),
    ),
    "staff.settlement_due": Notice(
        "staff",
        _l("%(fund)s: payouts due"),
        (_l("%(shops)s shops are owed %(amount_cents)s from %(fund)s. Please settle."),),
        _l("Open settlement"),
    ),
    "staff.delivery_failed": Notice(
        "staff",
        _l("A message could not be delivered"),
        (_l("The message %(event)s to %(recipient)s failed after %(attempts)s attempts."),),
        _l("Open notifications"),
    ),
    "staff.job_failed": Notice(
        "staff",
        _l("A scheduled job failed: %(job)s"),
        (_l("The worker could not run %(job)s: %(error)s. It tries again later."),),
        _l("Open notifications"),
    ),
    "staff.daily_digest": Notice(
        "staff",
        _l("Kindpakket on %(day)s"),
        (
            _l("Messages sent: %(sent)s. Failed: %(failed)s."),
            _l("Shop applications waiting: %(applications)s."),
        ),
        _l("Open notifications"),
    ),
}


@dataclass(frozen=True)
class Rendered:
    """A message rendered in one language."""

    subject: str
    text: str
    html: str


def shown(params: dict[str, Any], language: str) -> dict[str, Any]:
    """Return ``params`` as a reader sees them: euros, days in words, the rest as text."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key.endswith("_cents") and isinstance(value, int):
            out[key] = format_euro(value, language)
        elif key.endswith("_day") and isinstance(value, str):
            out[key] = format_day(date.fromisoformat(value), language, "d MMMM yyyy")
        else:
            out[key] = value
    return out


def render(event: str, params: dict[str, Any], language: str, preferences_url: str) -> Rendered:
    """Render ``event`` with ``params`` in ``language`` (an app context is needed)."""
    notice = EVENTS[event]
    with force_locale(language):
        values = shown(params, language)
        subject = str(notice.subject) % values
        lines = [str(line) % values for line in notice.lines]
        button = str(notice.button) if notice.button and params.get("url") else None
        context = {
            "subject": subject,
            "lines": lines,
            "button": button,
            "url": params.get("url"),
            "preferences_url": preferences_url,
            "lang": language,
            "footer": _("You get this message from Kindpakket."),
            "manage": _("Choose which messages you get"),
        }
        text = render_template("mail/message.txt", **context)
        html = render_template("mail/message.html", **context)
    return Rendered(subject, text, html)
