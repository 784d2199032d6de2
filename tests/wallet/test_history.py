"""History read from the ledger; voucher views; blocking."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from kindpakket.errors import DomainError
from ledger import store
from merchant.models import payable_account
from tests import factories
from tests.wallet.conftest import PIN, World
from wallet import services


def pay(session: Session, world: World, voucher_index: int, cents: int, receipt: str) -> int:
    """Append a redemption entry as the merchant side does; return its seq."""
    shop = factories.shop(
        session,
        world.fund,
        kvk=f"1{receipt[-1]}345678",
        owner_email=f"{receipt}@x.example",
        cashier_email=None,
    )[0]
    voucher = world.vouchers[voucher_index]
    done = store.append(
        session,
        "redemption",
        [(voucher.account, -cents), (payable_account(shop.id, world.fund.id), cents)],
        meta={"shop": shop.id, "shop_name": shop.name, "receipt": receipt, "voucher": voucher.id},
    )
    return done.seq


def test_history_lists_payments_and_refunds_of_this_family_only(
    session: Session, world: World
) -> None:
    first = pay(session, world, 0, 1250, "R-1")
    voucher = world.vouchers[0]
    shop_id = store.get_entry(session, first).meta["shop"]
    refund = store.append(
        session,
        "refund",
        [(payable_account(shop_id, world.fund.id), -250), (voucher.account, 250)],
        meta={
            "shop": shop_id,
            "shop_name": "Fietsenwinkel De Spaak",
            "receipt": "F-1",
            "voucher": voucher.id,
        },
    )
    other = world.other_vouchers[0]
    store.append(
        session,
        "redemption",
        [(other.account, -700), (payable_account(shop_id, world.fund.id), 700)],
        meta={"shop": shop_id, "shop_name": "x", "receipt": "R-9", "voucher": other.id},
    )
    items = services.history(session, world.household)
    assert [i["ledger_seq"] for i in items] == [refund.seq, first]
    newest, oldest = items
    assert newest["kind"] == "refund" and newest["amount_cents"] == 250
    assert oldest["kind"] == "redemption" and oldest["amount_cents"] == -1250
    assert oldest["shop_name"] == "Fietsenwinkel De Spaak" and oldest["receipt"] == "R-1"
    assert oldest["child_first_name"] == "Anouk" and oldest["voucher_id"] == voucher.id
    assert oldest["entry_hash"] == store.get_entry(session, first).hash
    assert oldest["receipt_url"] == f"/receipt/{first}?hash={oldest['entry_hash']}"
    assert oldest["at"].tzinfo is not None
    theirs = services.history(session, world.other)
    assert [i["receipt"] for i in theirs] == ["R-9"]


def test_voucher_view_shows_the_remaining_budget_and_period(session: Session, world: World) -> None:
    pay(session, world, 1, 4000, "R-2")
    view = services.voucher_view(session, world.vouchers[1])
    assert view["balance_cents"] == 26_000
    assert view["child_first_name"] == "Daan"
    assert view["period_start"] == world.fund.period_start
    assert view["period_end"] == world.fund.period_end
    assert view["status"] == "active"


def test_block_and_unblock_with_pin(session: Session, world: World) -> None:
    services.activate(session, "KP-7F3K-Q9XM-2HDT-8WNC", PIN, PIN, device="x")
    voucher = world.vouchers[0]
    services.block_voucher(session, world.household, voucher, actor="household:1")
    assert voucher.status == "blocked"
    with pytest.raises(DomainError) as caught:
        services.unblock_voucher(session, world.household, voucher, "99999", actor="h")
    assert caught.value.code == "pin_wrong" and voucher.status == "blocked"
    assert world.household.pin_failures == 1
    services.unblock_voucher(session, world.household, voucher, PIN, actor="h")
    assert voucher.status == "active" and world.household.pin_failures == 0


def test_a_family_cannot_touch_another_familys_voucher(session: Session, world: World) -> None:
    theirs = world.other_vouchers[0]
    for call in (
        lambda: services.household_voucher(session, world.household, theirs.id),
        lambda: services.block_voucher(session, world.household, theirs, actor="h"),
        lambda: services.unblock_voucher(session, world.household, theirs, PIN, actor="h"),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.code == "voucher_not_found" and caught.value.status == 404
    assert theirs.status == "active"
