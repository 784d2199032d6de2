"""Every refusal code through the API: plain message, HTTP status, recorded, no money moved."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket.keys import Keyring
from ledger import store
from merchant.models import Redemption, Refusal, ShopApproval
from tests.merchant.conftest import World, key, login, pay, raw_token, token_for
from wallet.models import Fund, Voucher

Setup = Callable[[Session, World, Path], dict[str, Any]]


def _tamper(text: str) -> str:
    i = len(text) - 20  # inside the signature
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]


def _not_a_token(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": "HELLO-THIS-IS-A-BARCODE"}


def _bad_signature(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": _tamper(token_for(s, w.keyring, w.vouchers[0]).token)}


def _unknown_key(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    stranger = Keyring(tmp / "stranger")
    return {"token": token_for(s, stranger, w.vouchers[0]).token}


def _expired(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": raw_token(w.keyring, w.vouchers[0].id, int(time.time()) - 600)}


def _not_yet_valid(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": raw_token(w.keyring, w.vouchers[0].id, int(time.time()) + 3600)}


def _used(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    qr = token_for(s, w.keyring, w.vouchers[0])
    return {"token": qr.token, "_first": True}


def _voucher_not_found(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": raw_token(w.keyring, 999_999, int(time.time()))}


def _code_unknown(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"code": "00000000" if token_for(s, w.keyring, w.vouchers[0]) else ""}


def _voucher_status(status: str) -> Setup:
    def setup(s: Session, w: World, tmp: Path) -> dict[str, Any]:
        qr = token_for(s, w.keyring, w.vouchers[0])
        s.get(Voucher, w.vouchers[0].id).status = status  # type: ignore[union-attr]
        s.commit()
        return {"token": qr.token}

    return setup


def _fund_change(**values: Any) -> Setup:
    def setup(s: Session, w: World, tmp: Path) -> dict[str, Any]:
        qr = token_for(s, w.keyring, w.vouchers[0])
        fund = s.get(Fund, w.fund.id)
        for name, value in values.items():
            setattr(fund, name, value)
        s.commit()
        return {"token": qr.token}

    return setup


def _approval(status: str | None) -> Setup:
    def setup(s: Session, w: World, tmp: Path) -> dict[str, Any]:
        qr = token_for(s, w.keyring, w.vouchers[0])
        row = s.execute(select(ShopApproval).where(ShopApproval.shop_id == w.shop.id)).scalar_one()
        if status is None:
            s.delete(row)
        else:
            row.status = status
        s.commit()
        return {"code": qr.payment_code}

    return setup


def _shop_suspended(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    qr = token_for(s, w.keyring, w.vouchers[0])
    s.merge(w.shop).status = "suspended"
    s.commit()
    return {"token": qr.token}


def _too_much(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": token_for(s, w.keyring, w.vouchers[0]).token, "amount_cents": 30_001}


def _zero(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {"token": token_for(s, w.keyring, w.vouchers[0]).token, "amount_cents": 0}


def _missing(s: Session, w: World, tmp: Path) -> dict[str, Any]:
    return {}


CASES: list[tuple[str, int, Setup]] = [
    ("not_a_token", 400, _not_a_token),
    ("bad_signature", 400, _bad_signature),
    ("unknown_key", 400, _unknown_key),
    ("token_expired", 400, _expired),
    ("token_not_yet_valid", 400, _not_yet_valid),
    ("token_used", 409, _used),
    ("voucher_not_found", 404, _voucher_not_found),
    ("payment_code_invalid", 404, _code_unknown),
    ("voucher_blocked", 409, _voucher_status("blocked")),
    ("voucher_expired", 409, _voucher_status("expired")),
    ("fund_closed", 409, _fund_change(status="closed")),
    ("merchant_not_approved", 403, _approval(None)),
    ("merchant_not_approved", 403, _approval("rejected")),
    ("shop_suspended", 403, _approval("suspended")),
    ("shop_suspended", 403, _shop_suspended),
    ("category_not_allowed", 403, _fund_change(categories=["toys"])),
    ("insufficient_balance", 409, _too_much),
    ("amount_not_positive", 400, _zero),
    ("missing_code", 400, _missing),
]


@pytest.mark.parametrize(
    ("code", "status", "setup"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_refusal_is_answered_recorded_and_moves_no_money(
    client: Any,
    session: Session,
    world: World,
    tmp_path: Path,
    code: str,
    status: int,
    setup: Setup,
) -> None:
    body = setup(session, world, tmp_path)
    body.setdefault("amount_cents", 1250)
    login(client, world.cashier.email)
    if body.pop("_first", False):
        assert pay(client, **body).status_code == 201
    size_before = store.head(session)[0]
    refusals_before = session.scalar(select(func.count()).select_from(Refusal))
    session.rollback()  # end the test's read: SQLite lets one writer in at a time

    response = pay(client, **body)

    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 10 and "Kindpakket" not in error.get("child", "")
    session.expire_all()
    assert store.head(session)[0] == size_before
    rows = session.scalars(select(Refusal).order_by(Refusal.id)).all()
    assert len(rows) == refusals_before + 1
    assert rows[-1].code == code and rows[-1].shop_id == world.shop.id
    assert rows[-1].cashier_id == world.cashier.id


def test_messages_are_dutch_by_default_and_english_on_request(
    client: Any, session: Session, world: World
) -> None:
    old = raw_token(world.keyring, world.vouchers[0].id, int(time.time()) - 600)
    login(client, world.cashier.email)
    nl = pay(client, token=old, amount_cents=100).get_json()["error"]["message"]
    client.get("/merchant/login?lang=en")
    en = pay(client, token=old, amount_cents=100).get_json()["error"]["message"]
    assert "verlopen" in nl and "nieuwe code" in nl
    assert en == "This code has expired. Ask the family to show a fresh code."


@pytest.mark.parametrize("show", [True, False])
def test_insufficient_balance_tells_what_is_left_only_when_the_fund_allows(
    client: Any, session: Session, keyring: Keyring, show: bool
) -> None:
    from tests.merchant.conftest import build_world

    w = build_world(session, keyring, show_balance_to_shop=show)
    qr = token_for(session, keyring, w.vouchers[0])
    login(client, w.cashier.email)
    error = pay(client, token=qr.token, amount_cents=30_001).get_json()["error"]
    assert error["code"] == "insufficient_balance"
    if show:
        assert error["balance_cents"] == 30_000 and "€ 300,00" in error["message"]
    else:
        assert "balance_cents" not in error and "300" not in error["message"]


def test_a_refused_amount_can_be_retried_lower_with_the_same_code(
    client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    assert pay(client, code=qr.payment_code, amount_cents=99_999).status_code == 409
    ok = pay(client, code=qr.payment_code, amount_cents=29_999)
    assert ok.status_code == 201 and ok.get_json()["balance_cents"] == 1
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_idempotency_key_with_another_amount_is_a_conflict(
    client: Any, session: Session, world: World
) -> None:
    qr = token_for(session, world.keyring, world.vouchers[0])
    login(client, world.cashier.email)
    k = key()
    assert pay(client, token=qr.token, amount_cents=500, idempotency_key=k).status_code == 201
    again = pay(client, token=qr.token, amount_cents=700, idempotency_key=k)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "idempotency_conflict"
