"""One entry appended in one statement (PostgreSQL's ``kp_ledger_append``) is the entry Python
writes: the same bytes, hash, chain, postings, balances, tree nodes and head, byte for byte.

The same tests run on SQLite, where ``append_with`` appends in Python: both writers are held
to one reference computed here from :mod:`ledger.encoding` and the RFC 6962 definitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ledger import pipeline, store
from ledger.encoding import GENESIS_HASH, encode_fields, receipt_text
from ledger.errors import InsufficientBalance, InvalidEntry, UnknownAccount

ACCOUNTS = ["fund:1", "voucher:1", "voucher:2", "merchant:1:payable"]
FLOOR = {"voucher:1", "voucher:2"}
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def along(engine: Engine, session: Session) -> Iterator[str]:
    """A table for the row written along with each entry (dropped afterwards)."""
    serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS kp_test_along"))
        conn.execute(
            text(
                f"CREATE TABLE kp_test_along (id {serial} PRIMARY KEY, note TEXT,"
                " receipt TEXT, seq BIGINT, hash TEXT)"
            )
        )
    for name in ACCOUNTS:
        store.open_account(session, name, non_negative=name in FLOOR)
    store.append(session, "fund.deposit", [("fund:1", -(10**9)), ("voucher:1", 10**9)])
    session.commit()
    yield "kp_test_along"
    session.rollback()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE kp_test_along"))


@pytest.fixture
def server_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the appends that went through ``kp_ledger_append`` (behaviour unchanged)."""
    calls: list[int] = []
    real = pipeline.append_one

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "append_one", counted)
    return calls


def _row(note: str, receipt: bool) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {"note": note, "seq": store.SEQ, "hash": store.HASH}
    if receipt:
        values["receipt"] = store.RECEIPT
    return "kp_test_along", values


def _node(leaves: list[bytes], level: int, index: int) -> bytes:
    """The RFC 6962 perfect node by its definition (not the frontier the writers keep)."""
    if level == 0:
        return leaves[index]
    left = _node(leaves, level - 1, 2 * index)
    return sha256(b"\x01" + left + _node(leaves, level - 1, 2 * index + 1)).digest()


def _check_everything(session: Session, model: dict[str, int]) -> None:
    """Every stored byte equals the reference: entries, chain, postings, nodes, head."""
    entries = session.execute(
        text("SELECT seq, prev_hash, hash, body FROM ledger_entries ORDER BY seq")
    ).all()
    ids = {n: i for n, i in session.execute(text("SELECT name, id FROM ledger_accounts"))}
    prev, leaves, postings, last_seq = GENESIS_HASH, [], [], {}
    for seq, prev_hash, digest, body in entries:
        entry = store.get_entry(session, seq)
        assert entry is not None
        expected = encode_fields(
            seq, prev, entry.kind, entry.timestamp, entry.postings, entry.meta, None
        )
        assert (prev_hash, bytes(body)) == (prev, expected)
        assert digest == sha256(expected).hexdigest()
        leaves.append(sha256(b"\x00" + bytes.fromhex(digest)).digest())
        prev = digest
        for pos, (account, amount) in enumerate(entry.postings):
            postings.append((seq, pos, ids[account], amount))
            last_seq[ids[account]] = seq
    stored_postings = session.execute(
        text("SELECT seq, pos, account_id, amount FROM ledger_postings ORDER BY seq, pos")
    ).all()
    assert [tuple(map(int, row)) for row in stored_postings] == postings
    touched = session.execute(
        text("SELECT account_id, last_seq FROM ledger_balances WHERE last_seq > 0")
    ).all()
    assert {int(a): int(s) for a, s in touched} == last_seq
    stored = {
        (int(level), int(idx)): bytes(h)
        for level, idx, h in session.execute(
            text("SELECT level, idx, hash FROM ledger_tree_nodes")
        ).all()
    }
    expected_nodes = {
        (level, idx): _node(leaves, level, idx)
        for level in range(1, len(leaves).bit_length())
        for idx in range(len(leaves) >> level)
    }
    assert stored == expected_nodes
    size, head_hash, frontier = session.execute(
        text("SELECT seq, hash, frontier FROM ledger_head WHERE id = 1")
    ).one()
    perfect = [  # the roots of the perfect subtrees of the tree, largest first
        _node(leaves, level, (size >> level) - 1 if level else size - 1)
        for level in reversed(range(size.bit_length()))
        if size >> level & 1
    ]
    assert (size, head_hash, bytes(frontier)) == (len(entries), prev, b"".join(perfect))
    assert store.balances(session, ACCOUNTS) == model
    assert store.verify(session).ok


payments = st.lists(
    st.tuples(
        st.sampled_from(["voucher:1", "voucher:2"]),
        st.integers(min_value=1, max_value=400_000_000),
        st.one_of(st.none(), st.sampled_from(["B", "R", "PAY"])),
        st.text(max_size=12),  # shop names: quotes, backslashes, NUL, any script
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=payments)
def test_one_statement_append_writes_what_python_writes(
    session: Session, along: str, server_calls: list[int], batch: Any
) -> None:
    model = store.balances(session, ACCOUNTS)  # state carries over between examples
    served = accepted = 0
    for i, (voucher, amount, receipt, name) in enumerate(batch):
        spec = store.NewEntry(
            "redemption",
            [(voucher, -amount), ("merchant:1:payable", amount)],
            {"shop": 1, "shop_name": name, "voucher": int(voucher[-1])},
            receipt=receipt,
        )
        before = store.head(session)
        at = START + timedelta(microseconds=i)
        calls = len(server_calls)
        try:
            done, row_id = store.append_with(
                session, spec, _row(f"row {i}", receipt is not None), at=at
            )
        except InsufficientBalance as exc:
            assert model[voucher] < amount, "refused although the budget sufficed"
            assert (exc.balance, exc.change) == (model[voucher], -amount)
            assert store.head(session) == before  # nothing written, transaction usable
            continue
        served += len(server_calls) - calls
        accepted += 1
        assert model[voucher] >= amount, "paid although the budget did not suffice"
        model[voucher] -= amount
        model["merchant:1:payable"] += amount
        assert done.balances == {
            voucher: model[voucher],
            "merchant:1:payable": model["merchant:1:payable"],
        }
        expected_meta = dict(spec.meta)
        if receipt is not None:
            expected_meta["receipt"] = receipt_text(receipt, done.seq)
        stored = store.get_entry(session, done.seq)  # decoded from the stored bytes
        assert stored is not None
        assert (stored.meta, done.meta, stored.timestamp) == (
            expected_meta,
            expected_meta,
            at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        row = session.execute(
            text("SELECT note, receipt, seq, hash FROM kp_test_along WHERE id = :i"),
            {"i": row_id},
        ).one()
        expected_receipt = None if receipt is None else receipt_text(receipt, done.seq)
        assert tuple(row) == (f"row {i}", expected_receipt, done.seq, done.hash)
    session.commit()
    _check_everything(session, model)
    # PostgreSQL appended every one of them with kp_ledger_append (metadata strings of any
    # content are escaped JSON, so each entry has a template); SQLite never does.
    on_server = session.get_bind().dialect.name == "postgresql"
    assert served == (accepted if on_server else 0)


def test_refusals_leave_the_transaction_usable(session: Session, along: str) -> None:
    spec = store.NewEntry("redemption", [("voucher:2", -5), ("merchant:1:payable", 5)], {})
    before = store.head(session)
    with pytest.raises(InsufficientBalance) as refused:
        store.append_with(session, spec, _row("broke", False))
    assert (refused.value.account, refused.value.balance, refused.value.change) == (
        "voucher:2",
        0,
        -5,
    )
    assert store.head(session) == before
    unknown = store.NewEntry("redemption", [("voucher:1", -5), ("merchant:9:payable", 5)], {})
    with pytest.raises(UnknownAccount) as missing:
        store.append_with(session, unknown, _row("unknown", False), commit=True)
    assert missing.value.details == {"account": "merchant:9:payable"}
    store.open_account(session, "merchant:9:payable")  # the same transaction goes on
    with pytest.raises(InvalidEntry):  # a receipt number of an entry that has none
        store.append_with(session, unknown, _row("paid", True))
    for meta, prefix in (({"receipt": "B-000001"}, "B"), ({}, "b"), ({}, "B-")):
        twice = store.NewEntry("redemption", list(unknown.postings), meta, receipt=prefix)
        with pytest.raises(InvalidEntry):  # two receipts, or a prefix that is not A-Z
            store.append_with(session, twice, _row("paid", True))
    done, row_id = store.append_with(session, unknown, _row("paid", False))
    session.commit()
    assert store.balance(session, "merchant:9:payable") == 5
    assert session.execute(
        text("SELECT note, seq FROM kp_test_along WHERE id = :i"), {"i": row_id}
    ).one() == ("paid", done.seq)
    assert session.execute(text("SELECT count(*) FROM kp_test_along")).scalar_one() == 1
    _check_everything(
        session,
        {"fund:1": -(10**9), "voucher:1": 10**9 - 5, "voucher:2": 0, "merchant:1:payable": 0},
    )


def test_commit_goes_with_the_append(engine: Engine, session: Session, along: str) -> None:
    spec = store.NewEntry("redemption", [("voucher:1", -7), ("merchant:1:payable", 7)], {})
    done, _ = store.append_with(session, spec, _row("committed", False), commit=True)
    session.rollback()  # too late: the payment's COMMIT went with it (PostgreSQL), or
    if engine.dialect.name == "sqlite":  # on SQLite the caller commits as usual
        assert store.head(session)[0] == done.seq - 1
        return
    assert store.head(session)[0] == done.seq
    assert store.balance(session, "voucher:1") == 10**9 - 7
