"""Reading entries from their bytes alone: the quick reader says only what the strict one says.

An export (format 2) is verified from the hashed bytes (``ledger.linecheck``). Its quick
reader learns each entry *shape* and reads later entries of that shape with a narrower
expression, so these properties feed one reader honest bytes first and then hostile ones
(the same damage as in test_strict_properties), and check whole chains both ways.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.encoding import GENESIS_HASH, EntryBody, Posting, encode, format_timestamp
from ledger.linecheck import QuickReader, quick_fields, strict_fields, verify_lines
from ledger.strict import EntryFormatError
from ledger.treecheck import RootTracker
from ledger.verify import apply_postings
from tests.ledger.test_strict_properties import (
    SETTINGS,
    _mutate_bytes,
    accounts,
    honest,
    idems,
    kinds,
    metas,
    moments,
    plain_idems,
    plain_metas,
)


def _strict_or_none(data: bytes) -> Any:
    try:
        return strict_fields(data)
    except EntryFormatError:
        return None


def _agrees(reader: QuickReader, data: bytes) -> None:
    quick = reader(data)
    if quick is not None:
        assert quick == _strict_or_none(data), "quick reader accepted what strict refuses"


@SETTINGS
@given(honest(plain_metas, plain_idems) | honest())
def test_honest_bytes_read_the_same_both_ways(pair: Any) -> None:
    e, _ = pair
    reader = QuickReader()
    for _ in range(2):  # the second time through the learned shape
        _agrees(reader, e.body)
    fields = quick_fields(e.body)
    assert fields is None or fields == strict_fields(e.body)


@SETTINGS
@given(honest(plain_metas, plain_idems))
def test_the_quick_reader_settles_plain_entries_with_modest_numbers(pair: Any) -> None:
    e, _ = pair
    if e.seq < 10**15 and all(abs(n) < 10**15 for _, n in e.postings):
        reader = QuickReader()
        assert reader(e.body) == strict_fields(e.body)
        assert reader(e.body) == strict_fields(e.body)  # and again by its shape


@SETTINGS
@given(honest(plain_metas, plain_idems) | honest(), st.data())
def test_hostile_bytes_after_honest_ones_read_the_same(pair: Any, data: Any) -> None:
    e, _ = pair
    reader = QuickReader()
    reader(e.body)  # learn the honest shape first
    forged = _mutate_bytes(e.body, data.draw)
    _agrees(reader, forged)
    _agrees(QuickReader(), forged)


FEW_ACCOUNTS = ["fund:1", "voucher:1", "voucher:2", "merchant:1:payable"]
messy_legs = st.lists(
    st.tuples(st.sampled_from(FEW_ACCOUNTS), st.integers(-5, 5)), min_size=0, max_size=3
)


@st.composite
def chains(draw: Any, messy: bool = False) -> list[bytes]:
    """The bytes of a short ledger from entry 1, plain entries mostly.

    Honest postings by default; ``messy`` ones may be unbalanced, zero, one-legged, name an
    account twice or take a never-below-zero account under zero.
    """
    out, prev = [], GENESIS_HASH
    for seq in range(1, draw(st.integers(1, 6)) + 1):
        plain = draw(st.booleans())
        if messy:
            legs = tuple(Posting(a, n) for a, n in draw(messy_legs))
        else:
            a, b = draw(st.lists(accounts, min_size=2, max_size=2, unique=True))
            amount = draw(st.integers(1, 10**6))
            legs = (Posting(a, -amount), Posting(b, amount))
        body = EntryBody(
            seq,
            prev,
            draw(kinds),
            format_timestamp(draw(moments)),
            legs,
            draw(plain_metas if plain else metas),
            draw(plain_idems if plain else idems),
        )
        data = encode(body)
        out.append(data)
        prev = hashlib.sha256(data).hexdigest()
    return out


def _both_ways(lines: list[bytes]) -> None:
    sizes = set(range(len(lines) + 1))
    quick, strict = RootTracker(set(sizes)), RootTracker(set(sizes))
    a = verify_lines(lines, quick, fast=True)
    b = verify_lines(lines, strict, fast=False)
    assert (a.problem and (a.problem.seq, a.problem.code)) == (
        b.problem and (b.problem.seq, b.problem.code)
    )
    assert (a.entries, a.head_hash, a.balances) == (b.entries, b.head_hash, b.balances)
    assert quick.roots == strict.roots


@SETTINGS
@given(chains(), st.data())
def test_damaged_chains_get_the_same_verdict_both_ways(lines: list[bytes], data: Any) -> None:
    _both_ways(lines)
    at = data.draw(st.integers(0, len(lines) - 1))
    damaged = [*lines]
    damaged[at] = _mutate_bytes(lines[at], data.draw)
    _both_ways(damaged)
    if len(lines) > 1:
        _both_ways(lines[:at] + lines[at + 1 :])  # an entry left out
        _both_ways([*lines[:at], lines[at], *lines[at:]])  # an entry twice


def test_metadata_keys_out_of_order_or_twice_are_left_to_the_strict_reader() -> None:
    good = (
        b'{"idem":null,"kind":"voucher.issue","meta":{"a":1,"b":2},"postings":[["fund:1",-1],'
        b'["voucher:1",1]],"prev":"' + b"0" * 64 + b'","seq":1,"ts":"2026-11-23T12:00:00.000000Z",'
        b'"v":1}'
    )
    reader = QuickReader()
    assert reader(good) == strict_fields(good)
    for meta in (b'{"b":2,"a":1}', b'{"a":1,"a":2}'):
        forged = good.replace(b'{"a":1,"b":2}', meta)
        assert reader(forged) is None and _strict_or_none(forged) is None
    leap = good.replace(b"2026-11-23", b"2026-02-29")  # no such day
    assert reader(leap) is None and _strict_or_none(leap) is None


@SETTINGS
@given(chains(messy=True), st.sets(st.sampled_from(FEW_ACCOUNTS)))
def test_money_rules_are_those_of_apply_postings(lines: list[bytes], floor: set[str]) -> None:
    report = verify_lines(lines, RootTracker(set()), non_negative=floor)
    balances: dict[str, int] = {}
    problem = None
    for seq, data in enumerate(lines, 1):
        problem = apply_postings(seq, strict_fields(data)[2], balances, floor)
        if problem is not None:
            break
    assert report.problem == problem
    assert report.balances == balances
    assert report.entries == (problem.seq - 1 if problem and problem.seq else len(lines))
