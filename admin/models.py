"""Tables of the municipality side: staff, import runs, settlement batches and payouts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kindpakket.logins import StaffCredentials
from ledger.base import Base, UtcDateTime

ROLES = ("administrator", "finance", "viewer")


class AdminUser(StaffCredentials, Base):
    """A civil servant of one municipality: administrator, finance or viewer.

    E-mail, name, password hash, role, lockout and session epoch: :class:`StaffCredentials`.
    """

    __tablename__ = "admin_users"

    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; None = no 2nd factor
    # The last TOTP time step accepted: a code of that step or an earlier one is refused.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class ImportRun(Base):
    """One import of eligible children from a CSV file (dry runs are not stored)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    households_new: Mapped[int] = mapped_column(Integer)
    children_new: Mapped[int] = mapped_column(Integer)
    children_updated: Mapped[int] = mapped_column(Integer)
    children_missing: Mapped[int] = mapped_column(Integer)
    issued_cents: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SettlementBatch(Base):
    """Payouts to shops for one fund up to a date; exported as one SEPA file."""

    __tablename__ = "settlement_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    until_date: Mapped[date] = mapped_column(Date)  # payments up to and including this day
    execution_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # draft|exported|confirmed|cancelled
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    pain_version: Mapped[str] = mapped_column(String(2), default="03")
    total_cents: Mapped[int] = mapped_column(BigInteger)
    payout_count: Mapped[int] = mapped_column(Integer)
    # Shops left out and why, e.g. [{"shop_id": 4, "code": "invalid_iban"}].
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)  # the exact file offered
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    exported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why an exported batch was cancelled: the bank's rejection (reference or note).
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # Confirmed from a bank file: the day the bank booked it and its reference; or by hand
    # with the clerk's reason (what the clerk saw, e.g. "online banking 12-03").
    booked_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(35))
    confirm_reason: Mapped[str | None] = mapped_column(String(300))

    payouts: Mapped[list[Payout]] = relationship(back_populates="batch")


class Payout(Base):
    """One shop's transfer in a batch, backed by a payout entry in the ledger."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("batch_id", "shop_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("settlement_batches.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    payment_count: Mapped[int] = mapped_column(Integer)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    reversal_seq: Mapped[int | None] = mapped_column(BigInteger)  # set when cancelled
    # From the bank's files: the day the transfer was booked and the bank's reference.
    booked_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(35))
    # Rejected or returned by the bank: the payout.return entry and the ISO reason code.
    returned_seq: Mapped[int | None] = mapped_column(BigInteger)
    return_reason: Mapped[str | None] = mapped_column(String(4))
    returned_on: Mapped[date | None] = mapped_column(Date)

    batch: Mapped[SettlementBatch] = relationship(back_populates="payouts")


class BankFile(Base):
    """A status report (pain.002) or statement (camt.053/054) imported from the bank."""

    __tablename__ = "bank_files"
    __table_args__ = (UniqueConstraint("municipality_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the same file twice changes nothing
    schema: Mapped[str] = mapped_column(String(20))  # e.g. camt.053.001.02
    message_id: Mapped[str] = mapped_column(String(35))
    filename: Mapped[str] = mapped_column(String(200))
    # Counts of what the file did, e.g. {"booked": 3, "returned": 1, "unmatched": 2}.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    xml: Mapped[bytes] = mapped_column(LargeBinary)  # the exact file, as evidence
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BankLine(Base):
    """One status or statement line of a bank file and what it did (or why it did nothing)."""

    __tablename__ = "bank_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("bank_files.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_batches.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    # booked|returned|rejected|cancelled|accepted|pending|duplicate|unmatched|difference
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(40))  # why a difference, e.g. a code
    reference: Mapped[str | None] = mapped_column(String(35))  # EndToEndId or the bank's ref
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # signed: debit < 0 < credit
    status: Mapped[str | None] = mapped_column(String(4))  # BOOK, ACSC, RJCT, ...
    reason: Mapped[str | None] = mapped_column(String(4))  # ISO reason code, e.g. AC04
    booked_on: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(String(140))  # the bank's description
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution: Mapped[str | None] = mapped_column(String(300))


class ReportDay(Base):
    """Postings of one non-voucher account and entry kind on one Dutch day, summed from the ledger.

    Maintained by ``admin.rollup.refresh`` up to ``ReportWatermark.seq``; reports add the
    entries after the watermark straight from the ledger, so figures are always exact.
    """

    __tablename__ = "report_days"

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    postings: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class ReportVoucherDay(Base):
    """A Dutch day on which a voucher account paid in a shop (for uptake figures)."""

    __tablename__ = "report_voucher_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)


class ReportWatermark(Base):
    """The single row saying up to which ledger seq the report tables are rolled up."""

    __tablename__ = "report_watermark"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class PublicFiguresCache(Base):
    """A fund's public figures at one signed checkpoint, computed once and kept for the page.

    A cache of a pure function of the checkpoint's entries and the register as it stood at
    ``computed_at`` (``admin.reports.checkpointfigures``); rows of older checkpoints are
    dropped when a newer one is kept, and anyone can recompute any of them from an export.
    """

    __tablename__ = "public_figures"

    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # the checkpoint's tree size
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)  # PublicFigures.to_json()


class PublicTally(Base):
    """Where the public figures' fold stopped: the next checkpoint folds only its new entries.

    One row is kept, of the newest checkpoint computed (``admin.reports.checkpointfigures``).
    """

    __tablename__ = "public_tally"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The Merkle frontier of entries 1..size (ledger.merkle.encode_frontier), for the next root.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)  # publicfigures.Tally.state()
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
