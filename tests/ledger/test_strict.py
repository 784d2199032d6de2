"""Verification accepts exactly the bytes the encoder writes: crafted entries are caught.

Each crafted entry is re-hashed and put at the end of the chain, as a database owner with
the triggers off could, so only the strict reading of the hashed bytes can tell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ledger import store
from ledger.encoding import EntryBody, Posting, encode, entry_hash
from ledger.export import verify_export
from ledger.strict import EntryFormatError, parse_entry
from ledger.verify import StoredEntry, verify_entries
from tests.ledger.test_proofs import ORIGIN, SIGNER_A, VK_A
from tests.ledger.test_tamper import build, drop_guards

LAST = 8  # build() writes 8 entries; entry 8 is redemption voucher:1 -> merchant:1:payable 105

Craft = Callable[[bytes], bytes]


def _sub(old: bytes, new: bytes) -> Craft:
    def craft(body: bytes) -> bytes:
        assert old in body
        return body.replace(old, new, 1)

    return craft


def _canonical(**changes: object) -> Craft:
    """Return a craft writing canonical bytes with some fields changed."""

    def craft(body: bytes) -> bytes:
        raw = json.loads(body)
        raw.update(changes)
        e = EntryBody(
            raw["seq"],
            raw["prev"],
            raw["kind"],
            raw["ts"],
            tuple(Posting(a, n) for a, n in raw["postings"]),
            raw["meta"],
            raw["idem"],
        )
        return encode(e)

    return craft


TWO_53 = 2**53 + 1
# name -> (craft of the hashed bytes, posting rows to store as [(account, amount)] or None)
CRAFTED: dict[str, tuple[Craft, list[tuple[str, int]] | None]] = {
    "not JSON": (lambda body: b"redemption voucher:1 -105 merchant:1:payable 105", None),
    "not UTF-8": (_sub(b'"R-5"', b'"R-\xff"'), None),
    "second postings key": (
        _sub(b'"postings":', b'"postings":[["voucher:1",-1],["merchant:1:payable",1]],"postings":'),
        None,
    ),
    "second seq key": (_sub(b'"seq":8', b'"seq":9,"seq":8'), None),
    "second kind key": (_sub(b'"kind":"redemption"', b'"kind":"refund","kind":"redemption"'), None),
    "float amounts": (_sub(b"-105],", b"-105.0],"), None),
    "NaN in meta": (_sub(b'"R-5"', b"NaN"), None),
    "white space": (_sub(b',"v":1}', b', "v":1}'), None),
    "trailing newline": (lambda body: body + b"\n", None),
    "unicode escape": (_sub(b'"R-5"', b'"R-\\u0035"'), None),
    "reordered keys": (
        lambda body: json.dumps(
            dict(reversed(json.loads(body).items())), separators=(",", ":")
        ).encode(),
        None,
    ),
    "extra key": (_sub(b',"v":1}', b',"v":1,"w":0}'), None),
    "integer above 2^53": (
        _canonical(postings=[["voucher:1", -TWO_53], ["merchant:1:payable", TWO_53]]),
        [("voucher:1", -TWO_53), ("merchant:1:payable", TWO_53)],
    ),
}


def tamper_last(
    session: Session, body: bytes, *, legs: list[tuple[str, int]] | None = None
) -> None:
    """Store ``body`` (re-hashed) as the last entry, optionally with new posting rows."""
    digest = entry_hash(body)
    session.execute(
        text("UPDATE ledger_entries SET body = :b, hash = :h WHERE seq = :s"),
        {"b": body, "h": digest, "s": LAST},
    )
    session.execute(text("UPDATE ledger_head SET hash = :h"), {"h": digest})
    if legs is not None:
        session.execute(text("DELETE FROM ledger_postings WHERE seq = :s"), {"s": LAST})
        for pos, (account, amount) in enumerate(legs):
            session.execute(
                text(
                    "INSERT INTO ledger_postings (seq, pos, account_id, amount) VALUES "
                    "(:s, :p, (SELECT id FROM ledger_accounts WHERE name = :a), :m)"
                ),
                {"s": LAST, "p": pos, "a": account, "m": amount},
            )
    session.commit()


def last_body(session: Session) -> bytes:
    return bytes(
        session.execute(
            text("SELECT body FROM ledger_entries WHERE seq = :s"), {"s": LAST}
        ).scalar_one()
    )


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_bytes_are_refused(session: Session, name: str) -> None:
    build(session)
    drop_guards(session)
    craft, legs = CRAFTED[name]
    forged = craft(last_body(session))
    tamper_last(session, forged, legs=legs)
    problem = store.verify(session).problem
    assert problem is not None, f"{name} passed verification"
    assert (problem.seq, problem.code) == (LAST, "bad_body"), problem
    assert "expected" in problem.message and "found" in problem.message
    with pytest.raises(ValueError):  # get_entry reads as strictly as verify does
        store.get_entry(session, LAST)


def test_a_different_kind_in_the_bytes_is_named(session: Session) -> None:
    build(session)
    drop_guards(session)
    tamper_last(session, _canonical(kind="refund")(last_body(session)))
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (LAST, "kind_mismatch")
    assert "kind column says 'redemption', the hashed bytes say 'refund'" in problem.message


def test_kind_column_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    session.execute(text("UPDATE ledger_entries SET kind = 'refund' WHERE seq = 5"))
    session.commit()
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (5, "kind_mismatch")
    assert "kind column says 'refund', the hashed bytes say 'redemption'" in problem.message


def test_idempotency_key_column_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    session.execute(text("UPDATE ledger_entries SET idempotency_key = 'k-1' WHERE seq = 6"))
    session.commit()
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (6, "idem_mismatch")


def test_created_at_column_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    session.execute(
        text("UPDATE ledger_entries SET created_at = :t WHERE seq = 6"),
        {"t": "2020-02-02 02:02:02.000000"},
    )
    session.commit()
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (6, "time_mismatch")


def test_unbalanced_entry_hidden_behind_an_account_name_is_caught(session: Session) -> None:
    """Rows that render like a balanced entry's bytes, through a name holding quotes."""
    build(session)
    drop_guards(session)
    forged = _canonical(postings=[["voucher:1", -7], ["merchant:1:payable", 100], ["fund:1", 7]])(
        last_body(session)
    )
    sly = 'merchant:1:payable",100],["fund:1'
    session.execute(
        text(
            "INSERT INTO ledger_accounts (name, non_negative, created_at) "
            "VALUES (:n, false, '2026-01-01 00:00:00')"
        ),
        {"n": sly},
    )
    tamper_last(session, forged, legs=[("voucher:1", -7), (sly, 7)])
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (LAST, "postings_mismatch")
    assert "the hashed bytes say" in problem.message


def test_unbalanced_bytes_with_matching_rows_are_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    forged = _canonical(postings=[["voucher:1", -7], ["merchant:1:payable", 100]])
    tamper_last(
        session, forged(last_body(session)), legs=[("voucher:1", -7), ("merchant:1:payable", 100)]
    )
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (LAST, "unbalanced")
    assert "expected postings summing to 0, found 93" in problem.message


def test_non_negative_account_going_below_zero_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    big = 10**8
    forged = _canonical(postings=[["voucher:1", -big], ["merchant:1:payable", big]])
    tamper_last(
        session, forged(last_body(session)), legs=[("voucher:1", -big), ("merchant:1:payable", big)]
    )
    problem = store.verify(session).problem
    assert problem is not None and (problem.seq, problem.code) == (LAST, "negative_balance")
    assert "voucher:1 may not go below zero" in problem.message


def test_pure_verify_flags_a_budget_below_zero() -> None:
    legs = [
        [("fund:1", -100), ("voucher:1", 100)],
        [("voucher:1", -150), ("merchant:1:payable", 150)],
    ]
    entries, prev = [], "0" * 64
    for seq, postings in enumerate(legs, 1):
        body = encode(
            EntryBody(
                seq,
                prev,
                "transfer.test",
                "2026-01-01T00:00:00.000000Z",
                tuple(Posting(a, n) for a, n in postings),
                {},
                None,
            )
        )
        digest = entry_hash(body)
        entries.append(
            StoredEntry(seq, prev, digest, body, [list(p) for p in postings], "transfer.test")
        )
        prev = digest
    for fast in (True, False):
        assert verify_entries(entries, fast=fast).ok
        report = verify_entries(entries, non_negative={"voucher:1"}, fast=fast)
        assert report.problem is not None
        assert (report.problem.seq, report.problem.code) == (2, "negative_balance")


def test_cli_exits_1_on_crafted_bytes(engine: Engine, cli) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        build(session)
        assert cli("ledger", "verify").exit_code == 0
        drop_guards(session)
        tamper_last(session, _sub(b',"v":1}', b', "v":1}')(last_body(session)))
    bad = cli("ledger", "verify")
    assert bad.exit_code == 1
    assert f"entry {LAST}: bad_body" in bad.output


@pytest.mark.parametrize("name", ["second postings key", "float amounts", "white space"])
def test_export_with_crafted_bytes_fails_offline(
    session: Session, tmp_path: Path, name: str
) -> None:
    build(session)
    from ledger import proofs

    proofs.make_checkpoint(session, SIGNER_A, ORIGIN)
    session.commit()
    out = tmp_path / "x"
    proofs.export_ledger(session, out, [VK_A])
    assert verify_export(out, origin=ORIGIN).ok
    lines = (out / "entries.ndjson").read_bytes().splitlines()
    forged = CRAFTED[name][0](lines[-1])
    lines[-1] = forged
    (out / "entries.ndjson").write_bytes(b"".join(line + b"\n" for line in lines))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["head_hash"] = entry_hash(forged)
    (out / "manifest.json").write_text(json.dumps(manifest))
    problem = verify_export(out).problem
    assert problem is not None and (problem.seq, problem.code) == (LAST, "bad_body")


def test_parser_messages_say_what_was_expected_and_found() -> None:
    honest = encode(
        EntryBody(
            3,
            "a" * 64,
            "redemption",
            "2026-01-01T00:00:00.000000Z",
            (Posting("voucher:1", -5), Posting("merchant:1:payable", 5)),
            {"receipt": "R-1"},
            None,
        )
    )
    assert parse_entry(honest).kind == "redemption"
    cases = {
        honest.replace(b'"seq":3', b'"seq":3,"seq":3'): "expected unique keys, found 'seq' twice",
        honest.replace(b"-5]", b"-5.0]"): "expected integers only, found the number -5.0",
        honest.replace(b'"voucher:1"', b'"Voucher:1"'): "expected an account name",
        honest.replace(b"2026-01-01T", b"2026-13-01T"): "expected ts to be a real moment",
        honest.replace(b'"kind":"redemption"', b'"kind":"Redemption"'): "expected a kind",
        honest.replace(b',"v":1}', b',"v":2}'): "expected format version 1, found 2",
        honest.replace(b',"v":1}', b',"v":1} '): "expected the canonical bytes",
    }
    for data, message in cases.items():
        with pytest.raises(EntryFormatError, match="expected") as info:
            parse_entry(data)
        assert message in str(info.value)
