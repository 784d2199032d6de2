"""What a shop sees of its own money: payments, refunds, totals per period, CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket import spreadsheet
from kindpakket.accounts import payable_like
from kindpakket.money import euros_text
from kindpakket.time import ZONE, day_start
from ledger.models import LedgerAccount, LedgerBalance, LedgerEntry, LedgerPosting
from merchant.models import Redemption, Refund, ShopUser

PAYOUT_KINDS = ("payout", "payout.reversal")


@dataclass(frozen=True)
class Line:
    """One payment (positive) or refund (negative amount) of the shop."""

    kind: str  # payment | refund
    id: int
    redemption_id: int
    created_at: datetime
    amount_cents: int
    receipt_number: str
    cashier: str
    fund_id: int
    ledger_seq: int
    entry_hash: str
    refundable_cents: int | None


@dataclass(frozen=True)
class Totals:
    """Sums of a period, and what is owed now."""

    paid_cents: int
    refunded_cents: int
    paid_out_cents: int  # transferred to the shop's bank in the period
    owed_cents: int  # what the municipality owes the shop today, all funds

    @property
    def net_cents(self) -> int:
        """Return payments minus refunds."""
        return self.paid_cents - self.refunded_cents


def bounds(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """Return UTC instants covering local days ``start`` to ``end`` (inclusive)."""
    low = day_start(start or date(2000, 1, 1))
    high = day_start((end or date(2999, 12, 30)) + timedelta(days=1))
    return low, high


def lines(session: Session, shop_id: int, start: date | None, end: date | None) -> list[Line]:
    """Return the shop's payments and refunds in the period, newest first."""
    low, high = bounds(start, end)
    out = [
        Line(
            "payment",
            r.id,
            r.id,
            r.created_at,
            r.amount_cents,
            r.receipt_number,
            name,
            r.fund_id,
            r.ledger_seq,
            r.entry_hash,
            r.amount_cents - r.refunded_cents,
        )
        for r, name in session.execute(
            select(Redemption, ShopUser.name)
            .join(ShopUser, ShopUser.id == Redemption.cashier_id)
            .where(
                Redemption.shop_id == shop_id,
                Redemption.created_at >= low,
                Redemption.created_at < high,
            )
        )
    ]
    out += [
        Line(
            "refund",
            f.id,
            f.redemption_id,
            f.created_at,
            -f.amount_cents,
            f.receipt_number,
            name,
            fund_id,
            f.ledger_seq,
            f.entry_hash,
            None,
        )
        for f, name, fund_id in session.execute(
            select(Refund, ShopUser.name, Redemption.fund_id)
            .join(ShopUser, ShopUser.id == Refund.cashier_id)
            .join(Redemption, Redemption.id == Refund.redemption_id)
            .where(Refund.shop_id == shop_id, Refund.created_at >= low, Refund.created_at < high)
        )
    ]
    return sorted(out, key=lambda line: (line.created_at, line.ledger_seq), reverse=True)


def totals(session: Session, shop_id: int, start: date | None, end: date | None) -> Totals:
    """Return the period's payments, refunds and payouts, and what is owed today."""
    low, high = bounds(start, end)
    paid = session.execute(
        select(func.coalesce(func.sum(Redemption.amount_cents), 0)).where(
            Redemption.shop_id == shop_id,
            Redemption.created_at >= low,
            Redemption.created_at < high,
        )
    ).scalar_one()
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.shop_id == shop_id, Refund.created_at >= low, Refund.created_at < high
        )
    ).scalar_one()
    payable = LedgerAccount.name.like(payable_like(shop_id=shop_id))
    paid_out = session.execute(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerEntry, LedgerEntry.seq == LedgerPosting.seq)
        .where(
            payable,
            LedgerEntry.kind.in_(PAYOUT_KINDS),
            LedgerEntry.created_at >= low,
            LedgerEntry.created_at < high,
        )
    ).scalar_one()
    owed = session.execute(
        select(func.coalesce(func.sum(LedgerBalance.balance), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerBalance.account_id)
        .where(payable)
    ).scalar_one()
    return Totals(int(paid), int(refunded), -int(paid_out), int(owed))


def csv_bytes(rows: list[Line], labels: dict[str, str]) -> bytes:
    """Return the lines as CSV for Dutch Excel: semicolons, UTF-8 with BOM, comma decimals."""
    header = [labels[k] for k in ("date", "kind", "amount", "receipt", "cashier", "fund")]
    return spreadsheet.csv_bytes(
        [
            header,
            *(
                [
                    line.created_at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S"),
                    labels[line.kind],
                    euros_text(line.amount_cents),
                    line.receipt_number,
                    line.cashier,
                    line.fund_id,
                ]
                for line in rows
            ),
        ]
    )
