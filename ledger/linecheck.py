"""Verification of entries from their hashed bytes alone, one entry after another (pure).

An export (format 2) holds each entry's hashed bytes and nothing else: the database's
columns (seq, prev_hash, hash, kind, postings, ...) only repeat what the bytes say, and an
auditor checks the bytes themselves. So :func:`verify_lines` takes every fact from the
bytes, read as strictly as :func:`ledger.strict.parse_entry` reads them:

* each entry's bytes are exactly what the encoder writes (``bad_body`` otherwise);
* the seq numbers run 1, 2, 3, ... (``missing``, ``out_of_order``);
* each entry links to the SHA-256 of the bytes before it (``broken_link``);
* the money rules hold (zero sum, non-zero safe amounts, never-below-zero accounts) and the
  replayed balances equal the stored ones (``balance_mismatch``);
* every hash is fed to a :class:`~ledger.treecheck.RootTracker` for the checkpoint roots.

:func:`quick_fields` settles the common shape (flat plain metadata, no escapes) with one
regular expression; it answers only "these are the fields, and the strict reader agrees"
or None ("ask the strict reader"). tests/ledger/test_strict_properties.py holds it to that
on honest and hostile bytes alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from ledger.encoding import GENESIS_HASH
from ledger.strict import EntryFormatError, parse_entry
from ledger.treecheck import RootTracker
from ledger.verify import Problem, Report, apply_postings, compare_balances

# The encoder's layout (ledger.encoding._encode_plain) for values that need no escaping.
# Every class below is inside the strict reader's domain: ACCOUNT_RE and KIND_RE spelled
# out, amounts and seq of at most 15 digits (below 2**53), strings without the characters
# JSON escapes, ASCII printable metadata keys, ts of a real time of day (the date is
# checked apart, see _date_ok). Anything else, including longer numbers, goes to the strict
# reader.
_ACCOUNT = r"[a-z][a-z0-9_]*(?::[A-Za-z0-9_.-]+)+"
_AMOUNT = r"(?:0|-?[1-9][0-9]{0,14})"
_LEG = rf'\["{_ACCOUNT}",{_AMOUNT}\]'
_STR = r'"[^"\\\x00-\x1f]*"'
_KEY_TEXT = r"[\x20\x21\x23-\x5b\x5d-\x7e]*"
_KEY = rf'"{_KEY_TEXT}"'
_VALUE = rf"(?:null|true|false|{_AMOUNT}|{_STR})"
_TAIL = (
    r'\],"prev":"([0-9a-f]{64})","seq":([1-9][0-9]{0,14}),'
    r'"ts":"([0-9]{4}-[0-9]{2}-[0-9]{2})T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z",'
    r'"v":1\}'
)
_ENTRY = re.compile(
    r'\{"idem":(null|"[^"\\\x00-\x1f]{1,160}"),'
    r'"kind":"([a-z][a-z0-9_.]{1,62})",'
    rf'"meta":(\{{\}}|\{{{_KEY}:{_VALUE}(?:,{_KEY}:{_VALUE})*\}}),'
    rf'"postings":\[((?:{_LEG}(?:,{_LEG})*)?){_TAIL}'
).fullmatch
# Each match takes one whole "key":value item, so the matches are the items in order.
_META_KEYS = re.compile(rf'[{{,]"({_KEY_TEXT})":{_VALUE}').findall
_LEGS = re.compile(rf'\["({_ACCOUNT})",({_AMOUNT})\]').findall

_SHAPES = 256  # specialised expressions kept at most
_BLOCK = 256  # entry hashes folded into the tree at a time

Fields = tuple[int, str, list[tuple[str, int]]]  # seq, prev, postings


class QuickReader:
    """Callable ``bytes -> Fields | None``: the fields when the shape settles them, else None.

    Not None only when :func:`ledger.strict.parse_entry` accepts the bytes and finds the
    same seq, prev and postings. Bytes the general expression (``_ENTRY``) accepts and
    whose metadata keys are sorted and unique teach it their *shape* (idem null or not,
    kind, metadata keys, number of postings); later bytes of a known shape are read by one
    expression with those parts written out, which is a narrower form of ``_ENTRY`` with
    keys already found in order.
    """

    __slots__ = ("_dates", "_last", "_shapes")

    def __init__(self) -> None:
        self._dates: set[str] = set()
        self._shapes: dict[tuple[bool, str, tuple[str, ...], int], Any] = {}
        self._last: Any = None

    def __call__(self, data: bytes) -> Fields | None:
        """Return seq, prev and postings of ``data``, or None to ask the strict reader."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        last = self._last
        m = last(text) if last is not None else None
        if m is None:
            return self._general(text)
        g = m.groups()
        if len(g) == 7:  # two postings, nearly every entry
            a, n, b, k, prev, seq, day = g
            postings = [(a, int(n)), (b, int(k))]
        else:
            *legs, prev, seq, day = g
            postings = [(legs[i], int(legs[i + 1])) for i in range(0, len(legs), 2)]
        if day not in self._dates and not self._date_ok(day):
            return None
        return int(seq), prev, postings

    def _date_ok(self, day: str) -> bool:
        """Return True for a real calendar date (year 1 to 9999), remembering it."""
        try:
            date.fromisoformat(day)
        except ValueError:
            return False
        self._dates.add(day)
        return True

    def _general(self, text: str) -> Fields | None:
        """Read ``text`` with the general expression, and learn its shape."""
        m = _ENTRY(text)
        if m is None:
            return None
        idem, kind, meta, legs, prev, seq, day = m.groups()
        if day not in self._dates and not self._date_ok(day):
            return None
        keys = tuple(_META_KEYS(meta))
        if list(keys) != sorted(set(keys)):
            return None
        postings = [(a, int(n)) for a, n in _LEGS(legs)]
        shape = (idem == "null", kind, keys, len(postings))
        known = self._shapes.get(shape)
        if known is None and len(self._shapes) < _SHAPES:
            known = self._shapes[shape] = _specialise(*shape)
        self._last = known
        return int(seq), prev, postings


def _specialise(idem_null: bool, kind: str, keys: tuple[str, ...], legs: int) -> Any:
    """Return the fullmatch of ``_ENTRY`` narrowed to one shape, capturing legs and tail."""
    idem = "null" if idem_null else r'"[^"\\\x00-\x1f]{1,160}"'
    meta = ",".join(f'"{re.escape(k)}":{_VALUE}' for k in keys)
    leg = rf'\["({_ACCOUNT})",({_AMOUNT})\]'
    pattern = (
        rf'\{{"idem":{idem},"kind":"{re.escape(kind)}","meta":\{{{meta}\}},'
        rf'"postings":\[{",".join([leg] * legs)}{_TAIL}'
    )
    return re.compile(pattern).fullmatch


def quick_fields(data: bytes) -> Fields | None:
    """Return what a fresh :class:`QuickReader` returns for ``data``."""
    return QuickReader()(data)


def strict_fields(data: bytes) -> Fields:
    """Return seq, prev and postings through the strict reader (EntryFormatError if none)."""
    body = parse_entry(data)
    return body.seq, body.prev_hash, [(p.account, p.amount) for p in body.postings]


def verify_lines(
    lines: Iterable[bytes],
    tracker: RootTracker,
    *,
    non_negative: Collection[str] = (),
    expected_balances: Mapping[str, int] | None = None,
    fast: bool = True,
) -> Report:
    """Check a ledger given as the hashed bytes of its entries, from entry 1 on.

    Args:
        lines: the bytes of each entry in order.
        tracker: fed with every entry hash (for the checkpoint roots).
        non_negative: accounts that may never go below zero.
        expected_balances: the stored balance table, compared with the replay at the end.
        fast: let :func:`quick_fields` settle what it can (same verdicts; for benchmarks).

    Returns:
        A report naming the first problem; ``head_hash`` is the hash of the last good entry.
    """
    report = Report()
    balances = report.balances
    get = balances.get
    quick = QuickReader() if fast else None
    sha256 = hashlib.sha256
    add = tracker.add_block
    block: list[bytes] = []
    prev = GENESIS_HASH
    expected = 1
    for data in lines:
        fields = quick(data) if quick is not None else None
        if fields is None:
            try:
                fields = strict_fields(data)
            except EntryFormatError as exc:
                report.problem = Problem(
                    expected, "bad_body", f"the bytes are not an encoder's entry: {exc}"
                )
                break
        seq, link, legs = fields
        if seq != expected:
            code = "missing" if seq > expected else "out_of_order"
            report.problem = Problem(
                expected, code, f"expected entry {expected}, the bytes in its place say {seq}"
            )
            break
        if link != prev:
            report.problem = Problem(
                seq,
                "broken_link",
                f"the bytes link to {link}, the bytes of the entry before hash to {prev}",
            )
            break
        applied = False
        if len(legs) == 2:  # apply_postings written out for two legs (same outcome)
            (a, n), (b, k) = legs
            if n and n + k == 0 and a != b:
                x, y = get(a, 0) + n, get(b, 0) + k
                if (x >= 0 or a not in non_negative) and (y >= 0 or b not in non_negative):
                    balances[a], balances[b] = x, y
                    applied = True
        if not applied:
            problem = apply_postings(seq, legs, balances, non_negative)
            if problem is not None:
                report.problem = problem
                break
        digest = sha256(data).digest()
        block.append(digest)
        if len(block) == _BLOCK:
            add(block)
            block = []
        prev = digest.hex()
        expected += 1
    add(block)
    report.entries = report.last_seq = expected - 1
    report.head_hash = prev
    if report.problem is None and expected_balances is not None:
        report.problem = compare_balances(balances, expected_balances)
    return report


__all__ = ["QuickReader", "quick_fields", "strict_fields", "verify_lines"]
