"""Database triggers that refuse changes to append-only tables (a guard rail, not the proof).

SQLite: BEFORE UPDATE / BEFORE DELETE triggers, plus a BEFORE INSERT trigger that refuses a
row whose key already exists, so ``INSERT OR REPLACE`` cannot overwrite (REPLACE deletes
the old row without firing DELETE triggers unless recursive triggers are on). SQLite has
row triggers only (``FOR EACH STATEMENT`` is a syntax error), so the INSERT guard runs once
per appended row; it costs about a third of the database's time of a batch append, and is
kept: connections other than ours (an operator's ``sqlite3`` shell) do not turn recursive
triggers on.
PostgreSQL: one statement trigger refusing UPDATE, DELETE and TRUNCATE. It fires once per
statement, before any row is touched, even when no row matches; INSERT fires nothing, and
``INSERT ... ON CONFLICT DO UPDATE`` is refused as an UPDATE.
"""

from __future__ import annotations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION kp_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'kindpakket: % on % is not allowed: the table is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def create_ddl(dialect: str, table: str, key_columns: tuple[str, ...]) -> list[str]:
    """Return the statements that make ``table`` append-only on ``dialect``.

    Args:
        dialect: ``sqlite`` or ``postgresql``.
        table: table name.
        key_columns: the primary key columns (for the SQLite INSERT OR REPLACE guard).

    Returns:
        DDL statements to execute in order.
    """
    if dialect == "postgresql":
        return [
            PG_FUNCTION,
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kp_append_only()",
        ]
    match = " AND ".join(f"{c} = NEW.{c}" for c in key_columns)
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'kindpakket: {table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'kindpakket: {table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608 - fixed names
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {match}) "
        f"BEGIN SELECT RAISE(ABORT, 'kindpakket: {table} is append-only'); END",
    ]


def drop_ddl(dialect: str, table: str) -> list[str]:
    """Return the statements that remove the guards from ``table`` (tests, as an owner could).

    Args:
        dialect: ``sqlite`` or ``postgresql``.
        table: table name.

    Returns:
        DDL statements.
    """
    if dialect == "postgresql":  # _no_truncate: the separate TRUNCATE guard before 0019
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    return [f"DROP TRIGGER IF EXISTS {table}_{s}" for s in ("no_update", "no_delete", "no_replace")]


# table -> primary key columns, for every append-only table of the installation.
APPEND_ONLY = {
    "ledger_entries": ("seq",),
    "ledger_postings": ("seq", "pos"),
    "ledger_tree_nodes": ("level", "idx"),
    "ledger_checkpoints": ("size",),
    "audit_events": ("id",),
}
