"""Closing a fund: what is left on the vouchers goes back to the fund; extending a fund."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin.reports.services import today
from kindpakket.accounts import voucher_account
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from ledger import store
from wallet.models import Fund, Voucher

BATCH = 5_000  # expiry entries appended per call


def _refuse_closed(fund: Fund) -> None:
    if fund.status == "closed":
        raise DomainError("fund_closed", _l("This fund is closed."))


def close_fund(
    session: Session, fund: Fund, *, actor: str, on: date | None = None, ip: str | None = None
) -> int:
    """Close the fund: expire every voucher, returning positive balances; return the cents."""
    _refuse_closed(fund)
    # Lock the fund row: no second close (or settlement) of this fund meanwhile.
    session.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update())
    ids = list(session.execute(select(Voucher.id).where(Voucher.fund_id == fund.id)).scalars())
    returned = expired = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        names = {i: voucher_account(i) for i in chunk}
        balances = store.balances(session, names.values())
        left = {i: balances[name] for i, name in names.items() if balances[name] > 0}
        specs = [
            store.NewEntry(
                "voucher.expiry",
                [(names[i], -cents), (fund.account, cents)],
                {"fund": fund.id, "voucher": i},
                f"voucher.expiry:{i}",
            )
            for i, cents in left.items()
        ]
        store.append_many(session, specs)
        returned += sum(left.values())
        expired += len(specs)
    session.execute(update(Voucher).where(Voucher.fund_id == fund.id).values(status="expired"))
    before = {"status": fund.status, "period_end": fund.period_end.isoformat()}
    fund.status = "closed"
    fund.closed_at = datetime.now(UTC)
    record_event(
        session,
        "fund.closed",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=fund.municipality_id,
        before=before,
        after={
            "status": "closed",
            "on": (on or today()).isoformat(),
            "returned_cents": returned,
            "vouchers_with_balance": expired,
            "vouchers": len(ids),
        },
        ip=ip,
    )
    return returned


def due_funds(session: Session, on: date | None = None) -> list[Fund]:
    """Return the open funds whose period ended before ``on`` (default today)."""
    return list(
        session.execute(
            select(Fund).where(Fund.status == "open", Fund.period_end < (on or today()))
        ).scalars()
    )


def extend_fund(
    session: Session, fund: Fund, new_end: date, *, actor: str, ip: str | None = None
) -> None:
    """Move the fund's last day to ``new_end`` while it is open."""
    _refuse_closed(fund)
    if new_end < today() or new_end < fund.period_start:
        raise DomainError(
            "bad_end_date",
            _l("The new end date must be today or later, and after the start."),
            end=new_end.isoformat(),
        )
    before = {"period_end": fund.period_end.isoformat()}
    fund.period_end = new_end
    record_event(
        session,
        "fund.extended",
        actor=actor,
        subject=f"fund:{fund.id}",
        tenant_id=fund.municipality_id,
        before=before,
        after={"period_end": new_end.isoformat()},
        ip=ip,
    )
