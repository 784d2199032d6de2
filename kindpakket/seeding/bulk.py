"""The rows of :mod:`kindpakket.seeding.rows` by the thousand, for benchmarks.

Shops with cashiers and approvals, households with funded vouchers, and payments, each
written in a few statements. A row's values come from the same ``*_row`` functions as a
test's single rows. Payments are the rows ``merchant.redemptions.redeem`` writes (entry
bytes, metadata and receipt number, postings, Merkle nodes, balances, chain head and the
redemption row), but each at its own moment and without a chain lock per payment, so a
year of payments takes seconds; ``ledger verify`` passes on the result
(``tests/shell/test_seeding.py``). Nothing is audited or notified. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from hashlib import sha256
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from kindpakket.accounts import payable_account, voucher_account
from kindpakket.passwords import hash_secret
from kindpakket.seeding.rows import (
    PASSWORD,
    ChildSpec,
    HouseholdSpec,
    ShopSpec,
    approval_row,
    child_row,
    household_row,
    issue_entry,
    shop_row,
    staff_row,
)
from ledger import merkle, store
from ledger.bulk import bind_value, insert_rows
from ledger.encoding import Posting, encode_fields, format_timestamp
from ledger.errors import InsufficientBalance
from ledger.models import ACCOUNTS, BALANCES, ENTRIES, HEAD
from merchant.models import Shop, ShopApproval, ShopUser
from merchant.redemptions import COLUMNS as REDEMPTION_COLUMNS
from merchant.redemptions import receipt_number
from wallet.models import Child, Fund, Household, Voucher

IBANS = ("NL18RABO0123459876", "NL20INGB0001234567", "NL91ABNA0417164300")
CATEGORIES = ("books_school", "sports", "bicycles", "clothing")
BATCH = 50_000  # payments per round of inserts


class Paid(NamedTuple):
    """One payment to write: when, from which voucher, to which shop, by whom, how much."""

    at: datetime
    voucher_id: int
    shop_id: int
    cashier_id: int
    cents: int


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``model``'s table; return their ids in order."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def shops(session: Session, count: int, *, fund: Fund | None = None) -> list[tuple[int, int]]:
    """Create ``count`` active shops, each with a cashier whose password is ``PASSWORD``.

    With ``fund``, every shop is approved for it and its payable account is opened.

    Returns:
        ``(shop id, cashier id)`` per shop.
    """
    specs = [
        ShopSpec(
            name=f"Winkel {i}",
            kvk=f"{i:08d}",
            iban=IBANS[i % len(IBANS)],
            category=CATEGORIES[i % len(CATEGORIES)],
            email=f"w{i}@bench.example",
            address="Straat 1",
            postcode="9801 AA",
        )
        for i in range(1, count + 1)
    ]
    shop_ids = _insert(session, Shop, [shop_row(spec) for spec in specs])
    hashed = hash_secret(PASSWORD)  # once: the same password for all
    cashiers = [
        staff_row(shop_id, f"k{i}@bench.example", "cashier", hashed)
        for i, shop_id in enumerate(shop_ids, 1)
    ]
    cashier_ids = _insert(session, ShopUser, cashiers)
    if fund is not None:
        _insert(session, ShopApproval, [approval_row(i, fund.id, "approved") for i in shop_ids])
        store.open_accounts(session, [payable_account(i, fund.id) for i in shop_ids])
    return list(zip(shop_ids, cashier_ids, strict=True))


def households(
    session: Session,
    fund: Fund,
    count: int,
    *,
    children: int = 2,
    pin_hash: str | None = None,
    issued_at: datetime | None = None,
) -> list[int]:
    """Create ``count`` households of ``children`` children, each with a funded voucher.

    Args:
        session: the transaction.
        fund: the fund the budgets come from (``fund.budget_cents`` each).
        count: households.
        children: children per household (0: households alone).
        pin_hash: stored as every household's wallet PIN (None: not activated).
        issued_at: the moment of the budget entries (default now).

    Returns:
        The voucher ids, household by household.
    """
    specs = [
        HouseholdSpec(
            reference=f"H{i}",
            parent_name="Ouder",
            address="Straat 1",
            children=tuple(
                ChildSpec(f"K{i}-{c}", "Kind", date(2016, 1, 1)) for c in range(1, children + 1)
            ),
        )
        for i in range(1, count + 1)
    ]
    extra = {} if pin_hash is None else {"pin_hash": pin_hash}
    household_ids = _insert(
        session, Household, [household_row(fund.id, spec) | extra for spec in specs]
    )
    child_rows = [
        child_row(fund.id, household_id, child)
        for household_id, spec in zip(household_ids, specs, strict=True)
        for child in spec.children
    ]
    child_ids = _insert(session, Child, child_rows)
    created = child_rows[0]["created_at"] if child_rows else None
    vouchers = [
        {"fund_id": fund.id, "child_id": c, "status": "active", "created_at": created}
        for c in child_ids
    ]
    voucher_ids = _insert(session, Voucher, vouchers)
    store.open_accounts(session, map(voucher_account, voucher_ids), non_negative=True)
    entries = [issue_entry(fund, v, fund.budget_cents) for v in voucher_ids]
    store.append_many(session, entries, at=issued_at)
    return voucher_ids


def payments(session: Session, fund_id: int, paid: Iterable[Paid]) -> int:
    """Write ``paid`` as the shops' payments: appended in the order given, each at its moment.

    Raises:
        InsufficientBalance: a voucher would go below zero (roll back: part may be written).

    Returns:
        How many payments were written.
    """
    conn = session.connection()
    names = {int(i): str(n) for i, n in session.execute(select(Shop.id, Shop.name))}
    chain = _Chain(session)
    written = 0
    for batch in _batches(paid):
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}
        for p in batch:
            seq = chain.seq + 1
            meta = {
                "shop": p.shop_id,
                "shop_name": names[p.shop_id],
                "receipt": receipt_number("B", seq),
                "voucher": p.voucher_id,
                "fund": fund_id,
            }
            legs = (
                Posting(voucher_account(p.voucher_id), -p.cents),
                Posting(payable_account(p.shop_id, fund_id), p.cents),
            )
            created, digest = chain.add(conn, p.at, legs, meta, rows)
            rows["redemptions"].append(
                (p.shop_id, fund_id, p.voucher_id, p.cashier_id, p.cents, 0, f"{seq:024x}",
                 f"seed-{seq}", meta["receipt"], seq, digest, created)
            )  # fmt: skip
        for table, columns in _COLUMNS.items():
            insert_rows(conn, table, columns, rows[table])
        written += len(batch)
    chain.save(conn)
    return written


_COLUMNS = {
    "ledger_entries": ("seq", "kind", "created_at", "prev_hash", "hash", "body"),
    "ledger_postings": ("seq", "pos", "account_id", "amount"),
    "ledger_tree_nodes": ("level", "idx", "hash"),
    "redemptions": REDEMPTION_COLUMNS,
}


class _Chain:
    """Chain head, Merkle frontier and balances as entries are added, kept as the store does."""

    def __init__(self, session: Session) -> None:
        head = session.execute(select(HEAD.c.seq, HEAD.c.hash, HEAD.c.frontier)).one()
        self.seq, self.prev = int(head.seq), str(head.hash)
        self.frontier = merkle.decode_frontier(bytes(head.frontier))
        accounts = select(
            ACCOUNTS.c.name, ACCOUNTS.c.id, BALANCES.c.balance, BALANCES.c.non_negative
        )
        self.accounts = {  # name -> [id, balance, never below zero, last seq]
            str(name): [int(aid), int(balance), bool(nonneg), 0]
            for name, aid, balance, nonneg in session.execute(
                accounts.join_from(ACCOUNTS, BALANCES, BALANCES.c.account_id == ACCOUNTS.c.id)
            )
        }

    def add(
        self,
        conn: Connection,
        at: datetime,
        legs: tuple[Posting, ...],
        meta: dict[str, Any],
        rows: dict[str, list[tuple[Any, ...]]],
    ) -> tuple[Any, str]:
        """Add a redemption entry's rows to ``rows``; return its stored time and its hash."""
        seq, stamp = self.seq + 1, format_timestamp(at)
        body = encode_fields(seq, self.prev, "redemption", stamp, legs, meta, None)
        raw = sha256(body).digest()
        created = bind_value(conn, ENTRIES.c.created_at, datetime.fromisoformat(stamp))
        rows["ledger_entries"].append((seq, "redemption", created, self.prev, raw.hex(), body))
        for pos, (name, amount) in enumerate(legs):
            account = self.accounts[name]
            if account[1] + amount < 0 and account[2]:
                raise InsufficientBalance(name, account[1], amount)
            account[1] += amount
            account[3] = seq
            rows["ledger_postings"].append((seq, pos, account[0], amount))
        self.frontier, done = merkle.frontier_append(self.frontier, seq - 1, merkle.leaf_hash(raw))
        rows["ledger_tree_nodes"].extend(done)
        self.seq, self.prev = seq, raw.hex()
        return created, self.prev

    def save(self, conn: Connection) -> None:
        """Write the moved balances and the new chain head."""
        moved = [
            {"aid": aid, "bal": balance, "last": last}
            for aid, balance, _, last in self.accounts.values()
            if last
        ]
        if moved:
            conn.execute(
                update(BALANCES)
                .where(BALANCES.c.account_id == bindparam("aid"))
                .values(balance=bindparam("bal"), last_seq=bindparam("last")),
                moved,
            )
        frontier = merkle.encode_frontier(self.frontier)
        conn.execute(
            update(HEAD)
            .where(HEAD.c.id == 1)
            .values(seq=self.seq, hash=self.prev, frontier=frontier)
        )


def _batches(paid: Iterable[Paid]) -> Iterator[Sequence[Paid]]:
    it = iter(paid)
    while batch := list(islice(it, BATCH)):
        yield batch
