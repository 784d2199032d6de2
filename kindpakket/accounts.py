"""Ledger account names: the one module that builds and parses them (ARCHITECTURE section 4).

``fund:{fund}`` holds a fund's unissued budget, ``bank:{fund}`` mirrors the municipality's
bank for it, ``voucher:{voucher}`` is a child's budget (never below zero) and
``merchant:{shop}:payable:{fund}`` is what the municipality owes a shop for one fund.
The ledger itself knows nothing of these kinds; nothing else writes the names by hand
(a test greps the source for it). Ids are non-negative integers written in canonical
decimal, so every name parses back to exactly the value it was built from.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import String, cast, literal

Kind = Literal["fund", "bank", "voucher", "payable"]

_ID = r"(0|[1-9][0-9]*)"
_NAME = re.compile(
    rf"(?P<kind>fund|bank|voucher):{_ID}|merchant:(?P<shop>0|[1-9][0-9]*):payable:{_ID}",
    re.ASCII,
)
_VOUCHER_PREFIX = "voucher:"


class AccountNameError(ValueError):
    """An account name (or id) that is not one of ours."""


@dataclass(frozen=True)
class AccountName:
    """A parsed account name: its kind and the ids it names."""

    kind: Kind
    # The fund for fund, bank and payable accounts; the voucher for voucher accounts.
    id: int
    shop_id: int | None = None  # payable accounts only

    @property
    def fund_id(self) -> int | None:
        """Return the fund the name itself gives (a voucher's fund needs a look-up)."""
        return None if self.kind == "voucher" else self.id

    @property
    def voucher_id(self) -> int | None:
        """Return the voucher of a voucher account."""
        return self.id if self.kind == "voucher" else None

    def __str__(self) -> str:
        if self.kind == "payable":
            return f"merchant:{self.shop_id}:payable:{self.id}"
        return f"{self.kind}:{self.id}"


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AccountNameError(f"not an account id: {value!r}")
    return value


def fund_account(fund_id: int) -> str:
    """Return the account holding a fund's unissued budget."""
    return str(AccountName("fund", _id(fund_id)))


def bank_account(fund_id: int) -> str:
    """Return the account mirroring the municipality's bank for a fund."""
    return str(AccountName("bank", _id(fund_id)))


def voucher_account(voucher_id: int) -> str:
    """Return a voucher's account (a child's budget; never below zero)."""
    return str(AccountName("voucher", _id(voucher_id)))


def payable_account(shop_id: int, fund_id: int) -> str:
    """Return the account of what the municipality owes a shop for one fund."""
    return str(AccountName("payable", _id(fund_id), _id(shop_id)))


def parse_account(name: str) -> AccountName:
    """Return the kind and ids of an account name; raise AccountNameError for anything else."""
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise AccountNameError(f"not an account name: {name!r}")
    if match["kind"]:
        return AccountName(typing.cast(Kind, match["kind"]), int(match[2]))
    return AccountName("payable", int(match[4]), int(match["shop"]))


def maybe_account(name: str) -> AccountName | None:
    """Return the parsed name, or None when it is not one of ours."""
    try:
        return parse_account(name)
    except AccountNameError:
        return None


def parse_accounts(names: Iterable[str]) -> list[AccountName]:
    """Return the parsed names among ``names``, skipping any that are not ours."""
    return [a for a in map(maybe_account, names) if a is not None]


def voucher_ids(names: Iterable[str]) -> list[int]:
    """Return the voucher ids of the voucher accounts among ``names``."""
    return [a.id for a in parse_accounts(names) if a.kind == "voucher"]


def voucher_like() -> str:
    """Return the SQL ``LIKE`` pattern of every voucher account."""
    return _VOUCHER_PREFIX + "%"


def payable_like(*, shop_id: int | None = None, fund_id: int | None = None) -> str:
    """Return the SQL ``LIKE`` pattern of payable accounts (of one shop, one fund, or both).

    A pattern may match more than it should (``%`` spans colons); parse what it finds when
    the ids matter.
    """
    shop = "%" if shop_id is None else str(_id(shop_id))
    fund = "%" if fund_id is None else str(_id(fund_id))
    return f"merchant:{shop}:payable:{fund}"


def voucher_account_sql(voucher_id: Any) -> Any:
    """Return a SQL expression building the voucher account name from a voucher id column."""
    return literal(_VOUCHER_PREFIX) + cast(voucher_id, String)
