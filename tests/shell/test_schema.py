"""The schema comes from migrations only, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from kindpakket.migrate import HERE, alembic_config, current, upgrade
from kindpakket.models import metadata
from ledger import store


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_the_single_head(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from kindpakket.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert len(script.get_heads()) == 1, "migrations have forked: chain them"
    assert current(engine) == set(script.get_heads())
    assert HERE.is_dir()


def test_ledger_speed_migration_keeps_an_existing_ledger_and_its_guards(engine: Engine) -> None:
    """0019 rebuilds the SQLite ledger tables (and swaps PostgreSQL's guards) under live data."""

    def move(to: str) -> None:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, to)

    move("0018_shop_hours")
    try:
        with Session(engine) as s:
            store.open_accounts(s, ["bank:1", "fund:1"])
            store.open_accounts(s, [f"voucher:{i}" for i in range(5)], non_negative=True)
            # One batch: a single append on PostgreSQL needs kp_ledger_append (0020).
            deposit = store.NewEntry("fund.deposit", [("bank:1", -10_000), ("fund:1", 10_000)])
            legs = [[("fund:1", -(i + 1)), (f"voucher:{i % 5}", i + 1)] for i in range(40)]
            store.append_many(s, [deposit, *(store.NewEntry("voucher.issue", p) for p in legs)])
            s.commit()
            before = store.head(s)
        upgrade(engine)
        with Session(engine) as s:
            assert store.head(s) == before and store.verify(s).ok
            store.append(s, "redemption", [("voucher:1", -2), ("fund:1", 2)])
            s.commit()
            assert store.verify(s).ok
            assert store.balance(s, "voucher:1") == sum(i + 1 for i in range(1, 40, 5)) - 2
            counts = [
                s.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("ledger_entries", "ledger_postings")
            ]
            assert counts == [42, 84]
            for statement in (
                "UPDATE ledger_postings SET amount = 1 WHERE seq = 3 AND pos = 1",
                "DELETE FROM ledger_entries WHERE seq = 42",
                "DELETE FROM ledger_tree_nodes",
            ):
                with pytest.raises(DatabaseError, match="append-only"):
                    s.execute(text(statement))
                s.rollback()
        move("0018_shop_hours")  # and back: the old layout keeps every row too
        with Session(engine) as s:
            assert store.verify(s).ok and store.head(s)[0] == 42
    finally:
        upgrade(engine)
