"""Verification of a sequence of stored entries (pure).

Recomputes every hash and link, parses every entry's hashed bytes as strictly as the
encoder writes them (:mod:`ledger.strict`), compares every hashed field with its column and
posting rows, checks zero sums, amounts and balances, and names the first entry that is
wrong. Works on plain values so it serves the database check, the offline check of an
exported ledger, and property tests alike.

The verdict on each entry is the strict one (:func:`check_entry_strict`). A quicker check
(:class:`FastCheck`) may only say "yes": when it cannot, the strict check decides. A
property test (tests/ledger/test_strict_properties.py) holds the two to the same answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ledger.encoding import GENESIS_HASH, MAX_SAFE_INT
from ledger.fastcheck import FastCheck
from ledger.strict import EntryFormatError, parse_entry


class StoredEntry(NamedTuple):
    """One entry as it sits in storage: columns plus the hashed bytes.

    A named tuple: built once per entry on every verification, and far cheaper to build
    than a frozen dataclass.
    """

    seq: int
    prev_hash: str
    hash: str
    body: bytes
    postings: list[list[Any]]  # [[account, amount], ...] from the postings rows
    kind: str
    idempotency_key: str | None = None
    # The created_at column in the encoder's timestamp form; None when not recorded.
    created_at: str | None = None


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
    roots: dict[int, bytes] = field(default_factory=dict)  # recomputed, at the asked sizes

    @property
    def ok(self) -> bool:
        """Return True when nothing was found wrong."""
        return self.problem is None


def check_entry_strict(e: StoredEntry, prev: str) -> Problem | None:
    """Parse the hashed bytes of ``e`` strictly and compare every field with its columns.

    Args:
        e: the stored entry (its hash is checked elsewhere).
        prev: the hash of the entry before it.

    Returns:
        The first difference, or None when the bytes are canonical and every column agrees.
    """
    seq = e.seq
    try:
        body = parse_entry(e.body)
    except EntryFormatError as exc:
        return Problem(seq, "bad_body", f"the hashed bytes are not an encoder's entry: {exc}")
    if body.seq != seq:
        return Problem(
            seq, "seq_mismatch", f"seq column says {seq}, the hashed bytes say {body.seq}"
        )
    if body.prev_hash != prev:
        return Problem(
            seq,
            "prev_mismatch",
            f"the entry before has hash {prev}, the hashed bytes link to {body.prev_hash}",
        )
    if body.kind != e.kind:
        return Problem(
            seq, "kind_mismatch", f"kind column says {e.kind!r}, the hashed bytes say {body.kind!r}"
        )
    rows = [tuple(leg) for leg in e.postings]
    if rows != list(body.postings) or any(type(n) is not int for _, n in rows):
        hashed = [[p.account, p.amount] for p in body.postings]
        return Problem(
            seq,
            "postings_mismatch",
            f"posting rows say {e.postings}, the hashed bytes say {hashed}",
        )
    if body.idempotency_key != e.idempotency_key:
        return Problem(
            seq,
            "idem_mismatch",
            f"idempotency key column says {e.idempotency_key!r}, "
            f"the hashed bytes say {body.idempotency_key!r}",
        )
    if e.created_at is not None and body.timestamp != e.created_at:
        return Problem(
            seq,
            "time_mismatch",
            f"created_at column says {e.created_at}, the hashed bytes say {body.timestamp}",
        )
    return None


def verify_entries(
    entries: Iterable[StoredEntry],
    *,
    non_negative: Collection[str] = (),
    expected_balances: Mapping[str, int] | None = None,
    start_seq: int = 1,
    start_hash: str = GENESIS_HASH,
    fast: bool = True,
) -> Report:
    """Check a run of entries and return a report naming the first wrong one.

    Args:
        entries: entries in storage order (ascending ``seq``).
        non_negative: accounts that may never go below zero.
        expected_balances: the stored balance table, compared with the replay at the end.
        start_seq: the sequence number the run must start at.
        start_hash: the hash the first entry must link to.
        fast: try the quick check first (it only ever accepts what the strict one accepts).

    Returns:
        A report; ``report.problem`` is None when every check held.
    """
    report = Report(head_hash=start_hash)
    balances = report.balances
    expected_seq = start_seq
    prev = start_hash
    sha256 = hashlib.sha256
    quick = FastCheck() if fast else None
    for e in entries:
        seq = e.seq
        if seq != expected_seq:
            if seq > expected_seq:
                report.problem = Problem(
                    expected_seq, "missing", f"expected entry {expected_seq}, found {seq} next"
                )
            else:
                report.problem = Problem(
                    seq, "out_of_order", f"expected entry {expected_seq}, found {seq}"
                )
            return report
        if sha256(e.body).hexdigest() != e.hash:
            report.problem = Problem(
                seq,
                "hash_mismatch",
                f"hash column says {e.hash}, the stored bytes hash to {sha256(e.body).hexdigest()}",
            )
            return report
        if e.prev_hash != prev:
            report.problem = Problem(
                seq,
                "broken_link",
                f"prev_hash column says {e.prev_hash}, the entry before has hash {prev}",
            )
            return report
        if quick is None or not quick(e, prev):
            problem = check_entry_strict(e, prev)
            if problem is not None:
                report.problem = problem
                return report
        problem = apply_postings(seq, e.postings, balances, non_negative)
        if problem is not None:
            report.problem = problem
            return report
        prev = e.hash
        expected_seq += 1
        report.entries += 1
    report.last_seq = expected_seq - 1
    report.head_hash = prev
    if expected_balances is not None:
        report.problem = compare_balances(balances, expected_balances)
    return report


def apply_postings(
    seq: int,
    postings: Sequence[Sequence[Any]],
    balances: dict[str, int],
    non_negative: Collection[str],
) -> Problem | None:
    """Check the money rules of one entry's (already verified) postings and apply them."""
    if len(postings) < 2:
        return Problem(
            seq, "too_few_postings", f"expected 2 or more postings, found {len(postings)}"
        )
    total = 0
    for account, amount in postings:
        if type(amount) is not int or amount == 0 or not -MAX_SAFE_INT <= amount <= MAX_SAFE_INT:
            return Problem(
                seq,
                "bad_amount",
                f"expected a non-zero safe integer on {account}, found {amount!r}",
            )
        total += amount
        new = balances.get(account, 0) + amount
        balances[account] = new
        if new < 0 and account in non_negative:
            return Problem(
                seq,
                "negative_balance",
                f"{account} may not go below zero, the entry takes it to {new} cents",
            )
    if total != 0:
        return Problem(seq, "unbalanced", f"expected postings summing to 0, found {total}")
    return None


def compare_balances(replayed: Mapping[str, int], stored: Mapping[str, int]) -> Problem | None:
    """Return a problem naming the first account whose stored balance differs from the replay."""
    for account in sorted(set(replayed) | set(stored)):
        want, have = replayed.get(account, 0), stored.get(account, 0)
        if want != have:
            return Problem(
                None,
                "balance_mismatch",
                f"stored balance of {account} is {have} cents, the entries give {want}",
            )
    return None
