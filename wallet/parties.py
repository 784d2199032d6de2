"""The family as a party to ledger entries: its own receipt links, and who counts as it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kindpakket.accounts import voucher_ids
from kindpakket.receipts import receipt_link
from wallet.auth import FamilyPrincipal
from wallet.models import Child, Voucher


def family_party(session: Session, principal: Any, accounts: frozenset[str]) -> str | None:
    """Return ``"family"`` when the entry moves money of one of the household's vouchers."""
    if not isinstance(principal, FamilyPrincipal):
        return None
    wanted = voucher_ids(accounts)
    if not wanted:
        return None
    mine = session.execute(
        select(Voucher.id)
        .join(Child, Child.id == Voucher.child_id)
        .where(Child.household_id == principal.household_id, Voucher.id.in_(wanted))
        .limit(1)
    ).first()
    return "family" if mine is not None else None


def family_receipt_link(seq: int, entry_hash: str) -> str:
    """Return the family's copy of a receipt link: whoever holds it sees amount, shop, time."""
    return receipt_link(seq, entry_hash, "family")
