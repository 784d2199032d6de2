"""Money rules of the shop side: exact replays, refund keys, the fund's period, legal names."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket import time as clock
from kindpakket.errors import DomainError
from ledger import store
from merchant import redemptions
from merchant.models import Redemption, Refund, Shop
from tests.merchant.conftest import World, build_world, key, login, pay, raw_token, token_for


def _body(response: Any) -> dict[str, Any]:
    body = dict(response.get_json())
    body.pop("replayed")
    return body


def test_a_replayed_payment_answers_the_first_answer_exactly(
    client: Any, session: Session, world: World
) -> None:
    first_qr = token_for(session, world.keyring, world.vouchers[0])
    second_qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    k = key()
    first = pay(client, token=first_qr.token, amount_cents=800, idempotency_key=k)
    assert first.status_code == 201
    # Another payment from the same budget in between changes the balance, not the replay.
    assert pay(client, token=second_qr.token, amount_cents=300).status_code == 201
    again = pay(client, token=first_qr.token, amount_cents=800, idempotency_key=k)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert _body(again) == _body(first)
    assert first.get_json()["created_at"].endswith("+00:00")
    assert first.get_json()["balance_cents"] == 30_000 - 800
    conflict = pay(client, token=first_qr.token, amount_cents=801, idempotency_key=k)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "idempotency_conflict"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 2


def test_refund_keys_answer_the_first_refund_or_a_conflict(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    paid = pay(
        client, token=token_for(session, world.keyring, world.vouchers[0]).token, amount_cents=2000
    ).get_json()
    other = pay(
        client, token=token_for(session, world.keyring, world.vouchers[1]).token, amount_cents=900
    ).get_json()
    url = f"/api/v1/merchant/redemptions/{paid['id']}/refunds"
    body = {"amount_cents": 500, "reason": "wrong size", "idempotency_key": "refund-key-1"}
    first = client.post(url, json=body)
    assert first.status_code == 201
    assert first.get_json()["created_at"].endswith("+00:00")
    # A second refund of the same payment changes what is left, not the first answer.
    assert client.post(url, json={"amount_cents": 200, "reason": "scratch"}).status_code == 201
    again = client.post(url, json=body)
    assert again.status_code == 200
    assert _body(again) == _body(first) and first.get_json()["refundable_cents"] == 1500

    more = client.post(url, json={**body, "amount_cents": 700})
    assert more.status_code == 409
    assert more.get_json()["error"]["code"] == "idempotency_conflict"
    elsewhere = client.post(
        f"/api/v1/merchant/redemptions/{other['id']}/refunds", json={**body, "amount_cents": 500}
    )
    assert elsewhere.status_code == 409
    assert elsewhere.get_json()["error"]["code"] == "idempotency_conflict"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Refund)) == 2
    assert store.balance(session, world.vouchers[1].account) == 30_000 - 900
    assert store.balance(session, world.vouchers[0].account) == 30_000 - 2000 + 700


def _amsterdam(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), clock.ZONE)


@pytest.mark.parametrize(
    ("shift", "paid"),
    [
        (("start", 0, 0, 5), True),  # five minutes into the first day, Amsterdam time
        (("start", -1, 23, 55), False),  # the evening before the first day
        (("end", 0, 23, 55), True),  # late on the last day (already the next day in UTC)
        (("end", 1, 0, 5), False),  # just after midnight after the last day
    ],
)
def test_payments_only_inside_the_period_of_an_open_fund(
    session: Session, keyring: Any, shift: tuple[str, int, int, int], paid: bool
) -> None:
    start = clock.today() + timedelta(days=5)  # in the future: the signing key is valid then
    end = start + timedelta(days=3)
    world = build_world(session, keyring, start=start, end=end)
    assert world.fund.status == "open"
    which, days, hour, minute = shift
    now = _amsterdam((start if which == "start" else end) + timedelta(days=days), hour, minute)
    voucher = world.vouchers[0]
    attempt = {
        "cashier": world.cashier,
        "amount_cents": 700,
        "idempotency_key": key(),
        "keyring": keyring,
        "token": raw_token(keyring, voucher.id, int(now.timestamp())),
        "now": now,
    }
    if paid:
        payment = redemptions.redeem(session, **attempt)
        assert payment.amount_cents == 700
    else:
        with pytest.raises(DomainError) as refused:
            redemptions.redeem(session, **attempt)
        assert refused.value.code == "fund_closed"
        session.rollback()
        assert store.balance(session, voucher.account) == 30_000


def test_a_name_no_bank_transfer_can_carry_is_refused_at_application(
    client: Any, session: Session
) -> None:
    form = {
        "name": "北京书店",
        "kvk": "12345679",
        "iban": "NL91 ABNA 0417 1643 00",
        "address": "Markt 3",
        "postcode": "9801 AC",
        "city": "Zuidhorn",
        "category": "books_school",
        "email": "info@boek.example",
        "owner_name": "Li",
        "owner_email": "li@boek.example",
        "password": "een lang wachtwoord",
    }
    refused = client.post("/merchant/apply", data=form, headers={"Accept-Language": "nl"})
    assert refused.status_code == 400
    assert "bankoverschrijving" in refused.get_data(as_text=True)
    english = client.post("/merchant/apply?lang=en", data=form)
    assert "bank transfer cannot carry this name" in english.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Shop)) == 0
    session.rollback()  # end the test's read: SQLite lets one writer in at a time
    accepted = client.post("/merchant/apply", data={**form, "name": "Boekhandel Běijīng 北京"})
    assert accepted.status_code == 302
    assert session.scalars(select(Shop.name)).one() == "Boekhandel Běijīng 北京"


def test_shop_pages_show_amsterdam_time_with_the_zone(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    paid = pay(
        client, token=token_for(session, world.keyring, world.vouchers[0]).token, amount_cents=450
    ).get_json()
    moment = datetime.fromisoformat(paid["created_at"])
    shown = clock.format_moment(moment, "nl", clock.SHORT)
    assert shown.endswith((" CET", " CEST"))
    page = client.get("/merchant/payments").get_data(as_text=True)
    assert shown in page
    # The receipt page shows the time read from the verified bytes, in the browser:
    # tests/browser/test_receipt_browser.py checks it names the zone.
    home = client.get("/merchant/").get_data(as_text=True)
    assert "4,50" in home  # today's totals count the Amsterdam day
