"""Notices from the shop side, queued in the transaction of the change (``kindpakket.outbox``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, literal
from sqlalchemy.orm import Session

from kindpakket import outbox
from kindpakket.outbox import Recipient
from merchant.models import Shop
from wallet import contact
from wallet.models import Fund


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


def receipt_to(
    session: Session, household_id: int, choices: dict[str, bool] | None
) -> Recipient | None:
    """Return where the family wants its receipts, or None (off by default).

    ``choices`` are the household's stored notification choices, read with the payment's
    scene (:func:`household_choices`): no query unless receipts are switched on.
    """
    if not outbox.chose(choices, "receipts"):
        return None
    return contact.recipients(session, [household_id]).get(household_id)


def household_choices(household_id: Any) -> Any:
    """Return the SQL for a household's stored notification choices (``household_id``: SQL)."""
    return outbox.choices_of(literal("household:") + cast(household_id, String))


def queue_receipt(session: Session, to: Recipient, scene: Any, amount: int, number: str) -> None:
    """Queue the receipt of a payment of ``amount`` cents at the scene's shop and fund."""
    params = {"shop": scene.shop_name, "amount_cents": amount, "receipt": number}
    fund = session.get(Fund, scene.fund_id)
    municipality = fund.municipality_id if fund else None
    outbox.enqueue(session, "family.receipt", to, params, municipality_id=municipality)
