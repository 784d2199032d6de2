"""Whether the logged-in shop user is a party to a ledger entry (its shop's payable is in it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kindpakket.accounts import parse_accounts
from merchant.auth import ShopPrincipal


def shop_party(session: Session, principal: Any, accounts: frozenset[str]) -> str | None:
    """Return ``"shop"`` for the shop's own payments, refunds and payouts.

    Those, and only those, move money on the shop's payable accounts
    (``kindpakket.accounts.payable_account``).
    """
    if not isinstance(principal, ShopPrincipal):
        return None
    ours = any(a.shop_id == principal.shop_id for a in parse_accounts(accounts))
    return "shop" if ours else None
