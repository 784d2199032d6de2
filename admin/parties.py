"""Whether logged-in municipality staff are a party to a ledger entry (one of its funds is)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import AdminPrincipal
from wallet.models import Fund, Voucher

# fund:{fund}, bank:{fund} (wallet.models.Fund) and merchant:{shop}:payable:{fund}
# (merchant.models.payable_account) name their fund; voucher:{id} needs a look-up.
_FUND = re.compile(r"^(?:fund|bank):(\d+)$|^merchant:\d+:payable:(\d+)$")
_VOUCHER = re.compile(r"^voucher:(\d+)$")


def municipality_party(session: Session, principal: Any, accounts: frozenset[str]) -> str | None:
    """Return ``"municipality"`` when the entry moves money of one of its funds."""
    if not isinstance(principal, AdminPrincipal):
        return None
    funds = {int(m.group(1) or m.group(2)) for m in map(_FUND.match, accounts) if m}
    vouchers = [int(m.group(1)) for m in map(_VOUCHER.match, accounts) if m]
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
