"""Fast paths of the ledger: direct entry encoding and bulk appends (COPY on PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import store
from ledger.encoding import EntryBody, Posting, _encode_generic, encode, encode_fields
from ledger.errors import InsufficientBalance
from ledger.models import LedgerEntry, LedgerPosting, LedgerTreeNode

_scalar = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
_meta_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=400)
@given(
    seq=st.integers(0, 2**60),
    prev=st.text(),
    kind=st.text(),
    ts=st.text(),
    legs=st.lists(st.tuples(st.text(), st.integers(-(2**60), 2**60)), max_size=4),
    meta=st.dictionaries(st.text(), _meta_value, max_size=4),
    key=st.none() | st.text(),
)
def test_direct_encoding_is_byte_identical_to_the_json_encoder(
    seq: int,
    prev: str,
    kind: str,
    ts: str,
    legs: list[tuple[str, int]],
    meta: dict[str, object],
    key: str | None,
) -> None:
    postings = tuple(Posting(a, n) for a, n in legs)
    body = EntryBody(seq, prev, kind, ts, postings, meta, key)
    try:
        expected: bytes | type[Exception] = _encode_generic(body)
    except Exception as exc:  # e.g. lone surrogates cannot be UTF-8
        expected = type(exc)
    for make in (
        lambda: encode(body),
        lambda: encode_fields(seq, prev, kind, ts, postings, meta, key),
    ):
        try:
            got: bytes | type[Exception] = make()
        except Exception as exc:
            got = type(exc)
        assert got == expected


def test_escaped_strings_take_the_reference_path() -> None:
    body = EntryBody(1, "a" * 64, "kind", 'ts"\n', (Posting("a:1", -1),), {"é": "\x00"}, "k\\")
    assert encode(body) == _encode_generic(body)
    assert b'"ts\\"\\n"' in encode(body)


def _open(session: Session, vouchers: int) -> None:
    store.open_account(session, "bank:1")
    store.open_account(session, "fund:1")
    store.open_accounts(session, [f"voucher:{i}" for i in range(vouchers)], non_negative=True)
    store.open_accounts(session, ["voucher:0", "voucher:1"], non_negative=True)  # no-op
    store.append(session, "fund.deposit", [("bank:1", -1_000_000), ("fund:1", 1_000_000)])


def test_large_batch_writes_every_row_and_verifies(session: Session) -> None:
    _open(session, 80)
    specs = [
        store.NewEntry(
            "voucher.issue",
            [("fund:1", -(i + 1)), (f"voucher:{i % 80}", i + 1)],
            {"voucher": i % 80, "note": f"é {i}"},
            f"issue:{i}",
        )
        for i in range(100)
    ]
    session.info.pop("ledger_appended", None)
    done = store.append_many(session, specs)
    assert session.info["ledger_appended"] is True
    session.commit()
    assert [e.seq for e in done] == list(range(2, 102))
    count = session.execute(select(func.count()).select_from(LedgerPosting)).scalar_one()
    assert count == 202
    assert (
        session.execute(select(func.count()).select_from(LedgerTreeNode)).scalar_one()
        == 101 - (101).bit_count()
    )
    body = session.get(LedgerEntry, 2).body  # type: ignore[union-attr]
    assert b'"note":"\xc3\xa9 0"' in bytes(body)
    assert store.balance(session, "voucher:0") == 1 + 81
    assert store.balance(session, "fund:1") == 1_000_000 - sum(range(1, 101))
    again = store.append_many(session, specs)  # replays: nothing new
    assert all(e.replayed for e in again) and store.head(session)[0] == 101
    report = store.verify(session)
    assert report.ok, report.problem


def test_large_batch_that_overdraws_writes_nothing(session: Session) -> None:
    _open(session, 40)
    session.commit()
    specs = [
        store.NewEntry("voucher.issue", [("fund:1", -5), (f"voucher:{i}", 5)]) for i in range(40)
    ]
    specs.append(store.NewEntry("redemption", [("voucher:3", -6), ("bank:1", 6)]))
    with pytest.raises(InsufficientBalance):
        store.append_many(session, specs)
    session.rollback()
    assert store.head(session)[0] == 1
    assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 1
    assert store.balance(session, "voucher:3") == 0
