"""Reconciliation per fund: what the ledger paid each shop, what the bank booked, differences.

Differences are what a clerk must look at: statement lines that matched nothing (or matched
something they should not, like a booking of a cancelled batch), and payouts of an exported
batch that the bank has not booked ``days`` TARGET2 business days after the execution date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admin.models import BankLine, Payout, SettlementBatch
from admin.reports import exports
from admin.settlement import businessdays
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from merchant.models import Shop
from wallet.models import Fund

OVERDUE_DAYS = 3  # business days after execution before an unbooked payout is a difference
MAX_NOTE = 300


@dataclass(frozen=True)
class ShopRow:
    """One shop: paid by the ledger, booked by the bank, returned, and the gap."""

    shop_id: int
    name: str
    ledger_cents: int
    booked_cents: int
    returned_cents: int

    @property
    def difference_cents(self) -> int:
        """Return what the ledger paid that the bank has not booked (yet)."""
        return self.ledger_cents - self.booked_cents


@dataclass(frozen=True)
class Reconciliation:
    """The page's figures."""

    shops: list[ShopRow]
    lines: list[BankLine]
    overdue: list[tuple[Payout, date]]


def add_business_days(day: date, n: int) -> date:
    """Return the TARGET2 business day ``n`` business days after ``day``."""
    for _ in range(n):
        day = businessdays.next_business_day(date.fromordinal(day.toordinal() + 1))
    return day


def reconcile(
    session: Session, fund: Fund, *, today: date, days: int = OVERDUE_DAYS
) -> Reconciliation:
    """Return the fund's reconciliation as of ``today``."""
    rows = session.execute(
        select(Payout, SettlementBatch)
        .join(SettlementBatch, SettlementBatch.id == Payout.batch_id)
        .where(SettlementBatch.fund_id == fund.id, SettlementBatch.status != "cancelled")
    ).all()
    names: dict[int, str] = {
        int(shop_id): str(name)
        for shop_id, name in session.execute(
            select(Shop.id, Shop.name).where(Shop.id.in_({p.shop_id for p, _ in rows}))
        )
    }
    totals: dict[int, list[int]] = {}
    overdue = []
    for payout, batch in rows:
        t = totals.setdefault(payout.shop_id, [0, 0, 0])
        if payout.returned_seq is not None:
            t[2] += payout.amount_cents
            continue
        if batch.status != "draft":
            t[0] += payout.amount_cents
        if payout.booked_on is not None:
            t[1] += payout.amount_cents
        elif batch.status != "draft":
            due = add_business_days(batch.execution_date, days)
            if due < today:
                overdue.append((payout, due))
    lines = list(
        session.execute(
            select(BankLine)
            .where(
                BankLine.municipality_id == fund.municipality_id,
                or_(BankLine.fund_id == fund.id, BankLine.fund_id.is_(None)),
                BankLine.outcome.in_(("unmatched", "difference")),
                BankLine.resolved_at.is_(None),
            )
            .order_by(BankLine.id)
        ).scalars()
    )
    shops = [
        ShopRow(shop_id, names.get(shop_id, str(shop_id)), *t)
        for shop_id, t in sorted(totals.items())
    ]
    return Reconciliation(shops, lines, overdue)


def resolve_line(
    session: Session, fund: Fund, line_id: int, *, note: str, actor: str, ip: str | None = None
) -> BankLine:
    """Mark a difference as looked at, with the clerk's note; audited."""
    line = session.get(BankLine, line_id)
    if line is None or line.municipality_id != fund.municipality_id:
        raise DomainError("no_such_line", _l("This bank line does not exist."))
    text = " ".join((note or "").split())
    if not text or len(text) > MAX_NOTE:
        raise DomainError(
            "resolution_required",
            _l("Say in at most %(n)s characters what was done about this line.", n=MAX_NOTE),
        )
    if line.resolved_at is not None:
        raise DomainError("already_resolved", _l("This line was already resolved."))
    line.resolved_at, line.resolved_by, line.resolution = datetime.now(UTC), actor, text
    record_event(
        session,
        "bank_line.resolved",
        actor=actor,
        subject=f"bank_file:{line.file_id}",
        tenant_id=fund.municipality_id,
        after={"line": line.id, "outcome": line.outcome, "resolution": text},
        ip=ip,
    )
    return line


def tables(rec: Reconciliation) -> list[exports.Table]:
    """Return the reconciliation as tables for CSV and XLSX."""
    return [
        exports.Table(
            "shops",
            str(_l("Paid per shop")),
            [
                str(_l("Shop")),
                str(_l("Ledger")),
                str(_l("Bank booked")),
                str(_l("Returned")),
                str(_l("Difference")),
            ],
            [
                [
                    r.name,
                    exports.Cents(r.ledger_cents),
                    exports.Cents(r.booked_cents),
                    exports.Cents(r.returned_cents),
                    exports.Cents(r.difference_cents),
                ]
                for r in rec.shops
            ],
        ),
        exports.Table(
            "differences",
            str(_l("Differences")),
            [
                str(_l("Kind")),
                str(_l("Reference")),
                str(_l("Amount")),
                str(_l("Date")),
                str(_l("Text")),
            ],
            [
                [
                    line.detail or line.outcome,
                    line.reference,
                    exports.Cents(line.amount_cents),
                    line.booked_on,
                    line.text,
                ]
                for line in rec.lines
            ]
            + [
                ["not_booked", p.end_to_end_id, exports.Cents(-p.amount_cents), due, None]
                for p, due in rec.overdue
            ],
        ),
    ]
