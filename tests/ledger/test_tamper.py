"""Tampering: the database refuses change, and what an owner forces past it is caught."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from ledger import store
from ledger.encoding import EntryBody, Posting, decode, encode, entry_hash
from ledger.guards import APPEND_ONLY, drop_ddl


def build(session: Session, n: int = 8) -> None:
    """Write a small ledger of ``n`` entries and commit it."""
    store.open_account(session, "bank:1")
    store.open_account(session, "fund:1")
    store.open_account(session, "voucher:1", non_negative=True)
    store.open_account(session, "merchant:1:payable")
    store.append(session, "fund.deposit", [("bank:1", -100_000), ("fund:1", 100_000)])
    store.append(session, "voucher.issue", [("fund:1", -30_000), ("voucher:1", 30_000)])
    for i in range(n - 2):
        store.append(
            session,
            "redemption",
            [("voucher:1", -(100 + i)), ("merchant:1:payable", 100 + i)],
            meta={"receipt": f"R-{i}"},
        )
    session.commit()


def drop_guards(session: Session) -> None:
    """Remove the triggers, as a database owner could."""
    dialect = session.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in drop_ddl(dialect, table):
            session.execute(text(statement))
    session.commit()


def first_problem(session: Session) -> tuple[int | None, str]:
    report = store.verify(session)
    assert report.problem is not None, "tampering went unnoticed"
    return report.problem.seq, report.problem.code


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_postings SET amount = amount * 2 WHERE seq = 3",
        "UPDATE ledger_entries SET kind = 'x' WHERE seq = 3",
        "DELETE FROM ledger_entries WHERE seq = 8",
        "DELETE FROM ledger_postings WHERE seq = 3",
        "UPDATE ledger_tree_nodes SET hash = hash",
        "UPDATE ledger_checkpoints SET note = note",
    ],
)
def test_triggers_refuse_update_and_delete(session: Session, statement: str) -> None:
    build(session)
    session.execute(
        text(
            "INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES (1, 'r', 'n', :t)"
        ),
        {"t": "2026-01-01 00:00:00"},
    )
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
        session.flush()
    session.rollback()
    assert store.head(session)[0] == 8


def test_bulk_wipe_is_refused(session: Session) -> None:
    build(session)
    wipe = (
        "TRUNCATE ledger_postings, ledger_entries"
        if session.get_bind().dialect.name == "postgresql"
        else "DELETE FROM ledger_postings"
    )
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(wipe))
    session.rollback()
    assert store.head(session)[0] == 8
    assert store.verify(session).ok


def test_overwrite_by_insert_is_refused(session: Session) -> None:
    build(session)
    overwrite = (
        "INSERT INTO ledger_postings (seq, pos, account_id, amount) VALUES (3, 0, 3, -1) "
        "ON CONFLICT (seq, pos) DO UPDATE SET amount = EXCLUDED.amount"
        if session.get_bind().dialect.name == "postgresql"
        else "INSERT OR REPLACE INTO ledger_postings (seq, pos, account_id, amount) "
        "VALUES (3, 0, 3, -1)"
    )
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(overwrite))
    session.rollback()
    assert store.verify(session).ok


def test_amount_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    session.execute(text("UPDATE ledger_postings SET amount = -1 WHERE seq = 5 AND pos = 0"))
    session.execute(text("UPDATE ledger_postings SET amount = 1 WHERE seq = 5 AND pos = 1"))
    session.commit()
    assert first_problem(session) == (5, "postings_mismatch")


def test_account_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    fund_id = session.execute(text("SELECT id FROM ledger_accounts WHERE name='fund:1'")).scalar()
    session.execute(
        text("UPDATE ledger_postings SET account_id = :a WHERE seq = 4 AND pos = 1"),
        {"a": fund_id},
    )
    session.commit()
    assert first_problem(session) == (4, "postings_mismatch")


def test_deleted_entry_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    session.execute(text("DELETE FROM ledger_postings WHERE seq = 6"))
    session.execute(text("DELETE FROM ledger_entries WHERE seq = 6"))
    session.commit()
    assert first_problem(session) == (6, "missing")


def read_entry(session: Session, seq: int) -> dict[str, object]:
    """Return the columns and posting rows of entry ``seq``."""
    row = session.execute(
        text("SELECT kind, created_at, prev_hash, hash, body FROM ledger_entries WHERE seq = :s"),
        {"s": seq},
    ).one()
    legs = session.execute(
        text("SELECT pos, account_id, amount FROM ledger_postings WHERE seq = :s ORDER BY pos"),
        {"s": seq},
    ).all()
    return {"row": dict(row._mapping), "legs": [tuple(leg) for leg in legs]}


def rewrite(session: Session, contents: dict[int, dict[str, object]]) -> None:
    """Put ``contents`` at the given sequence numbers, as an owner with triggers off could."""
    for seq in contents:  # free the unique hashes first
        session.execute(
            text("UPDATE ledger_entries SET hash = :t WHERE seq = :s"), {"t": f"tmp{seq}", "s": seq}
        )
    for seq, content in contents.items():
        row = content["row"]
        exists = session.execute(
            text("SELECT 1 FROM ledger_entries WHERE seq = :s"), {"s": seq}
        ).scalar()
        if exists:
            session.execute(text("DELETE FROM ledger_postings WHERE seq = :s"), {"s": seq})
            session.execute(
                text(
                    "UPDATE ledger_entries SET kind = :kind, created_at = :created_at, "
                    "prev_hash = :prev_hash, hash = :hash, body = :body WHERE seq = :seq"
                ),
                {**row, "seq": seq},  # type: ignore[dict-item]
            )
        else:
            session.execute(
                text(
                    "INSERT INTO ledger_entries (seq, kind, created_at, prev_hash, hash, body) "
                    "VALUES (:seq, :kind, :created_at, :prev_hash, :hash, :body)"
                ),
                {**row, "seq": seq},  # type: ignore[dict-item]
            )
        for pos, account_id, amount in content["legs"]:  # type: ignore[attr-defined]
            session.execute(
                text(
                    "INSERT INTO ledger_postings (seq, pos, account_id, amount) "
                    "VALUES (:s, :p, :a, :m)"
                ),
                {"s": seq, "p": pos, "a": account_id, "m": amount},
            )
    session.commit()


def test_swapped_entries_are_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    four, five = read_entry(session, 4), read_entry(session, 5)
    rewrite(session, {4: five, 5: four})
    assert first_problem(session) == (4, "broken_link")


def test_inserted_entry_with_recomputed_hash_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    shifted = {seq + 1: read_entry(session, seq) for seq in range(4, 9)}
    prev = session.execute(text("SELECT hash FROM ledger_entries WHERE seq = 3")).scalar_one()
    third = read_entry(session, 3)["row"]
    body = encode(
        EntryBody(
            4,
            prev,
            "redemption",
            decode(bytes(third["body"])).timestamp,  # type: ignore[index]
            (Posting("voucher:1", -50), Posting("merchant:1:payable", 50)),
            {},
            None,
        )
    )
    ids = dict(session.execute(text("SELECT name, id FROM ledger_accounts")).all())
    forged = {
        "row": {
            "kind": "redemption",
            "created_at": third["created_at"],  # type: ignore[index]
            "prev_hash": prev,
            "hash": entry_hash(body),
            "body": body,
        },
        "legs": [(0, ids["voucher:1"], -50), (1, ids["merchant:1:payable"], 50)],
    }
    rewrite(session, {**shifted, 4: forged})
    # the inserted entry is self-consistent; the one after it no longer links to its parent
    assert first_problem(session) == (5, "broken_link")


def test_metadata_changed_is_caught(session: Session) -> None:
    build(session)
    drop_guards(session)
    row = session.execute(text("SELECT body FROM ledger_entries WHERE seq = 7")).scalar_one()
    body = decode(bytes(row))
    forged = encode(
        EntryBody(
            body.seq,
            body.prev_hash,
            body.kind,
            body.timestamp,
            body.postings,
            {"receipt": "R-FORGED"},
            body.idempotency_key,
        )
    )
    session.execute(text("UPDATE ledger_entries SET body = :b WHERE seq = 7"), {"b": forged})
    session.commit()
    assert first_problem(session) == (7, "hash_mismatch")


def test_metadata_changed_with_rehash_is_caught_at_the_next_entry(session: Session) -> None:
    build(session)
    drop_guards(session)
    row = session.execute(text("SELECT body FROM ledger_entries WHERE seq = 7")).scalar_one()
    body = decode(bytes(row))
    forged = encode(
        EntryBody(
            body.seq,
            body.prev_hash,
            body.kind,
            body.timestamp,
            body.postings,
            {"receipt": "R-FORGED"},
            body.idempotency_key,
        )
    )
    session.execute(
        text("UPDATE ledger_entries SET body = :b, hash = :h WHERE seq = 7"),
        {"b": forged, "h": entry_hash(forged)},
    )
    session.commit()
    assert first_problem(session) == (8, "broken_link")


def test_balance_row_changed_is_caught(session: Session) -> None:
    build(session)
    session.execute(
        text(
            "UPDATE ledger_balances SET balance = balance + 500 WHERE account_id = "
            "(SELECT id FROM ledger_accounts WHERE name = 'merchant:1:payable')"
        )
    )
    session.commit()
    seq, code = first_problem(session)
    assert (seq, code) == (None, "balance_mismatch")
    assert "merchant:1:payable" in str(store.verify(session).problem)


def test_cli_verify_names_the_first_wrong_entry(engine: Engine, cli) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        build(session)
        ok = cli("ledger", "verify")
        assert ok.exit_code == 0, ok.output
        assert "OK: 8 entries" in ok.output
        drop_guards(session)
        session.execute(text("UPDATE ledger_postings SET amount = -7 WHERE seq = 5 AND pos = 0"))
        session.commit()
    bad = cli("ledger", "verify")
    assert bad.exit_code == 1
    assert "entry 5: postings_mismatch" in bad.output
