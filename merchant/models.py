"""Tables of the shop side: shops, their staff, approvals per fund, payments, refunds, refusals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

# Re-exported for callers that knew it here; kindpakket.accounts builds every account name.
from kindpakket.accounts import payable_account as payable_account
from kindpakket.logins import StaffCredentials
from ledger.base import Base, UtcDateTime


class Shop(Base):
    """A shop that applied to join; approved per fund by the municipality."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kvk: Mapped[str] = mapped_column(String(8), unique=True)  # Chamber of Commerce number
    iban: Mapped[str] = mapped_column(String(34))  # compact, validated with schwifty
    bic: Mapped[str | None] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(200))
    # pending until a first approval; suspended blocks every fund at once.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The bank returned a payout (ISO reason code, e.g. AC04): the owner is asked to check
    # the IBAN; cleared when the IBAN is changed or a later payout is booked.
    iban_check_reason: Mapped[str | None] = mapped_column(String(4))
    # Shown beside the opening hours, e.g. "closed on public holidays" (merchant/hours.py).
    hours_note: Mapped[str | None] = mapped_column(String(200))

    users: Mapped[list[ShopUser]] = relationship(back_populates="shop")


class ShopUser(StaffCredentials, Base):
    """A login of a shop: the owner (bank details, staff) or a cashier (scan, refund).

    E-mail, name, password hash, role (owner | cashier), lockout and session epoch:
    :class:`StaffCredentials`.
    """

    __tablename__ = "shop_users"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)

    shop: Mapped[Shop] = relationship(back_populates="users")


class ShopHours(Base):
    """One opening period of a shop on one weekday, in Amsterdam wall-clock minutes.

    A weekday has at most two (checked in merchant/hours.py); a shop without rows has not
    given its hours. Rows are replaced as a whole week when the shop changes them.
    """

    __tablename__ = "shop_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens_minute >= 0 AND closes_minute <= 1440", name="within_day"),
        CheckConstraint("opens_minute < closes_minute", name="closes_after_opening"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday (Python's weekday())
    opens_minute: Mapped[int] = mapped_column(SmallInteger)  # minutes after local midnight
    closes_minute: Mapped[int] = mapped_column(SmallInteger)  # up to 1440 (24:00)


class ShopApproval(Base):
    """The municipality's decision on a shop for one fund."""

    __tablename__ = "shop_approvals"
    __table_args__ = (UniqueConstraint("shop_id", "fund_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending|approved|rejected|suspended
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))  # actor, e.g. "admin:3"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Redemption(Base):
    """A payment: one ledger entry from a voucher to the shop's payable account."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key"),
        CheckConstraint("amount_cents > 0", name="positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refunds"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed as the first column of UNIQUE(shop_id, idempotency_key): no index of its own.
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("shop_users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Hex nonce of the QR token or payment code: a code pays once, enforced here.
    nonce: Mapped[str] = mapped_column(String(24), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80))  # chosen by the scanner page
    receipt_number: Mapped[str] = mapped_column(String(24), unique=True)
    ledger_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Refund(Base):
    """Money given back from a shop to the voucher for (part of) a payment."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("redemption_id", "idempotency_key"),
        CheckConstraint("amount_cents > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("shop_users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    receipt_number: Mapped[str] = mapped_column(String(24), unique=True)
    ledger_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Refusal(Base):
    """A refused payment attempt, kept with its error code (pretix-style check-in log)."""

    __tablename__ = "redemption_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("shop_users.id"))
    code: Mapped[str] = mapped_column(String(40), index=True)
    voucher_id: Mapped[int | None] = mapped_column(Integer)  # when the token was readable
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def shop_fund_ids(session: Session, shop_id: int) -> list[int]:
    """Return the funds that have a decision on the shop (whose municipalities audit it)."""
    return list(
        session.execute(
            select(ShopApproval.fund_id).where(ShopApproval.shop_id == shop_id)
        ).scalars()
    )
