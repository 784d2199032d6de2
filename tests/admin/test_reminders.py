"""Expiry reminders reach exactly the right households: by e-mail, or on paper."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin.funds.letter_texts import reminder_texts
from admin.notifications import reminder_letters, reminders
from kindpakket import outbox, worker
from kindpakket.outbox import OutboxMessage
from kindpakket.time import today as amsterdam_today
from tests import factories as fx
from tests.admin.workload import pay
from tests.smtp_server import smtp_server
from wallet.models import Fund


def _world(engine: Engine, days_left: int) -> dict[str, Any]:
    """Four households: e-mail + money, e-mail + nothing left, no e-mail + money, opted out."""
    with Session(engine) as s:
        f = fx.fund(s, end=amsterdam_today() + timedelta(days=days_left))
        shop, _, _ = fx.shop(s, f)
        ids = {}
        for ref, email in (
            ("MAIL", "a@x.example"),
            ("SPENT", "b@x.example"),
            ("PAPER", None),
            ("OUT", "c@x.example"),
        ):
            h, vouchers = fx.family(s, f, reference=ref, children=("Noor",), budget_cents=5_000)
            h.email = email
            ids[ref] = (h.id, vouchers[0])
        s.flush()
        pay(s, f, shop, ids["SPENT"][1], 5_000)
        pay(s, f, shop, ids["MAIL"][1], 1_250)
        outbox.set_preferences(s, f"household:{ids['OUT'][0]}", {"reminders": False})
        s.commit()
        return {"fund": f.id, **{k: v[0] for k, v in ids.items()}}


def _queued(engine: Engine) -> list[tuple[str, str, int]]:
    with Session(engine) as s:
        rows = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        return [(r.event, r.recipient, r.params["amount_cents"]) for r in rows if r.params]


def test_the_four_week_reminder_goes_once_to_households_with_money_left_and_e_mail(
    app: Flask, engine: Engine
) -> None:
    w = _world(engine, days_left=28)
    with app.app_context(), Session(engine) as s:
        assert reminders.expiry_reminders(s, amsterdam_today()) == 1
        assert reminders.expiry_reminders(s, amsterdam_today()) == 0  # run again: nothing twice
        s.commit()
    assert _queued(engine) == [("family.expiry_4w", f"household:{w['MAIL']}", 3_750)]
    with smtp_server() as (inbox, url):
        app.config["SMTP_URL"] = url
        worker.run(app, once=True)
    [mail] = inbox.messages
    assert mail["To"] == "a@x.example" and "€ 37,50" in mail["Subject"]


def test_no_reminder_outside_the_windows_and_the_last_one_a_week_before(
    app: Flask, engine: Engine
) -> None:
    w = _world(engine, days_left=40)
    with app.app_context(), Session(engine) as s:
        assert reminders.expiry_reminders(s, amsterdam_today()) == 0
        assert reminders.expiry_reminders(s, amsterdam_today() + timedelta(days=33)) == 1
        s.commit()
    assert _queued(engine) == [("family.expiry_1w", f"household:{w['MAIL']}", 3_750)]


def test_households_without_e_mail_get_one_printed_reminder_with_amount_and_last_day(
    app: Flask, engine: Engine
) -> None:
    _world(engine, days_left=28)
    with Session(engine) as s:
        f = s.get(Fund, s.execute(select(Fund.id)).scalar())
        assert f is not None
        items = reminder_letters.reminders(s, f)
        assert [(i.to.household_ref, i.cents_left) for i in items] == [("PAPER", 5_000)]
        for language, words in (("nl", "€ 50,00"), ("en", "€50.00")):
            with app.app_context():
                printed = reminder_letters.render(items, reminder_texts, language=language)
            pdf = PdfReader(io.BytesIO(printed))
            text = pdf.pages[0].extract_text()
            assert len(pdf.pages) == 1 and words in text and str(f.period_end.year) in text


def test_one_click_unsubscribe_stops_reminders_and_the_page_switches_them_back_on(
    app: Flask, client: Any, engine: Engine
) -> None:
    from kindpakket.notify_views import preferences_link

    w = _world(engine, days_left=28)
    with app.app_context():
        path = preferences_link(f"household:{w['MAIL']}", None).split("5000", 1)[1]
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.get_json() == {"status": "unsubscribed"}
    with app.app_context(), Session(engine) as s:
        assert reminders.expiry_reminders(s, amsterdam_today()) == 0
        s.rollback()
    page = client.get(path + "?lang=nl").get_data(as_text=True)
    assert "Herinneringen voordat uw budget vervalt" in page
    client.post(path, data={"reminders": "on"})
    with app.app_context(), Session(engine) as s:
        assert reminders.expiry_reminders(s, amsterdam_today()) == 1
    assert client.get(path[:-3] + "xyz").status_code == 404  # a forged link changes nothing


def test_a_family_adds_an_address_that_counts_only_once_confirmed(
    app: Flask, client: Any, engine: Engine
) -> None:
    from wallet import contact

    w = _world(engine, days_left=28)
    with app.test_request_context(), Session(engine) as s:
        from wallet.models import Household

        h = s.get(Household, w["PAPER"])
        assert h is not None
        contact.request_address(s, h, "nieuw@x.example", "en", actor="test")
        s.commit()
        assert contact.recipient(s, h) is None  # not confirmed yet: still on paper
        [row] = [r for r in s.execute(select(OutboxMessage)).scalars()]
        assert (row.event, row.address) == ("family.email_confirm", "nieuw@x.example")
        token = row.params["url"].rsplit("/", 1)[1]
    assert client.post(f"/wallet/email/confirm/{token}").status_code == 200
    with Session(engine) as s:
        h = s.get(Household, w["PAPER"])
        assert h is not None
        to = contact.recipient(s, h)
        assert to is not None and (to.address, to.language) == ("nieuw@x.example", "en")
        f = s.get(Fund, w["fund"])
        assert f is not None and reminder_letters.reminders(s, f) == []
