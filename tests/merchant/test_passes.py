"""Paying with a printed pass and a PIN: same path, refusals and receipts as the phone's QR."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kindpakket.audit import AuditEvent
from ledger import store
from merchant.models import Redemption, Refusal
from tests import factories as fx
from tests.merchant.conftest import World, build_world, key, login, pay, token_for
from wallet import passes
from wallet.models import Household
from wallet.passmodels import Pass


def _issue(session: Session, world: World, **kw: Any) -> tuple[passes.IssuedPass, str]:
    issued = passes.issue_passes(session, world.fund, world.keyring, actor="cli", **kw)
    session.commit()
    assert issued and issued[0].pin is not None  # no wallet PIN yet: a PIN letter is due
    return issued[0], issued[0].pin


def _events(session: Session, name: str) -> int:
    return int(session.scalar(select(func.count()).where(AuditEvent.name == name)) or 0)


def test_a_pass_and_its_pin_pay_from_the_child_with_most_budget_left_with_a_receipt(
    client: Any, session: Session, world: World
) -> None:
    card, pin = _issue(session, world)
    assert card.code.startswith("KP2:") and len(card.code) == 44
    # The second child has more left, so the household's pass pays from that budget.
    store.append(
        session,
        "redemption.test",
        [(world.vouchers[0].account, -5_000), (world.fund.account, 5_000)],
        meta={},
    )
    session.commit()
    login(client, world.cashier.email)
    response = pay(client, token=card.code, pin=pin, amount_cents=1250)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["receipt_number"] == f"B-{body['ledger_seq']:06d}" and body["amount"] == "€ 12,50"
    paid = session.scalars(select(Redemption)).one()
    assert paid.voucher_id == world.vouchers[1].id
    assert store.balance(session, world.vouchers[1].account) == 30_000 - 1250
    assert "Anouk" not in response.get_data(as_text=True)


def test_without_the_pin_or_with_a_forged_pass_nothing_is_paid(
    client: Any, session: Session, world: World
) -> None:
    card, _ = _issue(session, world)
    login(client, world.cashier.email)
    assert pay(client, token=card.code, amount_cents=100).get_json()["error"]["code"] == (
        "pin_required"
    )
    forged = card.code[:-3] + ("AAA" if card.code[-3:] != "AAA" else "BBB")
    refused = pay(client, token=forged, pin="1", amount_cents=100)
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "pass_invalid"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    codes = set(session.scalars(select(Refusal.code)))
    assert {"pin_required", "pass_invalid"} <= codes


def test_three_wrong_pins_block_the_pass_until_the_municipality_sends_a_new_pin(
    client: Any, session: Session, world: World
) -> None:
    card, pin = _issue(session, world)
    login(client, world.cashier.email)
    first = pay(client, token=card.code, pin="97531", amount_cents=100)
    assert first.status_code == 401 and first.get_json()["error"]["attempts_left"] == 2
    assert pay(client, token=card.code, pin="97532", amount_cents=100).status_code == 401
    third = pay(client, token=card.code, pin="97533", amount_cents=100).get_json()["error"]
    assert (third["code"] == "pass_blocked" and "municipality" in third["message"].lower()) or (
        "gemeente" in third["message"]
    )
    # Now even the right PIN is refused: the pass is blocked.
    right = pay(client, token=card.code, pin=pin, amount_cents=100)
    assert right.status_code == 409 and right.get_json()["error"]["code"] == "pass_blocked"
    assert _events(session, "pass.pin_locked") == 1 and _events(session, "pass.pin_wrong") == 2
    session.expire_all()
    household = session.get(Household, world.household.id)
    assert household is not None
    new_pin = passes.issue_pin_letter(session, household, actor="admin:1")
    session.commit()
    assert pay(client, token=card.code, pin=pin, amount_cents=100).status_code == 401
    assert pay(client, token=card.code, pin=new_pin, amount_cents=100).status_code == 201


def test_a_lost_pass_is_refused_at_once_and_its_replacement_pays(
    client: Any, session: Session, world: World
) -> None:
    card, pin = _issue(session, world)
    old = session.get(Pass, card.pass_id)
    assert old is not None
    new = passes.replace_pass(session, old, world.keyring, actor="admin:1")
    session.commit()
    login(client, world.cashier.email)
    refused = pay(client, token=card.code, pin=pin, amount_cents=100)
    assert refused.get_json()["error"]["code"] == "pass_blocked"
    assert pay(client, token=new.code, pin=pin, amount_cents=100).status_code == 201
    assert new.number != card.number and _events(session, "pass.replaced") == 1


def test_a_family_with_an_activated_wallet_pays_with_its_wallet_pin(
    client: Any, session: Session, world: World
) -> None:
    from kindpakket.passwords import hash_secret

    world.household.pin_hash = hash_secret("27183")
    session.commit()
    issued = passes.issue_passes(session, world.fund, world.keyring, actor="cli")
    session.commit()
    assert issued[0].pin is None  # no PIN letter: the wallet PIN works
    login(client, world.cashier.email)
    assert pay(client, token=issued[0].code, pin="27183", amount_cents=100).status_code == 201


def test_per_child_passes_pay_from_that_childs_budget_only(
    client: Any, session: Session, world: World
) -> None:
    passes.set_pass_per(session, world.fund, "child", actor="admin:1")
    issued = passes.issue_passes(session, world.fund, world.keyring, actor="cli")
    session.commit()
    assert len(issued) == 2 and issued[0].pin and issued[1].pin is None
    login(client, world.cashier.email)
    response = pay(client, token=issued[0].code, pin=issued[0].pin, amount_cents=30_001)
    assert response.get_json()["error"]["code"] == "insufficient_balance"
    assert (
        pay(client, token=issued[0].code, pin=issued[0].pin, amount_cents=30_000).status_code == 201
    )
    assert store.balance(session, world.vouchers[0].account) == 0
    assert store.balance(session, world.vouchers[1].account) == 30_000


def test_a_pass_of_another_municipality_is_refused(
    client: Any, session: Session, world: World
) -> None:
    other = fx.municipality(session, slug="elders", name="Gemeente Elders")
    fund = fx.fund(session, other)
    fx.family(session, fund, reference="E-1")
    session.commit()
    issued = passes.issue_passes(session, fund, world.keyring, actor="cli")
    session.commit()
    login(client, world.cashier.email)
    refused = pay(client, token=issued[0].code, pin=issued[0].pin, amount_cents=100)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "merchant_not_approved"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_a_retried_pass_payment_returns_the_first_receipt(
    client: Any, session: Session, world: World
) -> None:
    card, pin = _issue(session, world)
    login(client, world.cashier.email)
    k = key()
    first = pay(client, token=card.code, pin=pin, amount_cents=700, idempotency_key=k)
    again = pay(client, token=card.code, pin=pin, amount_cents=700, idempotency_key=k)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["receipt_number"] == first.get_json()["receipt_number"]


def test_one_pass_at_two_tills_at_once_spends_only_the_budget_there_is(
    app: Any, engine: Engine, session: Session, keyring: Any
) -> None:
    world = build_world(session, keyring, budget_cents=10_000)
    passes.set_pass_per(session, world.fund, "child", actor="cli")
    card = passes.issue_passes(session, world.fund, world.keyring, actor="cli")[0]
    session.commit()
    tills = [app.test_client(), app.test_client()]
    login(tills[0], world.cashier.email)
    login(tills[1], world.owner.email)
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def till(client: Any) -> None:
        barrier.wait()
        answers.append(pay(client, token=card.code, pin=card.pin, amount_cents=8_000).status_code)

    threads = [threading.Thread(target=till, args=(c,)) for c in tills]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 409]
    assert store.balance(session, world.vouchers[0].account) == 2_000


def test_a_shop_trying_many_passes_is_limited_but_its_scans_go_on(
    client: Any, session: Session, world: World
) -> None:
    card, _ = _issue(session, world)
    login(client, world.cashier.email)
    forged = [card.code[:-3] + f"{c}AA" for c in "BCDEFGHIJKL"]  # eleven passes that fail
    codes = [pay(client, token=f, pin="12345", amount_cents=100).status_code for f in forged]
    assert codes[:10] == [404] * 10 and codes[10] == 429
    qr = token_for(session, world.keyring, world.vouchers[0])
    assert pay(client, token=qr.token, amount_cents=100).status_code == 201  # scans go on
    assert pay(client, code="10000001", amount_cents=100).status_code == 404  # typed: own budget
