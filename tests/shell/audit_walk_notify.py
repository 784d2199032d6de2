"""Audit walk steps of the notification routes (the family's e-mail, preferences, reminders)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.outbox import OutboxMessage


def _confirm_link(walk: Any) -> str:
    with Session(walk.engine) as s:
        row = (
            s.execute(
                select(OutboxMessage)
                .where(OutboxMessage.event == "family.email_confirm")
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    return str(row.params["url"]).split("127.0.0.1:5000", 1)[1]


def _preferences_path(app: Flask, recipient: str, municipality: int) -> str:
    from kindpakket.notify_views import preferences_link

    with app.app_context():
        return preferences_link(recipient, municipality).split("127.0.0.1:5000", 1)[1]


def walk_notify(walk: Any, ok: Any) -> None:
    """A family adds and confirms its e-mail and changes its choices; reminders are printed."""
    w = walk.w
    walk.step(
        "POST wallet_email.email",
        [("household.email_added", {w.a})],
        lambda: ok(walk.family.post("/wallet/email/", data={"email": "ouder@voorbeeld.example"})),
    )
    link = _confirm_link(walk)
    walk.step(
        "POST wallet_email.confirm",
        [("household.email_confirmed", {w.a})],
        lambda: ok(walk.anonymous.post(link), 200),
    )
    path = _preferences_path(walk.app, f"household:{w.household}", w.a)
    walk.step(
        "POST notify.save_preferences",
        [("notification.preferences_changed", {w.a})],
        lambda: ok(walk.anonymous.post(path, data={"account": "on", "receipts": "on"}), 200),
    )
    walk.step(
        "POST admin_notify.letters",
        [("fund.reminder_letters_printed", {w.a})],
        lambda: ok(
            walk.admin.post(f"/admin/notifications/letters/{w.fund_a}", data={"language": "nl"}),
            200,
        ),
    )
