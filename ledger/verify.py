"""Verification of a sequence of stored entries (pure).

Recomputes every hash and link, the sequence, zero sums and balances, and names the first
entry that is wrong. Works on plain values so it serves the database check, the offline
check of an exported ledger, and property tests alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.encoding import FORMAT_VERSION, GENESIS_HASH


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One entry as it sits in storage: columns plus the hashed bytes."""

    seq: int
    prev_hash: str
    hash: str
    body: bytes
    postings: list[list[Any]]  # [[account, amount], ...] from the postings rows
    kind: str


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing found wrong."""

    seq: int | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "ledger"
        return f"{where}: {self.code}: {self.message}"


@dataclass(slots=True)
class Report:
    """The outcome of a verification run."""

    entries: int = 0
    last_seq: int = 0
    head_hash: str = GENESIS_HASH
    balances: dict[str, int] = field(default_factory=dict)
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        """Return True when nothing was found wrong."""
        return self.problem is None


# The bytes after the timestamp value: '","v":1}' preceded by the 27-character timestamp.
_TAIL = b'","v":1}'
_TAIL_LEN = len(_TAIL) + len("2026-01-01T00:00:00.000000Z")


def _explain(e: StoredEntry, prev: str, loads: Any) -> Problem:
    """Parse the hashed bytes of an entry that failed the fast check and say what differs."""
    try:
        raw = loads(e.body)
        ok_body = (
            raw["v"] == FORMAT_VERSION
            and raw["seq"] == e.seq
            and raw["prev"] == prev
            and raw["kind"] == e.kind
        )
        postings = raw["postings"]
    except (ValueError, KeyError, TypeError):
        return Problem(e.seq, "bad_body", "stored bytes are not a ledger entry")
    if not ok_body:
        return Problem(
            e.seq, "body_mismatch", "sequence, link or kind differ from the hashed bytes"
        )
    if postings != e.postings:
        return Problem(e.seq, "postings_mismatch", "posting rows differ from the hashed bytes")
    return Problem(e.seq, "bad_body", "stored bytes are not in canonical form")


def verify_entries(
    entries: Iterable[StoredEntry],
    *,
    non_negative: Collection[str] = (),
    expected_balances: Mapping[str, int] | None = None,
    start_seq: int = 1,
    start_hash: str = GENESIS_HASH,
) -> Report:
    """Check a run of entries and return a report naming the first wrong one.

    Args:
        entries: entries in storage order (ascending ``seq``).
        non_negative: accounts that may never go below zero.
        expected_balances: the stored balance table, compared with the replay at the end.
        start_seq: the sequence number the run must start at.
        start_hash: the hash the first entry must link to.

    Returns:
        A report; ``report.problem`` is None when every check held.
    """
    report = Report(head_hash=start_hash)
    balances = report.balances
    expected_seq = start_seq
    prev = start_hash
    sha256 = hashlib.sha256
    loads = json.loads
    for e in entries:
        seq = e.seq
        if seq != expected_seq:
            if seq > expected_seq:
                report.problem = Problem(
                    expected_seq, "missing", f"entry {expected_seq} is missing (found {seq} next)"
                )
            else:
                report.problem = Problem(seq, "out_of_order", f"expected entry {expected_seq}")
            return report
        body = e.body
        if sha256(body).hexdigest() != e.hash:
            report.problem = Problem(seq, "hash_mismatch", "stored bytes do not match the hash")
            return report
        if e.prev_hash != prev:
            report.problem = Problem(
                seq, "broken_link", "previous-hash does not match the entry before it"
            )
            return report
        postings = e.postings
        # Fast path: the canonical JSON ends with fixed top-level keys (sorted: postings, prev,
        # seq, ts, v), so the rows can be compared with the hashed bytes without parsing them.
        # Account names cannot contain characters JSON would escape (ACCOUNT_RE), so this
        # rendering equals json.dumps; any difference falls back to a full parse below.
        if len(postings) == 2:  # nearly every entry: one f-string instead of a join
            (a0, n0), (a1, n1) = postings
            expected = (
                f',"postings":[["{a0}",{n0}],["{a1}",{n1}]],"prev":"{prev}","seq":{seq},"ts":"'
            ).encode()
        else:
            expected = (
                ',"postings":['
                + ",".join([f'["{a}",{n}]' for a, n in postings])
                + f'],"prev":"{prev}","seq":{seq},"ts":"'
            ).encode()
        start = len(body) - _TAIL_LEN - len(expected)
        if not (
            body.endswith(_TAIL)
            and body[start : len(body) - _TAIL_LEN] == expected
            and body.find(b',"kind":"' + e.kind.encode() + b'","meta":', 0, start) > 0
            and body.startswith(b'{"idem":')
        ):
            report.problem = _explain(e, prev, loads)
            return report
        if len(postings) < 2:
            report.problem = Problem(seq, "too_few_postings", "an entry needs two postings")
            return report
        total = 0
        for account, amount in postings:
            if type(amount) is not int or amount == 0:
                report.problem = Problem(seq, "bad_amount", f"bad amount on {account}")
                return report
            total += amount
            new = balances.get(account, 0) + amount
            balances[account] = new
            if new < 0 and account in non_negative:
                report.problem = Problem(
                    seq, "negative_balance", f"{account} goes below zero ({new} cents)"
                )
                return report
        if total != 0:
            report.problem = Problem(seq, "unbalanced", f"postings sum to {total}, not 0")
            return report
        prev = e.hash
        expected_seq += 1
        report.entries += 1
    report.last_seq = expected_seq - 1
    report.head_hash = prev
    if expected_balances is not None:
        for account in sorted(set(balances) | set(expected_balances)):
            replayed = balances.get(account, 0)
            stored = expected_balances.get(account, 0)
            if replayed != stored:
                report.problem = Problem(
                    None,
                    "balance_mismatch",
                    f"balance of {account} is {stored} cents, the entries give {replayed}",
                )
                return report
    return report
