"""Reports per fund and period: every money figure is an SQL aggregate over ledger postings.

The merchant and wallet tables only give grouping dimensions (which shop, which category,
which household); amounts and counts of payments come from ``ledger_postings`` joined to
``ledger_entries`` (kind, time) and ``ledger_accounts`` (fund, payable accounts).
Days are Dutch local days (Europe/Amsterdam); the ledger stores UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from admin.reports import rollup
from admin.reports.exports import Cents, Permille, Table
from kindpakket.accounts import maybe_account, payable_like, voucher_account_sql
from kindpakket.time import ZONE as ZONE  # re-exported: reports speak of Dutch days
from kindpakket.time import local_day as local_day
from kindpakket.time import today
from ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from merchant.models import Shop
from merchant.services import CATEGORIES
from wallet.models import Child, Fund, Household, Voucher

VOUCHER_FLOWS = ("voucher.issue", "voucher.topup", "voucher.expiry", "voucher.revocation")
SHOP_FLOWS = ("redemption", "refund")

P = LedgerPosting
E = LedgerEntry


@dataclass(frozen=True)
class ShopLine:
    """Payments and refunds of one shop in the period."""

    shop_id: int
    name: str
    category: str
    payments: int
    paid_cents: int
    refunds: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        """Return paid minus refunded."""
        return self.paid_cents - self.refunded_cents


@dataclass(frozen=True)
class GroupLine:
    """Payments and refunds under one label (a category, a week, a month)."""

    label: str
    payments: int
    paid_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        """Return paid minus refunded."""
        return self.paid_cents - self.refunded_cents


@dataclass(frozen=True)
class FundReport:
    """The dashboard figures of one fund from ``start`` to ``end`` (both Dutch days, inclusive)."""

    fund_id: int
    fund_name: str
    start: date
    end: date
    issued_cents: int
    paid_cents: int
    refunded_cents: int
    expired_cents: int
    revoked_cents: int
    remaining_cents: int  # voucher balances at the end of ``end``
    payments: int
    refunds: int
    households: int
    children: int
    households_paid: int
    children_paid: int
    shops: list[ShopLine] = field(default_factory=list)
    categories: list[GroupLine] = field(default_factory=list)
    weeks: list[GroupLine] = field(default_factory=list)
    months: list[GroupLine] = field(default_factory=list)

    @property
    def spent_cents(self) -> int:
        """Return payments minus refunds."""
        return self.paid_cents - self.refunded_cents

    @property
    def average_payment_cents(self) -> int:
        """Return the mean payment, rounded half up to a cent (0 without payments)."""
        return (2 * self.paid_cents + self.payments) // (2 * self.payments) if self.payments else 0

    @property
    def children_uptake_permille(self) -> int:
        """Return the share of children with a payment, in tenths of a percent."""
        return _permille(self.children_paid, self.children)

    @property
    def households_uptake_permille(self) -> int:
        """Return the share of households with a payment, in tenths of a percent."""
        return _permille(self.households_paid, self.households)

    def top_shops(self, limit: int = 10) -> list[ShopLine]:
        """Return the shops with the most payments."""
        ranked = sorted(self.shops, key=lambda s: (-s.payments, -s.paid_cents, s.name))
        return [s for s in ranked if s.payments][:limit]


def _permille(part: int, whole: int) -> int:
    return (2000 * part + whole) // (2 * whole) if whole else 0


def fund_report(session: Session, fund: Fund, start: date, end: date) -> FundReport:
    """Compute the report of ``fund`` for the Dutch days ``start`` to ``end`` inclusive."""
    rollup.try_refresh(session)
    flows = _fund_flows(session, fund, start, end)
    shop_sums, shop_cum = _shop_sums(session, fund, start, end)
    households, children = _population(session, fund)
    households_paid, children_paid = _uptake(session, fund, start, end)
    shops = _shop_lines(session, shop_sums)
    by_day = _daily(session, fund, start, end)
    total = _totals(shop_sums)
    cum_vouchers = -sum(flows[k][1] for k in VOUCHER_FLOWS) - shop_cum
    return FundReport(
        fund_id=fund.id,
        fund_name=fund.name,
        start=start,
        end=end,
        issued_cents=-(flows["voucher.issue"][0] + flows["voucher.topup"][0]),
        paid_cents=total["redemption"][1],
        refunded_cents=-total["refund"][1],
        expired_cents=flows["voucher.expiry"][0],
        revoked_cents=flows["voucher.revocation"][0],
        remaining_cents=cum_vouchers,
        payments=total["redemption"][0],
        refunds=total["refund"][0],
        households=households,
        children=children,
        households_paid=households_paid,
        children_paid=children_paid,
        shops=shops,
        categories=_by_category(shops),
        weeks=_roll_up(by_day, _week_label),
        months=_roll_up(by_day, lambda d: f"{d.year}-{d.month:02d}"),
    )


def _fund_flows(session: Session, fund: Fund, start: date, end: date) -> dict[str, tuple[int, int]]:
    """Return kind -> (sum in period, sum up to ``end``) of the fund account's postings."""
    fund_account = select(LedgerAccount.id).where(LedgerAccount.name == fund.account)

    def query(days: Any) -> Any:
        return (
            select(
                days.c.kind,
                func.sum(case((days.c.day >= start, days.c.amount), else_=0)),
                func.sum(days.c.amount),
            )
            .where(
                days.c.account_id.in_(fund_account),
                days.c.day <= end,
                days.c.kind.in_(VOUCHER_FLOWS),
            )
            .group_by(days.c.kind)
        )

    rows = rollup.summed(session, query, keys=1)
    out = dict.fromkeys(VOUCHER_FLOWS, (0, 0))
    out.update({str(k): (int(a or 0), int(b or 0)) for k, a, b in rows})
    return out


def payable_accounts(session: Session, fund_id: int) -> dict[int, int]:
    """Return account id -> shop id of the fund's shop payable accounts."""
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.name).where(
            LedgerAccount.name.like(payable_like(fund_id=fund_id))
        )
    )
    out: dict[int, int] = {}
    for account_id, name in rows:
        account = maybe_account(str(name))
        if account and account.shop_id is not None and account.fund_id == fund_id:
            out[int(account_id)] = account.shop_id
    return out


def payable_ids(fund_id: int) -> Any:
    """Return a subquery of the fund's payable account ids (for ``IN``)."""
    return select(LedgerAccount.id).where(LedgerAccount.name.like(payable_like(fund_id=fund_id)))


def _shop_sums(
    session: Session, fund: Fund, start: date, end: date
) -> tuple[dict[tuple[int, str], tuple[int, int]], int]:
    """Return (shop, kind) -> (count, sum) in the period, and the sum of all up to ``end``."""
    accounts = payable_accounts(session, fund.id)

    def query(days: Any) -> Any:
        in_period = days.c.day >= start
        return (
            select(
                days.c.account_id,
                days.c.kind,
                func.sum(case((in_period, days.c.postings), else_=0)),
                func.sum(case((in_period, days.c.amount), else_=0)),
                func.sum(days.c.amount),
            )
            .where(
                days.c.account_id.in_(payable_ids(fund.id)),
                days.c.day <= end,
                days.c.kind.in_(SHOP_FLOWS),
            )
            .group_by(days.c.account_id, days.c.kind)
        )

    rows = rollup.summed(session, query, keys=2)
    sums: dict[tuple[int, str], tuple[int, int]] = {}
    cumulative = 0
    for account_id, kind, count, amount, everything in rows:
        shop_id = accounts.get(int(account_id))
        cumulative += int(everything or 0)
        if shop_id is not None:
            sums[(shop_id, str(kind))] = (int(count or 0), int(amount or 0))
    return sums, cumulative


def _totals(sums: dict[tuple[int, str], tuple[int, int]]) -> dict[str, tuple[int, int]]:
    out = {k: (0, 0) for k in SHOP_FLOWS}
    for (_, kind), (count, amount) in sums.items():
        c, a = out[kind]
        out[kind] = (c + count, a + amount)
    return out


def _shop_lines(session: Session, sums: dict[tuple[int, str], tuple[int, int]]) -> list[ShopLine]:
    """Name the shops of the sums, largest net spending first."""
    ids = sorted({shop_id for shop_id, _ in sums})
    shops = {s.id: s for s in session.execute(select(Shop).where(Shop.id.in_(ids))).scalars()}
    lines = []
    for shop_id in ids:
        shop = shops.get(shop_id)
        paid = sums.get((shop_id, "redemption"), (0, 0))
        refunded = sums.get((shop_id, "refund"), (0, 0))
        lines.append(
            ShopLine(
                shop_id,
                shop.name if shop else f"#{shop_id}",
                str(CATEGORIES.get(shop.category, shop.category)) if shop else "",
                paid[0],
                paid[1],
                refunded[0],
                -refunded[1],
            )
        )
    lines.sort(key=lambda s: (-s.net_cents, s.name))
    return lines


def _by_category(shops: Iterable[ShopLine]) -> list[GroupLine]:
    """Add up the shop lines per shop category."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in shops:
        a = acc[s.category]
        a[0] += s.payments
        a[1] += s.paid_cents
        a[2] += s.refunded_cents
    lines = [GroupLine(k, *v) for k, v in acc.items()]
    lines.sort(key=lambda g: (-g.net_cents, g.label))
    return lines


def _daily(
    session: Session, fund: Fund, start: date, end: date
) -> dict[date, tuple[int, int, int]]:
    """Return Dutch day -> (payments, paid, refunded) of the fund's shops in the period."""

    def query(days: Any) -> Any:
        return (
            select(days.c.day, days.c.kind, func.sum(days.c.postings), func.sum(days.c.amount))
            .where(
                days.c.account_id.in_(payable_ids(fund.id)),
                days.c.day >= start,
                days.c.day <= end,
                days.c.kind.in_(SHOP_FLOWS),
            )
            .group_by(days.c.day, days.c.kind)
        )

    rows = rollup.summed(session, query, keys=2)
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, kind, count, amount in rows:
        d = out[_as_date(day)]
        if kind == "redemption":
            d[0] += int(count)
            d[1] += int(amount or 0)
        else:
            d[2] -= int(amount or 0)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _as_date(value: Any) -> date:
    """Return a day as a date (SQLite hands back the text of a computed day)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _roll_up(days: dict[date, tuple[int, int, int]], label: Any) -> list[GroupLine]:
    """Add up days under ``label(day)``, in date order."""
    acc: dict[str, list[int]] = {}
    for day in sorted(days):
        a = acc.setdefault(label(day), [0, 0, 0])
        for i, v in enumerate(days[day]):
            a[i] += v
    return [GroupLine(k, *v) for k, v in acc.items()]


def _population(session: Session, fund: Fund) -> tuple[int, int]:
    """Return the number of households and children in the fund."""
    households = session.execute(
        select(func.count(Household.id)).where(Household.fund_id == fund.id)
    ).scalar_one()
    children = session.execute(
        select(func.count(Child.id)).where(Child.fund_id == fund.id)
    ).scalar_one()
    return int(households), int(children)


def _uptake(session: Session, fund: Fund, start: date, end: date) -> tuple[int, int]:
    """Return the households and children whose voucher paid in a shop in the period."""
    account = voucher_account_sql(Voucher.id)

    def query(days: Any) -> Any:
        paid = select(days.c.account_id).where(days.c.day >= start, days.c.day <= end)
        names = select(LedgerAccount.name).where(LedgerAccount.id.in_(paid))
        return (
            select(Voucher.id, Child.household_id)
            .join(Child, Voucher.child_id == Child.id)
            .where(Voucher.fund_id == fund.id, account.in_(names))
        )

    paid = rollup.voucher_summed(session, query)  # (voucher, household) with a payment
    return len({household for _, household in paid}), len(paid)


def default_period(fund: Fund) -> tuple[date, date]:
    """Return the fund's whole period, cut off at today while it runs."""
    return fund.period_start, max(fund.period_start, min(fund.period_end, today()))


def report_tables(report: FundReport) -> list[Table]:
    """Return every table of the dashboard, for the page and the CSV/XLSX exports."""
    groups = [_l("Payments"), _l("Paid"), _l("Refunded"), _l("Spent")]

    def grouped(key: str, title: Any, first: Any, lines: list[GroupLine]) -> Table:
        rows = [
            [g.label, g.payments, Cents(g.paid_cents), Cents(g.refunded_cents), Cents(g.net_cents)]
            for g in lines
        ]
        return Table(key, str(title), [str(first), *map(str, groups)], rows)

    summary = Table(
        "summary",
        str(_l("Summary")),
        [str(_l("Figure")), str(_l("Value"))],
        [
            [str(_l("Budget issued")), Cents(report.issued_cents)],
            [str(_l("Paid in shops")), Cents(report.paid_cents)],
            [str(_l("Refunded")), Cents(report.refunded_cents)],
            [str(_l("Spent (paid minus refunded)")), Cents(report.spent_cents)],
            [str(_l("Expired")), Cents(report.expired_cents)],
            [str(_l("Withdrawn")), Cents(report.revoked_cents)],
            [str(_l("Remaining on vouchers")), Cents(report.remaining_cents)],
            [str(_l("Number of payments")), report.payments],
            [str(_l("Number of refunds")), report.refunds],
            [str(_l("Average payment")), Cents(report.average_payment_cents)],
            [str(_l("Households")), report.households],
            [str(_l("Households with a payment")), report.households_paid],
            [str(_l("Uptake by households")), Permille(report.households_uptake_permille)],
            [str(_l("Children")), report.children],
            [str(_l("Children with a payment")), report.children_paid],
            [str(_l("Uptake by children")), Permille(report.children_uptake_permille)],
        ],
    )
    shop_headers = [str(_l("Shop")), str(_l("Category")), *map(str, groups)]
    shops = Table(
        "shops",
        str(_l("Spending per shop")),
        shop_headers,
        [
            [
                s.name,
                s.category,
                s.payments,
                Cents(s.paid_cents),
                Cents(s.refunded_cents),
                Cents(s.net_cents),
            ]
            for s in report.shops
        ],
    )
    top = Table(
        "top_shops",
        str(_l("Shops with the most payments")),
        shop_headers,
        [
            [
                s.name,
                s.category,
                s.payments,
                Cents(s.paid_cents),
                Cents(s.refunded_cents),
                Cents(s.net_cents),
            ]
            for s in report.top_shops()
        ],
    )
    return [
        summary,
        shops,
        grouped("categories", _l("Spending per category"), _l("Category"), report.categories),
        grouped("weeks", _l("Spending per week"), _l("Week"), report.weeks),
        grouped("months", _l("Spending per month"), _l("Month"), report.months),
        top,
    ]


TABLE_KEYS = ("summary", "shops", "categories", "weeks", "months", "top_shops")
