"""Whether the logged-in shop user is a party to a ledger entry (its shop's payable is in it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from merchant.auth import ShopPrincipal


def shop_party(session: Session, principal: Any, accounts: frozenset[str]) -> str | None:
    """Return ``"shop"`` for the shop's own payments, refunds and payouts.

    Those, and only those, move money on the shop's payable accounts
    (``merchant.models.payable_account``: ``merchant:{shop}:payable:{fund}``).
    """
    if not isinstance(principal, ShopPrincipal):
        return None
    prefix = f"merchant:{principal.shop_id}:payable:"
    return "shop" if any(a.startswith(prefix) for a in accounts) else None
