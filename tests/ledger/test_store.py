"""The ledger store: appends, refusals, idempotency, balances, batches and verification."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger import merkle, store
from ledger.encoding import GENESIS_HASH, decode
from ledger.errors import IdempotencyConflict, InsufficientBalance, InvalidEntry, UnknownAccount
from ledger.models import LedgerEntry


def fund(session: Session, cents: int = 100_000) -> None:
    """Open a fund, its bank and two vouchers, and deposit ``cents`` into the fund."""
    store.open_account(session, "bank:1")
    store.open_account(session, "fund:1")
    store.open_account(session, "voucher:1", non_negative=True)
    store.open_account(session, "voucher:2", non_negative=True)
    store.open_account(session, "merchant:1:payable")
    store.append(session, "fund.deposit", [("bank:1", -cents), ("fund:1", cents)])


def test_append_chains_entries_and_keeps_balances(session: Session) -> None:
    fund(session)
    e2 = store.append(session, "voucher.issue", [("fund:1", -30_000), ("voucher:1", 30_000)])
    e3 = store.append(
        session,
        "redemption",
        [("voucher:1", -1_250), ("merchant:1:payable", 1_250)],
        meta={"shop": 1, "receipt": "R-1"},
    )
    session.commit()
    assert (e2.seq, e3.seq) == (2, 3)
    first = store.get_entry(session, 1)
    assert first is not None
    body = decode(session.get(LedgerEntry, 3).body)  # type: ignore[union-attr]
    assert body.prev_hash == e2.hash and body.meta == {"shop": 1, "receipt": "R-1"}
    assert session.get(LedgerEntry, 2).prev_hash == first.hash  # type: ignore[union-attr]
    assert session.get(LedgerEntry, 1).prev_hash == GENESIS_HASH  # type: ignore[union-attr]
    assert store.balances(session, ["fund:1", "voucher:1", "merchant:1:payable"]) == {
        "fund:1": 70_000,
        "voucher:1": 28_750,
        "merchant:1:payable": 1_250,
    }
    assert store.head(session) == (3, e3.hash)
    report = store.verify(session)
    assert report.ok, report.problem
    assert report.entries == 3


@pytest.mark.parametrize(
    ("postings", "error"),
    [
        ([("fund:1", -5)], InvalidEntry),  # one posting
        ([("fund:1", -5), ("voucher:1", 4)], InvalidEntry),  # does not sum to zero
        ([("fund:1", -5.0), ("voucher:1", 5.0)], InvalidEntry),  # floats
        ([("fund:1", 0), ("voucher:1", 0)], InvalidEntry),  # zero amounts
        ([("fund:1", -5), ("nope:9", 5)], UnknownAccount),  # never opened
        ([("fund:1", -5), ("Bad Name", 5)], UnknownAccount),
    ],
)
def test_malformed_entries_are_refused_and_change_nothing(
    session: Session, postings: list[tuple[str, int]], error: type[Exception]
) -> None:
    fund(session)
    session.commit()
    with pytest.raises(error):
        store.append(session, "voucher.issue", postings)
    session.rollback()
    assert store.head(session)[0] == 1
    assert store.verify(session).ok


def test_bad_kind_and_float_metadata_are_refused(session: Session) -> None:
    fund(session)
    with pytest.raises(InvalidEntry):
        store.append(session, "Not A Kind", [("fund:1", -1), ("voucher:1", 1)])
    with pytest.raises(InvalidEntry, match="float"):
        store.append(session, "voucher.issue", [("fund:1", -1), ("voucher:1", 1)], meta={"x": 1.5})


def test_voucher_never_goes_below_zero(session: Session) -> None:
    fund(session)
    store.append(session, "voucher.issue", [("fund:1", -1_000), ("voucher:1", 1_000)])
    session.commit()
    with pytest.raises(InsufficientBalance) as info:
        store.append(session, "redemption", [("voucher:1", -1_001), ("merchant:1:payable", 1_001)])
    assert info.value.code == "insufficient_balance"
    assert info.value.balance == 1_000
    session.rollback()
    # the exact balance can be spent; a fund account (not flagged) may go negative
    store.append(session, "redemption", [("voucher:1", -1_000), ("merchant:1:payable", 1_000)])
    store.append(session, "voucher.issue", [("fund:1", -200_000), ("voucher:2", 200_000)])
    session.commit()
    assert store.balance(session, "voucher:1") == 0
    assert store.balance(session, "fund:1") == -101_000
    assert store.verify(session).ok


def test_idempotency_key_returns_first_entry_or_refuses_other_content(session: Session) -> None:
    fund(session)
    legs = [("fund:1", -500), ("voucher:1", 500)]
    first = store.append(session, "voucher.issue", legs, idempotency_key="import:7:child:3")
    again = store.append(session, "voucher.issue", legs, idempotency_key="import:7:child:3")
    session.commit()
    assert again.seq == first.seq and again.hash == first.hash and again.replayed
    assert store.balance(session, "voucher:1") == 500
    with pytest.raises(IdempotencyConflict):
        store.append(
            session,
            "voucher.issue",
            [("fund:1", -600), ("voucher:1", 600)],
            idempotency_key="import:7:child:3",
        )


def test_batch_appends_all_or_nothing(session: Session) -> None:
    fund(session)
    session.commit()
    specs = [
        store.NewEntry("voucher.issue", [("fund:1", -100), ("voucher:1", 100)]),
        store.NewEntry("voucher.issue", [("fund:1", -100), ("voucher:2", 100)]),
        store.NewEntry("redemption", [("voucher:1", -101), ("merchant:1:payable", 101)]),
    ]
    with pytest.raises(InsufficientBalance):
        store.append_many(session, specs)
    session.rollback()
    assert store.head(session)[0] == 1
    done = store.append_many(session, specs[:2] * 3)
    session.commit()
    assert [e.seq for e in done] == [2, 3, 4, 5, 6, 7]
    assert store.balances(session, ["voucher:1", "voucher:2"]) == {
        "voucher:1": 300,
        "voucher:2": 300,
    }
    assert store.verify(session).ok


def test_merkle_frontier_is_maintained_on_append(session: Session) -> None:
    fund(session)
    for i in range(12):
        store.append(session, "voucher.issue", [("fund:1", -(i + 1)), ("voucher:1", i + 1)])
    session.commit()
    hashes = [
        bytes.fromhex(h)
        for h in session.execute(select(LedgerEntry.hash).order_by(LedgerEntry.seq)).scalars()
    ]
    tree = merkle.MemoryTree()
    for h in hashes:
        tree.append_data(h)
    row = session.execute(text("SELECT frontier FROM ledger_head")).scalar_one()
    assert merkle.root_from_frontier(merkle.decode_frontier(bytes(row))) == tree.root()
