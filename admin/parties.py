"""Whether logged-in municipality staff are a party to a ledger entry (one of its funds is)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import AdminPrincipal
from kindpakket.accounts import parse_accounts, voucher_ids
from wallet.models import Fund, Voucher


def municipality_party(session: Session, principal: Any, accounts: frozenset[str]) -> str | None:
    """Return ``"municipality"`` when the entry moves money of one of its funds."""
    if not isinstance(principal, AdminPrincipal):
        return None
    # Fund, bank and payable accounts name their fund; a voucher's fund needs a look-up.
    funds = {a.fund_id for a in parse_accounts(accounts) if a.fund_id is not None}
    vouchers = voucher_ids(accounts)
    if vouchers:
        funds |= set(
            session.execute(select(Voucher.fund_id).where(Voucher.id.in_(vouchers))).scalars()
        )
    if not funds:
        return None
    ours = session.execute(
        select(Fund.id)
        .where(Fund.id.in_(funds), Fund.municipality_id == principal.municipality_id)
        .limit(1)
    ).first()
    return "municipality" if ours is not None else None
