"""Closing and extending a fund: expiry entries, expired vouchers, refusals, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.funds import closing
from admin.reports import services as reports
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from ledger import store
from tests.admin import workload as w
from wallet.models import Voucher

rapp = w.rapp  # fixture
rcli = w.rcli  # fixture

TODAY = reports.today()


def test_close_returns_remaining_budgets_to_the_fund(session: Session) -> None:
    world = w.seed(session)
    spent = world.vouchers[0]
    w.pay(session, world.fund, world.shops[0], spent, 30_000)  # all of it
    w.pay(session, world.fund, world.shops[0], world.vouchers[1], 1_000)
    fund_before = store.balance(session, world.fund.account)
    returned = closing.close_fund(session, world.fund, actor="test")
    session.commit()

    assert returned == 5 * 30_000 - 1_000
    assert store.balance(session, world.fund.account) == fund_before + returned
    assert all(store.balance(session, v.account) == 0 for v in world.vouchers)
    statuses = (
        session.execute(select(Voucher.status).where(Voucher.fund_id == world.fund.id))
        .scalars()
        .all()
    )
    assert set(statuses) == {"expired"}
    assert world.fund.status == "closed" and world.fund.closed_at is not None
    size = store.head(session)[0]
    kinds = [store.get_entry(session, s).kind for s in range(size - 4, size + 1)]  # type: ignore[union-attr]
    assert kinds == ["voucher.expiry"] * 5  # the emptied voucher gets no entry
    event = session.execute(select(AuditEvent).where(AuditEvent.name == "fund.closed")).scalar_one()
    assert event.before == {"status": "open", "period_end": world.fund.period_end.isoformat()}
    assert event.after["returned_cents"] == returned
    assert store.verify(session).ok
    with pytest.raises(DomainError) as again:
        closing.close_fund(session, world.fund, actor="test")
    assert again.value.code == "fund_closed"
    # The other municipality's fund is untouched.
    assert world.other_fund.status == "open"


def test_extend_before_closing_only(session: Session) -> None:
    world = w.seed(session)
    new_end = world.fund.period_end + timedelta(days=30)
    closing.extend_fund(session, world.fund, new_end, actor="test")
    assert world.fund.period_end == new_end
    for bad in (TODAY - timedelta(days=1), world.fund.period_start - timedelta(days=1)):
        with pytest.raises(DomainError) as err:
            closing.extend_fund(session, world.fund, bad, actor="test")
        assert err.value.code == "bad_end_date"
    closing.close_fund(session, world.fund, actor="test")
    with pytest.raises(DomainError) as closed:
        closing.extend_fund(session, world.fund, new_end, actor="test")
    assert closed.value.code == "fund_closed"


def test_due_funds_are_those_past_their_end(session: Session) -> None:
    world = w.seed(session)
    world.fund.period_end = TODAY - timedelta(days=1)
    assert [f.id for f in closing.due_funds(session)] == [world.fund.id]


def test_cli_close_and_extend(session: Session, rcli) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    world.fund.period_end = TODAY - timedelta(days=1)
    session.commit()
    fund = str(world.fund.id)
    extended = rcli("extend-fund", fund, "--until", (TODAY + timedelta(days=10)).isoformat())
    assert extended.exit_code == 0, extended.output
    assert rcli("close-fund", "--due").output == ""  # extended: no longer due
    assert rcli("close-fund").exit_code == 2
    closed = rcli("close-fund", fund)
    assert closed.exit_code == 0 and "1.800,00" in closed.output
    refused = rcli("extend-fund", fund, "--until", (TODAY + timedelta(days=20)).isoformat())
    assert refused.exit_code == 2 and "fund_closed" in refused.output
