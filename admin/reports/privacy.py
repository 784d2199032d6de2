"""The privacy statement's facts, read from the tables this installation really has.

Each entry names a table, who it is about, why it is kept and for how long. The columns
shown on the public page are read from the SQLAlchemy metadata, so a new column appears in
the statement without anyone remembering to add it; a test fails on a table holding
personal data that is not described here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ledger.base import Base

UNTIL_DELETED = _l("As long as the fund's records are kept (municipal archive rules).")


@dataclass(frozen=True)
class Record:
    """One kind of data kept: where, about whom, why, how long."""

    table: str
    about: Any
    purpose: Any
    retention: Any

    @property
    def columns(self) -> list[str]:
        """Return the columns the table really has."""
        return [c.name for c in Base.metadata.tables[self.table].columns if c.name != "id"]


RECORDS = (
    Record(
        "households",
        _l("parents"),
        _l("To send the activation letter and to know whose budget it is."),
        UNTIL_DELETED,
    ),
    Record(
        "children",
        _l("children"),
        _l("To check the age limit and to give each child a budget."),
        UNTIL_DELETED,
    ),
    Record(
        "vouchers",
        _l("children"),
        _l("The budget of a child and whether it is blocked."),
        UNTIL_DELETED,
    ),
    Record(
        "family_sessions",
        _l("parents"),
        _l("To show which phones are logged in, so you can log them out."),
        UNTIL_DELETED,
    ),
    Record(
        "payment_codes",
        _l("parents"),
        _l("The 8-digit code under the QR code, for paying by typing it."),
        _l("Deleted shortly after it expires (minutes)."),
    ),
    Record(
        "redemptions",
        _l("parents and shops"),
        _l("Each payment: which budget, which shop, which cashier, how much."),
        _l("Permanently: payments are part of the public, unchangeable ledger."),
    ),
    Record(
        "ledger_entries",
        _l("everyone who pays or is paid"),
        _l("The unchangeable record of every movement of money. The public sees only hashes."),
        _l("Permanently: the ledger can only grow, so that it stays verifiable."),
    ),
    Record(
        "shops",
        _l("shops"),
        _l("To approve shops and to pay them (name, KvK number, IBAN, address)."),
        UNTIL_DELETED,
    ),
    Record(
        "shop_users",
        _l("shop staff"),
        _l("To log in at the shop (e-mail address, password hash)."),
        UNTIL_DELETED,
    ),
    Record(
        "admin_users",
        _l("municipality staff"),
        _l("To log in at the municipality (e-mail address, password hash, role)."),
        UNTIL_DELETED,
    ),
    Record(
        "audit_events",
        _l("staff, shops and parents who acted"),
        _l("Who did what and when, with the internet address, for security and accountability."),
        UNTIL_DELETED,
    ),
)


def records() -> list[Record]:
    """Return the records whose table exists in this installation."""
    return [r for r in RECORDS if r.table in Base.metadata.tables]
