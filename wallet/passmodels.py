"""Tables of the Kindpakket pass: printed cards for families without a smartphone.

A pass belongs to a household, and to one child when the fund issues passes per child
(``FundPassSetting``). Its QR code is static and names only the pass (see
:mod:`wallet.passcode`); paying needs the household's PIN on the shop's PIN pad. The PIN is
the pass PIN from a PIN letter (``PassPin``, argon2id hash only) or else the wallet PIN.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.base import Base, UtcDateTime
from wallet.models import Household

PER_HOUSEHOLD = "household"
PER_CHILD = "child"
MAX_PIN_FAILURES = 3  # wrong PINs on one pass before it is blocked


class FundPassSetting(Base):
    """Whether a fund prints one pass per household (default) or one per child."""

    __tablename__ = "fund_pass_settings"

    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), primary_key=True)
    per: Mapped[str] = mapped_column(String(16), default=PER_HOUSEHOLD)  # household | child
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Pass(Base):
    """One printed card. Status: active | blocked (lost, or 3 wrong PINs) | replaced."""

    __tablename__ = "passes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    # Set for a per-child pass: it pays from this child's voucher only.
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    # The 12 digits printed on the card (the public balance page asks for them).
    number: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # lost | pin (3 wrong PINs) | replaced; None while active
    blocked_reason: Mapped[str | None] = mapped_column(String(16))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("passes.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    household: Mapped[Household] = relationship()


class PassPin(Base):
    """The PIN of a household's passes, from a PIN letter (only the argon2id hash is kept)."""

    __tablename__ = "pass_pins"

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    # The till's HMAC verifier of the same PIN (kindpakket.pinmac); None until written.
    pin_mac: Mapped[str | None] = mapped_column(String(80))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PassRequest(Base):
    """A family asked for a pass from the wallet; the municipality handles it."""

    __tablename__ = "pass_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
