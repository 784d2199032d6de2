"""Notices from the municipality's use cases, queued in their transaction (``kindpakket.outbox``).

Each function is called by one line in the service that makes the change; it reads what the
message needs and queues it. Who the staff of a municipality are is registered here with
the platform (administrators and finance; viewers get no mail).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.models import AdminUser, SettlementBatch
from kindpakket import outbox
from kindpakket.outbox import Recipient
from merchant.models import Shop
from wallet import contact
from wallet.models import Child, Fund

STAFF_ROLES = ("administrator", "finance")


def _staff(session: Session, municipalities: Iterable[int] | None) -> list[tuple[int, Recipient]]:
    """Return the active administrators and finance staff of ``municipalities`` (None: all)."""
    query = select(AdminUser.municipality_id, AdminUser.id, AdminUser.email).where(
        AdminUser.active.is_(True), AdminUser.role.in_(STAFF_ROLES)
    )
    if municipalities is not None:
        query = query.where(AdminUser.municipality_id.in_(list(municipalities)))
    return [
        (int(m), Recipient(f"admin_user:{uid}", email, "nl"))
        for m, uid, email in session.execute(query.order_by(AdminUser.id))
    ]


outbox.register_staff(_staff)


base_url = outbox.absolute_url  # the platform's one builder of links in messages


def budgets_issued(session: Session, fund: Fund, grants: Sequence[tuple[int, int]]) -> int:
    """Tell each household with an address the total its children were given."""
    per_child = dict(grants)
    households: dict[int, int] = defaultdict(int)
    query = select(Child.id, Child.household_id).where(Child.fund_id == fund.id)
    if len(per_child) <= 500:  # a few: by id; an import's thousands: the fund's children at
        query = query.where(Child.id.in_(list(per_child)))  # once (IN lists of 500: 20x slower)
    for child_id, household_id in session.execute(query):
        cents = per_child.get(int(child_id))
        if cents is not None:
            households[int(household_id)] += cents
    if not households:
        return 0
    found = contact.recipients(session, households)
    wanted = outbox.opted_in(session, [to.ref for to in found.values()], "account")
    params = {
        "municipality": fund.municipality.name,
        "fund": fund.name,
        "end_day": fund.period_end.isoformat(),
        "url": base_url("/wallet/"),
    }
    rows = [
        (
            "family.budget_issued",
            to,
            params | {"amount_cents": households[hid]},
            fund.municipality_id,
            None,
        )
        for hid, to in found.items()
        if to.ref in wanted and households[hid] > 0
    ]
    return outbox.enqueue_many(session, rows)


def _shop(shop: Shop) -> Recipient:
    return Recipient(f"shop:{shop.id}", shop.email, "nl")


def shop_decided(session: Session, shop: Shop, fund: Fund, status: str, reason: str | None) -> None:
    """Tell the shop it was approved, rejected or suspended for a fund."""
    event = {"approved": "shop.approved", "rejected": "shop.rejected"}.get(status, "shop.suspended")
    params = {"shop": shop.name, "fund": fund.name, "reason": reason or "-"}
    if status == "approved":
        params["url"] = base_url("/merchant/")
    outbox.enqueue(session, event, _shop(shop), params, municipality_id=fund.municipality_id)


def shop_suspended(session: Session, shop: Shop, reason: str) -> None:
    """Tell the shop it is suspended everywhere."""
    outbox.enqueue(session, "shop.suspended", _shop(shop), {"shop": shop.name, "reason": reason})


def payouts(session: Session, batch: SettlementBatch, status: str) -> None:
    """Tell each shop in the batch its payout was sent to the bank, or confirmed paid."""
    event = {"exported": "shop.payout_exported", "confirmed": "shop.payout_confirmed"}.get(status)
    fund = session.get(Fund, batch.fund_id)
    if event is None or fund is None:
        return
    for payout in batch.payouts:
        shop = session.get(Shop, payout.shop_id)
        if shop is None:
            continue
        params: dict[str, Any] = {
            "shop": shop.name,
            "fund": fund.name,
            "amount_cents": payout.amount_cents,
            "batch": batch.message_id,
        }
        outbox.enqueue(session, event, _shop(shop), params, municipality_id=fund.municipality_id)
