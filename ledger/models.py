"""Tables of the ledger: accounts, entries, postings, balances, chain head, tree, checkpoints."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.base import Base, UtcDateTime


class LedgerAccount(Base):
    """A named account, e.g. ``fund:3`` or ``voucher:17``; never renamed or removed."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # True for accounts that may never go below zero (a child's budget).
    non_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    """One hash-chained entry; ``body`` holds the exact bytes that were hashed."""

    __tablename__ = "ledger_entries"

    # Gap-free, 1-based; also the Merkle leaf index + 1. SQLite: INTEGER, so seq is the rowid
    # and the table needs no second index on it (SQLite integers are 64-bit).
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Not indexed: lookups go by seq, and a random-order index would slow appends as it grows.
    hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class LedgerPosting(Base):
    """One leg of an entry: ``amount`` cents added to an account (negative = taken)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        Index("ix_ledger_postings_account_seq", "account_id", "seq"),
        CheckConstraint("amount <> 0", name="nonzero"),
        # SQLite: the rows live in the primary key's b-tree, one tree less to write per leg.
        {"sqlite_with_rowid": False},
    )

    seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_entries.seq"), primary_key=True, autoincrement=False
    )
    pos: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)


class LedgerBalance(Base):
    """The running balance of an account, kept in the same transaction as each append."""

    __tablename__ = "ledger_balances"
    __table_args__ = (CheckConstraint("NOT non_negative OR balance >= 0", name="not_below_zero"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    non_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerHead(Base):
    """The single chain-head row; locking it serialises appends."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # Roots of the perfect Merkle subtrees of the current tree, 32 bytes each, left to right.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerTreeNode(Base):
    """A perfect Merkle subtree root at ``level`` >= 1 over leaves [idx*2^level, ...)."""

    __tablename__ = "ledger_tree_nodes"
    __table_args__ = {"sqlite_with_rowid": False}  # SQLite: stored in the key's b-tree

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) of the tree at ``size`` entries."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LedgerCosignature(Base):
    """A witness's cosignature (C2SP tlog-cosignature v1) of the checkpoint of ``size``."""

    __tablename__ = "ledger_cosignatures"

    size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_checkpoints.size"), primary_key=True, autoincrement=False
    )
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)  # the key name
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)  # 4 bytes, lowercase hex
    # POSIX seconds the witness signed at, as in the signature (not our clock).
    signed_at: Mapped[int] = mapped_column(BigInteger)
    # The whole signature line, exactly as the witness sent it; appended to the note.
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


# Core table handles (SQLAlchemy ``Table``s) for the bulk and read paths, exported once.
ACCOUNTS = cast(Table, LedgerAccount.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)
POSTINGS = cast(Table, LedgerPosting.__table__)
BALANCES = cast(Table, LedgerBalance.__table__)
HEAD = cast(Table, LedgerHead.__table__)
TREE_NODES = cast(Table, LedgerTreeNode.__table__)
CHECKPOINTS = cast(Table, LedgerCheckpoint.__table__)
COSIGNATURES = cast(Table, LedgerCosignature.__table__)
