"""Tables of the family side: municipalities, funds, households, children, vouchers, sessions.

``Municipality`` and ``Fund`` live here, not in ``admin``, because ``wallet`` is the lowest
package that needs them (a voucher belongs to a fund); ``admin`` owns their use cases.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from kindpakket import audit
from kindpakket.accounts import bank_account, fund_account, voucher_account
from ledger.base import Base, UtcDateTime


class Municipality(Base):
    """A tenant: one municipality with its own funds, staff, approvals and reports."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    # Debtor account for SEPA payouts to shops; None until finance configures it.
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Fund(Base):
    """A yearly budget scheme, e.g. "Kindpakket 2027": period, amounts, allowed categories."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # last day on which payments are accepted
    budget_cents: Mapped[int] = mapped_column(BigInteger)  # default amount per child
    # Ages are taken on this date; children born after it are not eligible.
    reference_date: Mapped[date] = mapped_column(Date)
    # [{"min_age": 0, "max_age": 11, "budget_cents": 25000}, ...]; first match wins.
    age_bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Oldest age (on the reference date) a child may have to be imported.
    max_age: Mapped[int] = mapped_column(Integer, default=17, server_default="17")
    # Shop categories the budget may be spent on; empty = all.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Children added after period_start get the budget pro rata over the remaining days.
    pro_rata: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the shop sees the remaining budget after a payment or refusal.
    show_balance_to_shop: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    municipality: Mapped[Municipality] = relationship()

    @property
    def account(self) -> str:
        """Return the ledger account holding the fund's unissued budget."""
        return fund_account(self.id)

    @property
    def bank_account(self) -> str:
        """Return the ledger account mirroring the municipality's bank for this fund."""
        return bank_account(self.id)


class Household(Base):
    """A family eligible in one fund; logs in with its activation code and a PIN."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("fund_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))  # the municipality's own reference
    parent_name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # The family's language from the import (kindpakket.i18n.FAMILY_LANGUAGES); None = none named.
    language: Mapped[str | None] = mapped_column(String(5))
    # SHA-256 (hex) of the normalised activation code; re-issuing replaces it.
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None = not activated
    # The till's HMAC verifier of the same PIN (kindpakket.pinmac); None until written.
    pin_mac: Mapped[str | None] = mapped_column(String(80))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    fund: Mapped[Fund] = relationship()
    children: Mapped[list[Child]] = relationship(
        back_populates="household", order_by="Child.birth_date"
    )


class Child(Base):
    """An eligible child; only a first name and birth date are kept (no BSN)."""

    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("fund_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[date] = mapped_column(Date)
    # False when the child was missing from the latest import (reported, never deleted).
    in_latest_import: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    household: Mapped[Household] = relationship(back_populates="children")
    voucher: Mapped[Voucher | None] = relationship(back_populates="child", uselist=False)


class Voucher(Base):
    """A child's budget in a fund; its money sits in ledger account ``voucher:{id}``."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|blocked|expired
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    child: Mapped[Child] = relationship(back_populates="voucher")
    fund: Mapped[Fund] = relationship()

    @property
    def account(self) -> str:
        """Return the ledger account of this voucher (never below zero)."""
        return voucher_account(self.id)


class FamilySession(Base):
    """A logged-in device of a household; a lost phone's session can be revoked."""

    __tablename__ = "family_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, URL-safe
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    device: Mapped[str] = mapped_column(String(200))  # a short User-Agent summary
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PaymentCode(Base):
    """A short numeric code a shop can type instead of scanning; shares the token's nonce."""

    __tablename__ = "payment_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(24), unique=True)  # hex of the token's nonce
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def _municipalities_of_funds(session: Session, fund_ids: Collection[int]) -> list[int]:
    """Return the municipalities running ``fund_ids`` (for the audit log's scope)."""
    return list(
        session.execute(select(Fund.municipality_id).where(Fund.id.in_(fund_ids))).scalars()
    )


audit.register_fund_owner(_municipalities_of_funds)
