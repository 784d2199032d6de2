"""Daily rollup of ledger postings, so reports and settlement need not scan every posting.

``report_days`` holds, per non-voucher account (fund, bank, shop payable), entry kind and
Dutch day, the number of postings and their sum; ``report_voucher_days`` the days on which a
voucher account paid in a shop. Both are summed from ``ledger_postings`` up to the watermark
``report_watermark.seq``. Readers take the rollup up to the watermark plus the entries after
it straight from the ledger (``day_rows``), so every figure is exact and comes from the
ledger, however stale the rollup is. ``refresh`` moves the watermark to the chain head.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Subquery,
    Table,
    and_,
    func,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from admin.models import ReportDay, ReportVoucherDay, ReportWatermark
from ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting

P = LedgerPosting
E = LedgerEntry
_days = cast(Table, ReportDay.__table__)
_voucher_days = cast(Table, ReportVoucherDay.__table__)

# SQLite has no time zones: the Dutch day is the UTC moment plus two hours from 01:00 UTC on
# the last Sunday of March to 01:00 UTC on the last Sunday of October (EU rule), else one.
_SQLITE_DAY = """date({t}, CASE WHEN datetime({t}) >= datetime(date(strftime('%Y', {t})
 || '-03-25', 'weekday 0'), '+1 hour') AND datetime({t}) < datetime(date(strftime('%Y', {t})
 || '-10-25', 'weekday 0'), '+1 hour') THEN '+2 hours' ELSE '+1 hour' END)"""


def dutch_day(session: Session) -> ColumnElement[Any]:
    """Return an SQL expression for the Dutch (Europe/Amsterdam) day of an entry."""
    if session.get_bind().dialect.name == "sqlite":
        return literal_column(_SQLITE_DAY.format(t="ledger_entries.created_at"))
    return func.date(func.timezone("Europe/Amsterdam", E.created_at))


def _unindexed(column: Any) -> Any:
    """Return ``column + 0``: keeps SQLite on the seq range instead of the account index."""
    return column + 0


def _voucher_ids() -> Any:
    return select(LedgerAccount.id).where(LedgerAccount.name.like("voucher:%"))


def _ledger_days(session: Session, after: int, upto: int | None = None) -> Any:
    """Select (account_id, kind, day, postings, amount) of non-voucher postings after ``after``."""
    day = dutch_day(session).label("day")
    window = P.seq > after if upto is None else and_(P.seq > after, P.seq <= upto)
    return (
        select(
            P.account_id.label("account_id"),
            E.kind.label("kind"),
            day,
            func.count().label("postings"),
            func.sum(P.amount).label("amount"),
        )
        .join(E, E.seq == P.seq)
        .where(window, _unindexed(P.account_id).not_in(_voucher_ids()))
        .group_by(P.account_id, E.kind, day)
    )


def _ledger_voucher_days(session: Session, after: int, upto: int | None = None) -> Any:
    """Select the distinct (day, voucher account) of shop payments after ``after``."""
    day = dutch_day(session).label("day")
    window = P.seq > after if upto is None else and_(P.seq > after, P.seq <= upto)
    return (
        select(day, P.account_id.label("account_id"))
        .join(E, E.seq == P.seq)
        .where(window, E.kind == "redemption", _unindexed(P.account_id).in_(_voucher_ids()))
        .group_by(day, P.account_id)
    )


def watermark(session: Session, *, lock: bool = False) -> int:
    """Return the seq up to which the rollup is summed (``lock``: hold it for this transaction)."""
    query = select(ReportWatermark.seq).where(ReportWatermark.id == 1)
    if lock and session.get_bind().dialect.name == "sqlite":
        # A write first: takes SQLite's write lock before reading, like ledger appends.
        query = (
            update(ReportWatermark)
            .where(ReportWatermark.id == 1)
            .values(seq=ReportWatermark.seq)
            .returning(ReportWatermark.seq)
        )
    elif lock:
        query = query.with_for_update()
    return int(session.execute(query).scalar() or 0)  # no row yet: nothing rolled up


def day_rows(session: Session) -> Subquery:
    """Return the rollup plus the ledger after the watermark, as one (account, kind, day) table."""
    seen = watermark(session, lock=session.get_bind().dialect.name != "sqlite")
    stored = select(_days.c.account_id, _days.c.kind, _days.c.day, _days.c.postings, _days.c.amount)
    return union_all(stored, _ledger_days(session, seen)).subquery("days")


def voucher_day_rows(session: Session) -> Subquery:
    """Return (day, voucher account) of shop payments: rollup plus the ledger after it."""
    seen = watermark(session)  # day_rows took the lock on PostgreSQL, in this transaction
    stored = select(_voucher_days.c.day, _voucher_days.c.account_id)
    return union_all(stored, _ledger_voucher_days(session, seen)).subquery("voucher_days")


def refresh(session: Session) -> int:
    """Sum the ledger entries after the watermark into the rollup; return the new watermark."""
    if watermark(session) >= _head(session):
        return watermark(session)
    insert = postgresql.insert if session.get_bind().dialect.name != "sqlite" else sqlite.insert
    session.execute(insert(ReportWatermark).values(id=1, seq=0).on_conflict_do_nothing())
    seen = watermark(session, lock=True)  # one refresh at a time; readers wait on PostgreSQL
    head = _head(session)
    if head <= seen:
        return seen
    new = insert(_days).from_select(
        ["account_id", "kind", "day", "postings", "amount"], _ledger_days(session, seen, head)
    )
    session.execute(
        new.on_conflict_do_update(
            index_elements=["account_id", "kind", "day"],
            set_={
                "postings": _days.c.postings + new.excluded.postings,
                "amount": _days.c.amount + new.excluded.amount,
            },
        )
    )
    session.execute(
        insert(_voucher_days)
        .from_select(["day", "account_id"], _ledger_voucher_days(session, seen, head))
        .on_conflict_do_nothing()
    )
    session.execute(update(ReportWatermark).where(ReportWatermark.id == 1).values(seq=head))
    return head


def try_refresh(session: Session) -> None:
    """Refresh when this transaction may write; readers that may not rely on the exact tail."""
    try:
        with session.begin_nested():
            refresh(session)
    except OperationalError:  # SQLite: a read transaction that lost the race for the lock
        pass


def _head(session: Session) -> int:
    return int(session.execute(select(LedgerHead.seq).where(LedgerHead.id == 1)).scalar() or 0)
