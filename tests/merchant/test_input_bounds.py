"""Input that once answered HTTP 500 now gets 404, 413 or 422 with our error body.

Found by independent testing: ids beyond a BIGINT, amounts of 2**63 and more (whose refusal
was lost with the 500), a lone surrogate in an idempotency key, JSON nested 100 000 deep, and
on PostgreSQL NUL bytes in forms, JSON and query strings. Each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from merchant.models import Redemption, Refusal, Shop
from tests import factories as fx
from tests.admin.workload import login as admin_login
from tests.merchant.conftest import World, family_login, key, login, pay, token_for

TOO_BIG = 2**63


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert an error answer with our JSON body; return its ``error`` part."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return dict(body["error"])


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/ledger/entries/{TOO_BIG}",
        f"/api/v1/ledger/entries/{TOO_BIG}/proof",
        f"/api/v1/ledger/checkpoints/{10**30}",
        "/api/v1/ledger/entries/" + "9" * 5000,
        "/api/v1/ledger/entries/0",
        "/api/v1/ledger/entries/\u0663",  # an Arabic-Indic digit is not an id
        f"/api/v1/wallet/vouchers/{TOO_BIG}",
        f"/api/v1/wallet/vouchers/{2**31}",  # an INTEGER column on PostgreSQL
    ],
)
def test_ids_outside_their_column_are_not_found(client: Any, path: str) -> None:
    _error(client.get(path), 404, "not_found")


def test_a_refund_of_a_payment_id_outside_an_integer_is_not_found(
    client: Any, world: World
) -> None:
    login(client, world.cashier.email)
    body = {"amount_cents": 1, "reason": "kapot", "idempotency_key": key()}
    response = client.post(f"/api/v1/merchant/redemptions/{2**31}/refunds", json=body)
    _error(response, 404, "not_found")


def test_public_receipt_of_an_id_outside_a_bigint_is_a_not_found_page(client: Any) -> None:
    response = client.get(f"/receipt/{TOO_BIG}")
    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_an_amount_of_2_to_the_63_is_refused_and_the_refusal_kept(
    client: Any, world: World, session: Session
) -> None:
    login(client, world.cashier.email)
    qr = token_for(session, world.keyring, world.vouchers[0])
    for amount in (TOO_BIG, 10**30, -TOO_BIG - 1):
        answer = _error(pay(client, token=qr.token, amount_cents=amount), 400)
        assert answer["code"] in ("amount_too_large", "amount_not_positive")
    codes = session.execute(select(Refusal.code, Refusal.amount_cents)).all()
    assert sorted(codes) == [
        ("amount_not_positive", None),
        ("amount_too_large", None),
        ("amount_too_large", None),
    ]
    assert session.execute(select(Redemption)).first() is None


def test_a_refund_of_2_to_the_63_is_invalid_input(client: Any, world: World) -> None:
    login(client, world.cashier.email)
    response = client.post(
        "/api/v1/merchant/redemptions/1/refunds",
        json={"amount_cents": TOO_BIG, "reason": "kapot", "idempotency_key": key()},
    )
    assert "amount_cents" in _error(response, 422, "invalid_input")["fields"]["json"]


def _post_raw(client: Any, path: str, body: str) -> Any:
    return client.post(path, data=body.encode(), content_type="application/json")


def test_a_lone_surrogate_in_an_idempotency_key_is_refused(client: Any, world: World) -> None:
    login(client, world.cashier.email)
    body = '{"code": "123456789012", "amount_cents": 100, "idempotency_key": "abcdefgh\\ud800"}'
    answer = _error(_post_raw(client, "/api/v1/merchant/redemptions", body), 422, "invalid_text")
    assert answer["field"] == "json.idempotency_key"


@pytest.mark.parametrize(("depth", "status"), [(100_000, 413), (1_000, 422)])
def test_deeply_nested_json_is_refused(client: Any, world: World, depth: int, status: int) -> None:
    login(client, world.cashier.email)
    body = "[" * depth + "]" * depth
    answer = _error(_post_raw(client, "/api/v1/merchant/redemptions", body), status)
    assert answer["code"] == ("too_large" if status == 413 else "json_too_deep")


def test_a_number_of_5000_digits_is_invalid_json(client: Any, world: World) -> None:
    login(client, world.cashier.email)
    body = '{"code": "1", "amount_cents": ' + "9" * 5000 + ', "idempotency_key": "abcdefghij"}'
    _error(_post_raw(client, "/api/v1/merchant/redemptions", body), 400, "invalid_json")


def test_nul_in_json_idempotency_key_and_refund_reason_is_refused(
    client: Any, world: World, session: Session
) -> None:
    login(client, world.cashier.email)
    qr = token_for(session, world.keyring, world.vouchers[0])
    response = pay(client, token=qr.token, amount_cents=100, idempotency_key="abc\x00defgh")
    _error(response, 422, "invalid_text")
    paid = pay(client, token=qr.token, amount_cents=100)
    assert paid.status_code == 201, paid.get_data(as_text=True)
    refund = client.post(
        f"/api/v1/merchant/redemptions/{paid.get_json()['id']}/refunds",
        json={"amount_cents": 50, "reason": "kapot\x00", "idempotency_key": key()},
    )
    _error(refund, 422, "invalid_text")
    page = client.post(
        f"/merchant/payments/{paid.get_json()['id']}/refund",
        data={"amount": "0,50", "reason": "kapot\x00"},
    )
    assert page.status_code == 422
    assert "NUL" in page.get_data(as_text=True)


def test_nul_in_a_shop_application_is_refused(client: Any, session: Session) -> None:
    form = {
        "name": "Speelgoed\x00winkel",
        "kvk": "11223344",
        "iban": "NL91ABNA0417164300",
        "address": "Dorpsstraat 1",
        "postcode": "9801 AA",
        "city": "Zuidhorn",
        "category": "toys",
        "email": "winkel@example.org",
        "owner_name": "Els",
        "owner_email": "els@example.org",
        "password": "een lang wachtwoord",
    }
    response = client.post("/merchant/apply", data=form)
    assert response.status_code == 422
    assert session.execute(select(Shop)).first() is None


def test_nul_in_household_search_and_audit_filters_is_refused(
    client: Any, session: Session
) -> None:
    municipality = fx.municipality(session)
    fund = fx.fund(session, municipality)
    fx.admin_user(session, municipality)
    session.commit()
    admin_login(client)
    response = client.get(f"/admin/funds/{fund.id}?household=H%00-1")
    assert response.status_code == 422
    for query in ("actor=admin%003", "name=fund%00", "from=2026-01-01%00"):
        response = client.get(f"/admin/audit/?{query}")
        assert response.status_code == 422, query
    api = client.get("/api/v1/ledger/consistency?old=0%00&new=1")
    assert _error(api, 422, "invalid_text")["field"] == "query.old"


def test_date_times_in_api_answers_carry_their_zone(client: Any, world: World) -> None:
    family_login(client)
    devices = client.get("/api/v1/wallet/sessions").get_json()["devices"]
    assert devices
    for device in devices:
        for name in ("created_at", "last_seen_at"):
            assert datetime.fromisoformat(device[name]).utcoffset() is not None, device


def test_days_outside_1900_to_2999_in_date_filters_are_refused(
    client: Any, session: Session, world: World
) -> None:
    fx.admin_user(session, world.fund.municipality)
    session.commit()
    admin_login(client)
    for query in ("from=0001-01-01", "to=9999-12-31", "from=2026-01-01&to=3000-01-01"):
        assert client.get(f"/admin/audit/?{query}").status_code == 422, query
        assert client.get(f"/admin/audit/export.csv?{query}").status_code == 422, query
    assert client.get("/admin/audit/?from=2026-01-01&to=2026-12-31").status_code == 200
    login(client, world.cashier.email)
    api = client.get("/api/v1/merchant/redemptions?from=0001-01-01")
    assert _error(api, 422, "date_out_of_range")["field"] == "query.from"
