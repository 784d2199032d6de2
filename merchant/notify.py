"""Notices from the shop side, queued in the transaction of the change (``kindpakket.outbox``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket import outbox
from kindpakket.outbox import Recipient
from merchant.models import Shop
from wallet import contact
from wallet.models import Child, Fund, Voucher


def shop_applied(session: Session, shop: Shop) -> None:
    """Thank the shop for its application and tell every municipality's staff about it."""
    to = Recipient(f"shop:{shop.id}", shop.email, "nl")
    outbox.enqueue(session, "shop.application_received", to, {"shop": shop.name})
    url = outbox.absolute_url("/admin/shops/")
    outbox.notify_staff(
        session,
        "staff.shop_applied",
        {"shop": shop.name, "city": shop.city, "url": url},
        municipalities=None,
    )


def receipt_to(session: Session, voucher_id: int) -> Recipient | None:
    """Return where the family wants its receipts, or None (off by default: two key lookups).

    Called before the ledger append, so these reads stay outside the chain lock.
    """
    household_id = session.execute(
        select(Child.household_id)
        .join(Voucher, Voucher.child_id == Child.id)
        .where(Voucher.id == voucher_id)
    ).scalar()
    if household_id is None or not outbox.wants(session, f"household:{household_id}", "receipts"):
        return None
    return contact.recipients(session, [household_id]).get(household_id)


def queue_receipt(session: Session, to: Recipient, scene: Any, amount: int, number: str) -> None:
    """Queue the receipt of a payment of ``amount`` cents at the scene's shop and fund."""
    params = {"shop": scene.shop_name, "amount_cents": amount, "receipt": number}
    fund = session.get(Fund, scene.fund_id)
    municipality = fund.municipality_id if fund else None
    outbox.enqueue(session, "family.receipt", to, params, municipality_id=municipality)
