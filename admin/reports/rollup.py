"""Daily rollup of ledger postings, so reports and settlement need not scan every posting.

``report_days`` holds, per non-voucher account (fund, bank, shop payable), entry kind and
Dutch day, the number of postings and their sum; ``report_voucher_days`` the days on which a
voucher account paid in a shop. Both are summed from ``ledger_postings`` up to the watermark
``report_watermark.seq``. Readers take the rollup up to the watermark plus the entries after
it straight from the ledger (``summed``), so every figure is exact and comes from the
ledger, however stale the rollup is. ``refresh`` moves the watermark to the chain head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from admin.models import ReportDay, ReportVoucherDay, ReportWatermark
from kindpakket.accounts import voucher_like
from ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting

P = LedgerPosting
E = LedgerEntry
_days = cast(Table, ReportDay.__table__)
_voucher_days = cast(Table, ReportVoucherDay.__table__)
Query = Callable[[Any], Any]

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
    """Return ``column + 0``: keeps SQLite on the seq range instead of the account index.

    Also in the selected columns: SQLite pushes a reader's filters on a grouped subquery
    down into it, where a plain column would draw the planner to its index.
    """
    return column + 0


def _unindexed_text(column: Any) -> Any:
    """Return ``column || ''``: like ``_unindexed``, for the entry kind (it has an index)."""
    return column + ""


def _voucher_ids() -> Any:
    return select(LedgerAccount.id).where(LedgerAccount.name.like(voucher_like()))


def _window(after: int, upto: int | None) -> ColumnElement[bool]:
    """Return the seq range condition on ledger entries (drives the plan: primary key range)."""
    return E.seq > after if upto is None else and_(E.seq > after, E.seq <= upto)


def _ledger_days(session: Session, after: int, upto: int | None = None) -> Any:
    """Select (account_id, kind, day, postings, amount) of non-voucher postings after ``after``."""
    day = dutch_day(session).label("day")
    account, kind = _unindexed(P.account_id), _unindexed_text(E.kind)
    return (
        select(
            account.label("account_id"),
            kind.label("kind"),
            day,
            func.count().label("postings"),
            func.sum(P.amount).label("amount"),
        )
        .select_from(E)
        .join(P, P.seq == E.seq)
        .where(_window(after, upto), account.not_in(_voucher_ids()))
        .group_by(account, kind, day)
    )


def _ledger_voucher_days(session: Session, after: int, upto: int | None = None) -> Any:
    """Select the distinct (day, voucher account) of shop payments after ``after``."""
    day = dutch_day(session).label("day")
    account = _unindexed(P.account_id)
    return (
        select(day, account.label("account_id"))
        .select_from(E)
        .join(P, P.seq == E.seq)
        .where(
            _window(after, upto),
            _unindexed_text(E.kind) == "redemption",
            account.in_(_voucher_ids()),
        )
        .group_by(day, account)
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


def summed(session: Session, query: Query, keys: int) -> list[tuple[Any, ...]]:
    """Run ``query`` on the rollup and on the ledger after the watermark; add up per key.

    ``query(days)`` must select ``keys`` grouping columns, then integer sums, from ``days``
    (columns account_id, kind, day, postings, amount). The tail query is skipped when the
    rollup is at the chain head, as it is right after a refresh.
    """
    seen = watermark(session, lock=session.get_bind().dialect.name != "sqlite")
    rows = session.execute(query(_days)).all()
    if seen < _head(session):
        rows += session.execute(query(_ledger_days(session, seen).subquery("tail"))).all()
    return _add_up(rows, keys)


def voucher_summed(session: Session, query: Query) -> set[tuple[Any, ...]]:
    """Run ``query`` on the voucher days of the rollup and after the watermark; return the union.

    ``query(days)`` selects from ``days`` (columns day, account_id); rows are deduplicated.
    """
    seen = watermark(session, lock=session.get_bind().dialect.name != "sqlite")
    rows = set(map(tuple, session.execute(query(_voucher_days))))
    if seen < _head(session):
        tail = _ledger_voucher_days(session, seen).subquery("tail")
        rows.update(map(tuple, session.execute(query(tail))))
    return rows


def _add_up(rows: list[Any], keys: int) -> list[tuple[Any, ...]]:
    """Merge rows with equal first ``keys`` columns by adding the other columns."""
    out: dict[tuple[Any, ...], list[int]] = {}
    for r in rows:
        values = [int(v or 0) for v in r[keys:]]
        have = out.get(tuple(r[:keys]))
        if have is None:
            out[tuple(r[:keys])] = values
        else:
            for i, v in enumerate(values):
                have[i] += v
    return [(*k, *v) for k, v in out.items()]


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
    _roll_up(session, seen, head)
    session.execute(update(ReportWatermark).where(ReportWatermark.id == 1).values(seq=head))
    return head


def _roll_up(session: Session, seen: int, head: int) -> None:
    """Add the entries ``seen+1 .. head`` to the rollup with two grouped INSERT ... SELECTs."""
    insert = postgresql.insert if session.get_bind().dialect.name != "sqlite" else sqlite.insert
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


def try_refresh(session: Session) -> None:
    """Refresh when this transaction may write; readers that may not rely on the exact tail."""
    try:
        with session.begin_nested():
            refresh(session)
    except OperationalError:  # SQLite: a read transaction that lost the race for the lock
        pass


def _head(session: Session) -> int:
    return int(session.execute(select(LedgerHead.seq).where(LedgerHead.id == 1)).scalar() or 0)
