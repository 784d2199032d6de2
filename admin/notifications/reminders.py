"""The worker's daily jobs for municipalities: expiry reminders, low funds, payouts due, digest.

Each job queues messages with a dedupe key per (job, period, recipient), so a job run twice
(two workers, or again the next day inside the same window) queues nothing twice:

* ``expiry_reminders``: 4 weeks (28 days) and 1 week (7 days) before a fund's last day,
  each household with money left and an address gets one reminder of each kind. A worker
  that was down on the exact day catches up inside the window (days 27-8 for the first).
* ``fund_low``: staff hear once a week when a fund's unissued balance is under
  ``FUND_LOW_CENTS``.
* ``settlement_due``: staff hear once a week (Mondays) when shops are owed money.
* ``daily_digest``: staff get yesterday's numbers every morning.

Households without an address get the same reminder on paper (:func:`letter_households`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.notifications.notify import base_url
from admin.settlement import services as settlement
from kindpakket import outbox
from kindpakket import time as clock
from kindpakket.accounts import voucher_account
from kindpakket.worker import register_job
from ledger import store
from merchant.models import ShopApproval
from wallet import contact
from wallet.models import Child, Fund, Voucher

FIRST, LAST = 28, 7  # days before the fund's last day


def money_left(session: Session, fund: Fund) -> dict[int, int]:
    """Return household id -> cents left on its children's usable budgets in ``fund``."""
    rows = session.execute(
        select(Voucher.id, Child.household_id)
        .join(Child, Child.id == Voucher.child_id)
        .where(Voucher.fund_id == fund.id, Voucher.status != "expired")
    ).all()
    balances = store.balances(session, (voucher_account(v) for v, _ in rows))
    left: dict[int, int] = defaultdict(int)
    for voucher_id, household_id in rows:
        left[int(household_id)] += balances[voucher_account(voucher_id)]
    return {h: cents for h, cents in left.items() if cents > 0}


def reminder_kind(fund: Fund, today: date) -> str | None:
    """Return which reminder is due for ``fund`` on ``today`` (None outside both windows)."""
    days = (fund.period_end - today).days
    if fund.status != "open" or days < 0:
        return None
    if days <= LAST:
        return "family.expiry_1w"
    if days <= FIRST:
        return "family.expiry_4w"
    return None


def expiry_reminders(session: Session, today: date) -> int:
    """Queue the due 4- or 1-week reminders of every open fund; return how many."""
    queued = 0
    for fund in session.execute(select(Fund).where(Fund.status == "open")).scalars():
        kind = reminder_kind(fund, today)
        if kind is not None:
            queued += remind_fund(session, fund, kind)
    return queued


def remind_fund(session: Session, fund: Fund, kind: str) -> int:
    """Queue ``kind`` for every household of ``fund`` with money left and an address."""
    left = money_left(session, fund)
    found = contact.recipients(session, left)
    wanted = outbox.opted_in(session, [to.ref for to in found.values()], "reminders")
    params = {
        "fund": fund.name,
        "end_day": fund.period_end.isoformat(),
        "url": base_url("/wallet/"),
    }
    rows = [
        (
            kind,
            to,
            params | {"amount_cents": left[hid]},
            fund.municipality_id,
            f"{kind}:{fund.id}:{to.ref}",
        )
        for hid, to in found.items()
        if to.ref in wanted
    ]
    return outbox.enqueue_many(session, rows)


def letter_households(session: Session, fund: Fund) -> dict[int, int]:
    """Return household id -> cents left, for households with money left and no address."""
    left = money_left(session, fund)
    reachable = contact.recipients(session, left)
    return {h: cents for h, cents in left.items() if h not in reachable}


def fund_low(session: Session, today: date) -> int:
    """Queue a weekly notice for each open fund whose unissued balance is under the limit."""
    limit = current_app.config["FUND_LOW_CENTS"]
    week = today.strftime("%G-W%V")
    queued = 0
    for fund in session.execute(select(Fund).where(Fund.status == "open")).scalars():
        balance = store.balance(session, fund.account)
        if limit > 0 and balance < limit:
            queued += outbox.notify_staff(
                session,
                "staff.fund_low",
                {"fund": fund.name, "balance_cents": balance, "threshold_cents": limit},
                municipalities=[fund.municipality_id],
                dedupe=f"fund_low:{fund.id}:{week}",
            )
    return queued


def settlement_due(session: Session, today: date) -> int:
    """On Mondays, queue a notice per fund whose shops are owed money up to yesterday."""
    if today.weekday() != 0:
        return 0
    queued = 0
    for fund in session.execute(select(Fund)).scalars():
        owed = settlement.owed(session, fund, today - timedelta(days=1))
        total = sum(o.cents for o in owed)
        if total > 0:
            queued += outbox.notify_staff(
                session,
                "staff.settlement_due",
                {
                    "fund": fund.name,
                    "amount_cents": total,
                    "shops": len(owed),
                    "url": base_url(f"/admin/settlement/{fund.id}"),
                },
                municipalities=[fund.municipality_id],
                dedupe=f"settlement_due:{fund.id}:{today.isoformat()}",
            )
    return queued


def daily_digest(session: Session, today: date) -> int:
    """Queue yesterday's numbers (messages sent and failed, applications waiting) for staff."""
    start, end = clock.day_start(today - timedelta(days=1)), clock.day_start(today)
    counts = _sent_failed(session, start, end)
    waiting = dict(
        session.execute(
            select(Fund.municipality_id, func.count(ShopApproval.id))
            .join(Fund, Fund.id == ShopApproval.fund_id)
            .where(ShopApproval.status == "pending")
            .group_by(Fund.municipality_id)
        ).all()
    )
    queued = 0
    for m in {m for m, _ in outbox_staff(session)}:
        sent, failed = counts.get(m, (0, 0))
        if not (sent or failed or waiting.get(m)):
            continue  # nothing to tell: no empty digests
        queued += outbox.notify_staff(
            session,
            "staff.daily_digest",
            {
                "day": clock.format_day(today - timedelta(days=1), "nl", "d-M-yyyy"),
                "sent": sent,
                "failed": failed,
                "applications": int(waiting.get(m, 0)),
                "url": base_url("/admin/notifications/"),
            },
            municipalities=[m],
            dedupe=f"daily_digest:{today.isoformat()}:m{m}",
        )
    return queued


def outbox_staff(session: Session) -> list[tuple[int, outbox.Recipient]]:
    """Return every municipality's staff recipients."""
    from admin.notifications.notify import _staff

    return _staff(session, None)


def _sent_failed(session: Session, start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    row = outbox.OutboxMessage
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for m, state, n in session.execute(
        select(row.municipality_id, row.state, func.count(row.id))
        .where(row.created_at >= start, row.created_at < end, row.state.in_(("sent", "failed")))
        .group_by(row.municipality_id, row.state)
    ):
        if m is not None:
            out[int(m)][0 if state == "sent" else 1] += int(n)
    return {m: (v[0], v[1]) for m, v in out.items()}


register_job("expiry_reminders", expiry_reminders)
register_job("fund_low", fund_low)
register_job("settlement_due", settlement_due)
register_job("daily_digest", daily_digest)
