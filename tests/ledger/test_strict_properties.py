"""The quick entry check says yes only where the strict one does, on honest and hostile bytes.

``verify_entries`` asks ``FastCheck`` first and the strict check when it is unsure, so the
verdicts are equal exactly when the fast check never accepts what the strict one refuses.
These properties drive both with generated honest entries and with mutated columns and
bytes: duplicate keys, white space, floats, big integers, unicode escapes, reordered and
extra keys, account names with quotes and commas, and random damage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.encoding import (
    ACCOUNT_RE,
    KIND_RE,
    MAX_SAFE_INT,
    EntryBody,
    Posting,
    encode,
    entry_hash,
    format_timestamp,
)
from ledger.fastcheck import FastCheck
from ledger.strict import EntryFormatError, parse_entry, parse_entry_fast
from ledger.verify import StoredEntry, check_entry_strict, verify_entries

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
kinds = st.from_regex(KIND_RE, fullmatch=True)
accounts = st.from_regex(ACCOUNT_RE, fullmatch=True).filter(lambda a: len(a) <= 40)
amounts = st.integers(-MAX_SAFE_INT, MAX_SAFE_INT).filter(bool)
moments = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INT, MAX_SAFE_INT)
    | st.text(max_size=8)
    | st.sampled_from(["", 'q"uote', "back\\slash", "tab\t", "é€", "\u2028", "\x7f"])
)
ascii_keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=6)
metas = st.dictionaries(
    ascii_keys,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ascii_keys, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=4,
)
# Text the encoder writes without escapes: what nearly every real entry holds.
plain_text = st.text(
    st.characters(blacklist_characters='"\\', blacklist_categories=("Cc", "Cs")), max_size=8
)
plain_metas = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8),
    st.none() | st.booleans() | st.integers(-(10**15) + 1, 10**15 - 1) | plain_text,
    max_size=4,
)
plain_idems = st.none() | plain_text.filter(bool)
idems = st.none() | st.text(min_size=1, max_size=40)


@st.composite
def honest(draw: Any, meta: Any = metas, keys: Any = idems) -> tuple[StoredEntry, str]:
    """An entry as the store writes it, and the hash of the entry before it."""
    seq = draw(st.integers(1, MAX_SAFE_INT))
    prev = draw(hexes)
    legs = draw(st.lists(st.tuples(accounts, amounts), min_size=2, max_size=4))
    body = EntryBody(
        seq,
        prev,
        draw(kinds),
        format_timestamp(draw(moments)),
        tuple(Posting(a, n) for a, n in legs),
        draw(meta),
        draw(keys),
    )
    data = encode(body)
    e = StoredEntry(
        body.seq,
        prev,
        entry_hash(data),
        data,
        [[a, n] for a, n in body.postings],
        body.kind,
        body.idempotency_key,
        body.timestamp,
    )
    return e, prev


def _mutate_bytes(data: bytes, draw: Any) -> bytes:
    """Return ``data`` damaged in one of the ways an attacker might try."""
    choice = draw(st.integers(0, 14))
    at = draw(st.integers(0, len(data)))
    if choice == 0:  # white space anywhere
        return data[:at] + draw(st.sampled_from([b" ", b"\n", b"\t", b"\r"])) + data[at:]
    if choice == 1:  # a second copy of some key
        key = draw(st.sampled_from([b"postings", b"seq", b"kind", b"prev", b"idem", b"ts", b"v"]))
        raw = json.loads(data)
        dup = json.dumps(raw[key.decode()], separators=(",", ":")).encode()
        return data.replace(b'"' + key + b'":', b'"' + key + b'":' + dup + b',"' + key + b'":', 1)
    if choice == 2:  # a float where an integer was
        return data.replace(b"]", b".0]", 1) if b"]" in data else data + b".0"
    if choice == 3:  # a number beyond 2^53
        return data.replace(b'"v":1', b'"v":' + str(2**53 + 1).encode(), 1)
    if choice == 4:  # a unicode escape for a plain character
        pos = data.find(b'"', at)
        return data if pos < 0 else data[: pos + 1] + b"\\u0061" + data[pos + 1 :]
    if choice == 5:  # keys in another order
        raw = json.loads(data)
        items = list(raw.items())
        draw(st.randoms()).shuffle(items)
        return json.dumps(dict(items), separators=(",", ":"), ensure_ascii=False).encode()
    if choice == 6:  # an extra key
        return data[:-1] + b',"zz":0}'
    if choice == 7:  # one byte changed
        if not data:
            return b"x"
        i = min(at, len(data) - 1)
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    if choice == 8:  # cut short
        return data[:at]
    if choice == 9:  # re-encoded by a plain JSON writer (ASCII escapes, spaces)
        return json.dumps(json.loads(data)).encode()
    if choice == 10:  # NaN / Infinity in place of a value
        return data.replace(b"null", draw(st.sampled_from([b"NaN", b"Infinity", b"-0"])), 1)
    if choice == 11:  # -0 or a leading zero
        return data.replace(b'"seq":', b'"seq":0', 1)
    if choice == 13:  # a key inside the metadata: out of order, or twice
        key = draw(st.sampled_from([b"a", b"zzz", b"_", b"receipt"]))
        return data.replace(b'"meta":{', b'"meta":{"' + key + b'":1,', 1)
    if choice == 12:  # random bytes inserted
        return data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return draw(st.binary(max_size=80))  # nothing like an entry


def _mutate_columns(e: StoredEntry, draw: Any) -> StoredEntry:
    """Return ``e`` with one column or posting row changed."""
    choice = draw(st.integers(0, 7))
    legs = [list(leg) for leg in e.postings]
    if choice == 7:  # two legs of the bytes passed off as one row through a quoted name
        i = draw(st.integers(0, len(legs) - 2))
        (a, n), (b, m) = legs[i], legs[i + 1]
        legs[i : i + 2] = [[f'{a}",{n}],["{b}', m]]
    elif choice == 0:
        sly = draw(st.sampled_from(['a",1],["b', "a,b", 'x"', "voucher:1\n", "Voucher:1"]))
        legs[draw(st.integers(0, len(legs) - 1))][0] = sly
    elif choice == 1:
        legs[0][1] = draw(
            st.sampled_from([legs[0][1] + 1, float(legs[0][1]), True, str(legs[0][1])])
        )
    elif choice == 2:
        legs = legs[:-1] if draw(st.booleans()) else [*legs, ["fund:1", 1]]
    elif choice == 3:
        return _replace(e, kind=draw(st.sampled_from([e.kind + "x", "refund", "Bad kind"])))
    elif choice == 4:
        return _replace(e, idempotency_key=draw(idems))
    elif choice == 5:
        ts = draw(st.sampled_from(["2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00Z", None]))
        return _replace(e, created_at=ts)
    else:
        return _replace(e, seq=e.seq + draw(st.sampled_from([1, -1])))
    return _replace(e, postings=legs)


def _replace(e: StoredEntry, **changes: Any) -> StoredEntry:
    fields = {
        "seq": e.seq,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "body": e.body,
        "postings": e.postings,
        "kind": e.kind,
        "idempotency_key": e.idempotency_key,
        "created_at": e.created_at,
    }
    fields.update(changes)
    if "body" in changes:
        fields["hash"] = entry_hash(changes["body"])
    return StoredEntry(**fields)


def _assert_same_verdict(e: StoredEntry, prev: str) -> None:
    strict = check_entry_strict(e, prev)
    if FastCheck()(e, prev):
        assert strict is None, f"fast path accepted what the strict one refuses: {strict}"
    try:
        slow_body: EntryBody | type[Exception] = parse_entry(e.body)
    except EntryFormatError:
        slow_body = EntryFormatError
    try:
        quick_body: EntryBody | type[Exception] = parse_entry_fast(e.body)
    except EntryFormatError:
        quick_body = EntryFormatError
    assert slow_body == quick_body
    a = verify_entries([e], start_seq=e.seq, start_hash=prev, fast=True)
    b = verify_entries([e], start_seq=e.seq, start_hash=prev, fast=False)
    assert (a.problem and a.problem.code) == (b.problem and b.problem.code)
    assert a.balances == b.balances


@SETTINGS
@given(honest())
def test_honest_entries_pass_both_checks(pair: tuple[StoredEntry, str]) -> None:
    e, prev = pair
    assert check_entry_strict(e, prev) is None
    _assert_same_verdict(e, prev)


@SETTINGS
@given(honest(plain_metas, plain_idems))
def test_the_fast_path_settles_honest_plain_entries(pair: tuple[StoredEntry, str]) -> None:
    e, prev = pair
    assert FastCheck()(e, prev)


@SETTINGS
@given(honest(plain_metas, plain_idems) | honest(), st.data())
@example(
    (
        StoredEntry(
            1, "0" * 64, "", b'{"a":1,"a":2}', [["voucher:1", 5], ["fund:1", -5]], "redemption"
        ),
        "0" * 64,
    ),
    None,
)
def test_mutated_bytes_get_the_same_verdict(pair: tuple[StoredEntry, str], data: Any) -> None:
    e, prev = pair
    if data is None:
        _assert_same_verdict(e, prev)
        return
    forged = _mutate_bytes(e.body, data.draw)
    _assert_same_verdict(_replace(e, body=forged), prev)


@SETTINGS
@given(honest(plain_metas, plain_idems) | honest(), st.data())
def test_mutated_columns_get_the_same_verdict(pair: tuple[StoredEntry, str], data: Any) -> None:
    e, prev = pair
    changed = _mutate_columns(e, data.draw)
    _assert_same_verdict(changed, prev)
    if data.draw(st.booleans()):
        _assert_same_verdict(changed, data.draw(hexes))
