"""The seeding module's bulk payments: the rows the payment service writes, in bulk."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.reports import services as reports
from kindpakket.accounts import voucher_account
from kindpakket.keys import Keyring
from kindpakket.seeding import bulk, rows
from ledger import store
from ledger.errors import InsufficientBalance
from merchant import redemptions
from merchant.models import Redemption, ShopUser
from wallet import tokens


def test_a_payment_after_bulk_payments_continues_their_ledger_and_receipts(
    session: Session, tmp_path: Path
) -> None:
    fund = rows.fund(session, rows.municipality(session))  # entry 1: the deposit
    [(shop_id, cashier_id)] = bulk.shops(session, 1, fund=fund)
    vouchers = bulk.households(session, fund, 2, children=1)  # entries 2 and 3: the budgets
    first = datetime.now(UTC) - timedelta(days=2)
    paid = [
        bulk.Paid(first + timedelta(minutes=i), vouchers[i % 2], shop_id, cashier_id, 100 + i)
        for i in range(40)
    ]
    assert bulk.payments(session, fund.id, paid) == 40
    session.commit()

    ring = Keyring(tmp_path / "keys")
    ring.ensure("token")
    info, signing = ring.signing_key("token")
    token = tokens.issue_token(vouchers[0], (info.kid, signing), int(time.time())).text
    cashier = session.get(ShopUser, cashier_id)
    assert cashier is not None
    payment = redemptions.redeem(
        session,
        cashier=cashier,
        amount_cents=5,
        idempotency_key="after-the-bulk",
        keyring=ring,
        token=token,
    )
    session.commit()

    report = store.verify(session)
    assert report.ok, report.problem
    assert payment.receipt_number == "B-000044"
    receipts = session.execute(select(Redemption.receipt_number).order_by(Redemption.id))
    assert list(receipts.scalars()) == [f"B-{seq:06d}" for seq in range(4, 45)]
    spent = sum(p.cents for p in paid if p.voucher_id == vouchers[0]) + 5
    assert store.balance(session, voucher_account(vouchers[0])) == fund.budget_cents - spent
    figures = reports.fund_report(session, fund, fund.period_start, reports.today())
    assert figures.payments == 41
    assert figures.paid_cents == sum(p.cents for p in paid) + 5


def test_bulk_payments_never_take_a_voucher_below_zero(session: Session) -> None:
    fund = rows.fund(session, rows.municipality(session), budget_cents=1_000)
    [(shop_id, cashier_id)] = bulk.shops(session, 1, fund=fund)
    [voucher] = bulk.households(session, fund, 1, children=1)
    now = datetime.now(UTC)
    too_much = [bulk.Paid(now, voucher, shop_id, cashier_id, 600)] * 2
    with pytest.raises(InsufficientBalance):
        bulk.payments(session, fund.id, too_much)
