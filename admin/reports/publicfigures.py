"""The public spending figures of a fund: the dashboard's figures, small cells suppressed.

Every money figure comes from ``admin.reports.fund_report`` (no second aggregation). What is
added here is privacy: a week or category in which fewer than ``MIN_HOUSEHOLDS`` households
paid is not shown, and the figures name the ledger size they were computed at and the latest
signed checkpoint.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.reports import services as reports
from ledger import proofs
from merchant.models import Redemption, Shop
from wallet.models import Child, Fund, Voucher

MIN_HOUSEHOLDS = 10


@dataclass(frozen=True)
class Cell:
    """One row of a public table: a label and its money, or None when suppressed."""

    label: str
    paid_cents: int | None
    refunded_cents: int | None

    @property
    def suppressed(self) -> bool:
        """Return True when fewer than ``MIN_HOUSEHOLDS`` households are behind the row."""
        return self.paid_cents is None


@dataclass(frozen=True)
class PublicFigures:
    """What the public dashboard shows of one fund."""

    report: reports.FundReport
    left_cents: int  # in the fund's vouchers at the end of the period
    categories: list[Cell]
    weeks: list[Cell]
    ledger_size: int
    checkpoint_size: int | None
    checkpoint_root: str | None

    @property
    def uptake_shown(self) -> bool:
        """Return True when enough households exist to show the share that used the budget."""
        return self.report.households >= MIN_HOUSEHOLDS


def _households_per_category(session: Session, fund: Fund, start: date, end: date) -> dict:
    """Return category key -> number of households with a payment there (a count, no money)."""
    rows = session.execute(
        select(Shop.category, func.count(func.distinct(Child.household_id)))
        .select_from(Redemption)
        .join(Shop, Shop.id == Redemption.shop_id)
        .join(Voucher, Voucher.id == Redemption.voucher_id)
        .join(Child, Child.id == Voucher.child_id)
        .where(Redemption.fund_id == fund.id)
        .group_by(Shop.category)
    )
    return {str(category): int(n) for category, n in rows}


def _week_households(session: Session, fund: Fund, label: str, start: date, end: date) -> int:
    year, week = int(label[:4]), int(label[-2:])
    monday = date.fromisocalendar(year, week, 1)
    first, last = max(monday, start), min(monday + timedelta(days=6), end)
    return reports._uptake(session, fund, first, last)[0]


def figures(session: Session, fund: Fund) -> PublicFigures:
    """Compute the public figures of ``fund`` over its whole period so far."""
    start, end = reports.default_period(fund)
    report = reports.fund_report(session, fund, start, end)
    per_category = _households_per_category(session, fund, start, end)
    labels = {str(reports.CATEGORIES.get(k, k)): k for k in per_category}
    categories = [
        _cell(g, per_category.get(labels.get(g.label, g.label), 0)) for g in report.categories
    ]
    weeks = [_cell(g, _week_households(session, fund, g.label, start, end)) for g in report.weeks]
    checkpoint = proofs.latest_checkpoint(session)
    return PublicFigures(
        report=report,
        left_cents=report.remaining_cents,
        categories=categories,
        weeks=weeks,
        ledger_size=proofs.tree_size(session),
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_root=base64.b64encode(checkpoint.root).decode() if checkpoint else None,
    )


def _cell(line: reports.GroupLine, households: int) -> Cell:
    if households < MIN_HOUSEHOLDS:
        return Cell(line.label, None, None)
    return Cell(line.label, line.paid_cents, line.refunded_cents)
