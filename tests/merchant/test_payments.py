"""Payments, refunds, roles, rate limit and the shop's own lists through the API and pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket.audit import AuditEvent
from ledger import store
from merchant.models import Redemption, Refund, Shop, payable_account
from tests import factories as fx
from tests.merchant.conftest import World, family_login, key, login, pay, token_for
from wallet import services as wallet


def test_payment_moves_money_to_the_shop_and_shows_in_the_family_history(
    client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    response = pay(client, token=qr.token, amount_cents=1250)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "paid" and body["amount"] == "€ 12,50"
    assert body["receipt_number"] == f"B-{body['ledger_seq']:06d}"
    # The shop's copy of the receipt: it shows the contents to whoever holds the link.
    assert body["verify_url"].startswith(
        f"/receipt/{body['ledger_seq']}?hash={body['entry_hash']}&party=shop&t="
    )
    assert body["balance_cents"] == 30_000 - 1250
    assert "Anouk" not in response.get_data(as_text=True)
    assert "Vries" not in response.get_data(as_text=True)
    entry = store.get_entry(session, body["ledger_seq"])
    assert entry is not None and entry.hash == body["entry_hash"] and entry.kind == "redemption"
    assert entry.meta == {
        "shop": world.shop.id,
        "shop_name": world.shop.name,
        "receipt": body["receipt_number"],
        "voucher": world.vouchers[0].id,
        "fund": world.fund.id,
    }
    assert store.balance(session, payable_account(world.shop.id, world.fund.id)) == 1250
    history = wallet.history(session, world.household)
    assert any(item.get("receipt") == body["receipt_number"] for item in history), history


def test_a_retried_request_returns_the_first_result_and_pays_once(
    client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    k = key()
    first = pay(client, code=qr.payment_code, amount_cents=800, idempotency_key=k)
    again = pay(client, code=qr.payment_code, amount_cents=800, idempotency_key=k)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["receipt_number"] == first.get_json()["receipt_number"]
    assert again.get_json()["replayed"] is True
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_balance_is_hidden_when_the_fund_says_so(
    client: Any, session: Session, keyring: Any
) -> None:
    from tests.merchant.conftest import build_world

    w = build_world(session, keyring, show_balance_to_shop=False)
    qr = token_for(session, keyring, w.vouchers[0])
    login(client, w.cashier.email)
    body = pay(client, token=qr.token, amount_cents=100).get_json()
    assert body["balance_cents"] is None and body["balance"] is None


def test_owner_can_pay_too_and_family_or_anonymous_cannot(
    app: Any, client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    anonymous = pay(client, token=qr.token, amount_cents=100)
    assert anonymous.status_code == 401
    family = app.test_client()
    family_login(family)
    assert family.get("/wallet/").status_code == 200
    as_family = pay(family, token=qr.token, amount_cents=100)
    assert as_family.status_code == 403
    assert as_family.get_json()["error"]["code"] == "forbidden"
    login(client, world.owner.email)
    assert pay(client, token=qr.token, amount_cents=100).status_code == 201


def test_refund_by_the_same_shop_only_and_never_more_than_paid(
    app: Any, client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    paid = pay(client, token=qr.token, amount_cents=2000).get_json()
    url = f"/api/v1/merchant/redemptions/{paid['id']}/refunds"

    other = app.test_client()
    login(other, world.other_owner.email)
    stranger = other.post(url, json={"amount_cents": 100, "reason": "mistake"})
    assert stranger.status_code == 404
    assert stranger.get_json()["error"]["code"] == "redemption_not_found"

    part = client.post(
        url, json={"amount_cents": 500, "reason": "wrong size", "idempotency_key": "refund-key-1"}
    )
    assert part.status_code == 201
    body = part.get_json()
    assert body["receipt_number"] == f"R-{body['ledger_seq']:06d}"
    assert body["refundable_cents"] == 1500 and body["entry_hash"]
    entry = store.get_entry(session, body["ledger_seq"])
    assert entry is not None and entry.kind == "refund"
    assert (
        entry.meta["redemption"] == paid["id"] and entry.meta["receipt"] == body["receipt_number"]
    )
    session.rollback()  # end the test's read: SQLite lets one writer in at a time
    replay = client.post(
        url, json={"amount_cents": 500, "reason": "wrong size", "idempotency_key": "refund-key-1"}
    )
    assert replay.status_code == 200 and replay.get_json()["id"] == body["id"]
    too_much = client.post(url, json={"amount_cents": 1501, "reason": "all"})
    assert too_much.status_code == 409
    assert too_much.get_json()["error"]["refundable_cents"] == 1500
    rest = client.post(url, json={"amount_cents": 1500, "reason": "returned"})
    assert rest.status_code == 201 and rest.get_json()["refundable_cents"] == 0
    session.expire_all()
    assert store.balance(session, world.vouchers[0].account) == 30_000
    assert store.balance(session, payable_account(world.shop.id, world.fund.id)) == 0
    assert session.scalar(select(func.count()).select_from(Refund)) == 2
    assert store.verify(session).ok


def test_refund_after_payout_is_netted_in_the_payable_account(
    client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    paid = pay(client, token=qr.token, amount_cents=2000).get_json()
    payable = payable_account(world.shop.id, world.fund.id)
    store.append(
        session,
        "payout",
        [(payable, -2000), (world.fund.bank_account, 2000)],
        meta={"shop": world.shop.id},
    )
    session.commit()
    url = f"/api/v1/merchant/redemptions/{paid['id']}/refunds"
    assert client.post(url, json={"amount_cents": 700, "reason": "x"}).status_code == 201
    session.expire_all()
    assert store.balance(session, payable) == -700  # the next settlement pays 700 less
    listing = client.get("/api/v1/merchant/redemptions").get_json()
    assert listing["paid_out_cents"] == 2000 and listing["owed_cents"] == -700
    assert listing["paid_cents"] == 2000 and listing["refunded_cents"] == 700


def test_typed_codes_are_rate_limited_per_shop_user(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    codes = [pay(client, code=f"1000000{i}", amount_cents=100).status_code for i in range(11)]
    assert codes[:10] == [404] * 10
    assert codes[10] == 429
    qr = token_for(session, world.keyring, world.vouchers[0])
    assert pay(client, token=qr.token, amount_cents=100).status_code == 201  # scans go on


def test_shop_sees_only_its_own_payments_with_csv_export(
    app: Any, client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    mine = pay(
        client, token=token_for(session, world.keyring, world.vouchers[0]).token, amount_cents=1234
    ).get_json()
    other = app.test_client()
    login(other, world.other_owner.email)
    theirs = pay(
        other, token=token_for(session, world.keyring, world.vouchers[1]).token, amount_cents=999
    ).get_json()

    page = client.get("/merchant/payments").get_data(as_text=True)
    assert mine["receipt_number"] in page and theirs["receipt_number"] not in page
    assert "€ 12,34" in page and "Kassamedewerker" in page
    listing = client.get("/api/v1/merchant/redemptions").get_json()
    assert [line["receipt_number"] for line in listing["lines"]] == [mine["receipt_number"]]

    csv = client.get("/merchant/payments.csv")
    assert csv.mimetype == "text/csv"
    data = csv.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[1].split(";")[2:4] == ["12,34", mine["receipt_number"]]
    assert theirs["receipt_number"] not in text
    empty = client.get("/merchant/payments.csv?start=2001-01-01&end=2001-01-31")
    assert len(empty.get_data().decode("utf-8-sig").splitlines()) == 1


def test_cashier_cannot_manage_staff_or_bank_details(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.cashier.email)
    assert client.get("/merchant/staff").status_code == 403
    assert (
        client.post(
            "/merchant/bank", data={"iban": "NL91ABNA0417164300", "password": fx.PASSWORD}
        ).status_code
        == 403
    )


def test_owner_adds_a_cashier_who_can_log_in(
    app: Any, client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    response = client.post(
        "/merchant/staff",
        data={
            "name": "Nieuwe kassa",
            "email": "nieuw@spaak.example",
            "password": "lang genoeg wachtwoord",
        },
    )
    assert response.status_code == 302
    fresh = app.test_client()
    login(fresh, "nieuw@spaak.example", "lang genoeg wachtwoord")
    assert fresh.get("/merchant/scan").status_code == 200
    assert fresh.get("/merchant/staff").status_code == 403


def test_iban_change_needs_the_password_and_is_audited(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    wrong = client.post(
        "/merchant/bank", data={"iban": "NL91 ABNA 0417 1643 00", "password": "not my password"}
    )
    assert wrong.status_code == 400
    bad = client.post(
        "/merchant/bank", data={"iban": "NL00 ABNA 0417 1643 00", "password": fx.PASSWORD}
    )
    assert bad.status_code == 400
    ok = client.post(
        "/merchant/bank", data={"iban": "nl91 abna 0417 1643 00", "password": fx.PASSWORD}
    )
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Shop, world.shop.id).iban == "NL91ABNA0417164300"  # type: ignore[union-attr]
    event = session.scalars(select(AuditEvent).where(AuditEvent.name == "shop.iban_changed")).one()
    assert event.before == {"iban": "NL02ABNA0123456789"}
    assert event.after == {"iban": "NL91ABNA0417164300"}
    assert event.actor == f"shop_user:{world.owner.id}"


def test_application_creates_a_pending_shop_with_an_owner_login(
    client: Any, session: Session
) -> None:
    form = {
        "name": "Speelgoed Tol",
        "kvk": "1234 5679",
        "iban": "NL91 ABNA 0417 1643 00",
        "address": "Markt 3",
        "postcode": "9801 AC",
        "city": "Zuidhorn",
        "category": "toys",
        "email": "info@tol.example",
        "owner_name": "Tineke",
        "owner_email": "tineke@tol.example",
        "password": "een lang wachtwoord",
    }
    bad = client.post("/merchant/apply", data={**form, "kvk": "1234"})
    assert bad.status_code == 400 and "8" in bad.get_data(as_text=True)
    assert client.post("/merchant/apply", data=form).status_code == 302
    shop = session.scalars(select(Shop).where(Shop.kvk == "12345679")).one()
    assert shop.status == "pending" and shop.iban == "NL91ABNA0417164300"
    session.rollback()  # end the test's read: SQLite lets one writer in at a time
    login(client, "tineke@tol.example", "een lang wachtwoord")
    page = client.get("/merchant/").get_data(as_text=True)
    assert "Speelgoed Tol" in page and "NL91 ABNA 0417 1643 00" in page
