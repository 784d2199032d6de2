"""ledger speed: leaner append-only tables on SQLite, statement guards on PostgreSQL

Revision ID: 0019_ledger_speed
Revises: 0018_shop_hours

SQLite: ``ledger_entries.seq`` becomes ``INTEGER`` (the rowid, so no second index on seq),
``ledger_postings`` and ``ledger_tree_nodes`` become ``WITHOUT ROWID`` (rows stored in the
primary key's b-tree). SQLite changes neither in place, so each table is rebuilt: a new
table under a scratch name takes every row, the old table goes, the new one takes its name,
then its indexes and append-only triggers are created again. The new postings table refers
to the new entries table from the start, and SQLite rewrites that reference on the rename,
so no foreign key ever points at a table being dropped.

PostgreSQL: the row trigger refusing UPDATE/DELETE and the statement trigger refusing
TRUNCATE become one statement trigger on every guarded table (SQLite has no statement
triggers; its guards stay as they are).
"""

from alembic import op
import sqlalchemy as sa

from ledger.guards import create_ddl, drop_ddl


revision = "0019_ledger_speed"
down_revision = "0018_shop_hours"
branch_labels = None
depends_on = None

_ENTRY_COLUMNS = "seq, kind, created_at, prev_hash, hash, body, idempotency_key"
_POSTING_COLUMNS = "seq, pos, account_id, amount"
_NODE_COLUMNS = "level, idx, hash"
# The guards of PostgreSQL before this revision, for the way down.
_PG_ROW_GUARDS = (
    "CREATE TRIGGER {t}_no_change BEFORE UPDATE OR DELETE ON {t} "
    "FOR EACH ROW EXECUTE FUNCTION kp_append_only()",
    "CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    "FOR EACH STATEMENT EXECUTE FUNCTION kp_append_only()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _pg_guarded_tables():
            for statement in drop_ddl("postgresql", table) + create_ddl("postgresql", table, ()):
                op.execute(statement)
        return
    _rebuild_sqlite(lean=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _pg_guarded_tables():
            for statement in drop_ddl("postgresql", table):
                op.execute(statement)
            for statement in _PG_ROW_GUARDS:
                op.execute(statement.format(t=table))
        return
    _rebuild_sqlite(lean=False)


def _pg_guarded_tables() -> list[str]:
    """Return the tables guarded by ``kp_append_only`` (those of 0001, 0006 and any later)."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT c.relname FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE p.proname = 'kp_append_only' AND NOT t.tgisinternal ORDER BY c.relname"
        )
    )
    return [str(r[0]) for r in rows]


def _rebuild_sqlite(*, lean: bool) -> None:
    """Rebuild entries, postings and tree nodes in the lean (or, going down, the old) form."""
    seq_type = sa.Integer() if lean else sa.BigInteger()
    rowid = {"sqlite_with_rowid": not lean}
    op.create_table(
        "_kp_new_entries",
        sa.Column("seq", seq_type, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    op.create_table(
        "_kp_new_postings",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pos", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_postings_nonzero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["seq"], ["_kp_new_entries.seq"], name=op.f("fk_ledger_postings_seq_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("seq", "pos", name=op.f("pk_ledger_postings")),
        **rowid,
    )
    op.create_table(
        "_kp_new_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_tree_nodes")),
        **rowid,
    )
    copies = (
        ("ledger_entries", "_kp_new_entries", _ENTRY_COLUMNS, "seq"),
        ("ledger_postings", "_kp_new_postings", _POSTING_COLUMNS, "seq, pos"),
        ("ledger_tree_nodes", "_kp_new_tree_nodes", _NODE_COLUMNS, "level, idx"),
    )
    for old, new, columns, order in copies:
        op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {old} ORDER BY {order}")
    # Children first: once the old postings are gone nothing refers to the old entries.
    for old in ("ledger_postings", "ledger_entries", "ledger_tree_nodes"):
        op.drop_table(old)  # its indexes and triggers go with it
    for old, new, _, _ in copies:
        op.rename_table(new, old)  # the postings' reference to _kp_new_entries follows
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entries_kind"), ["kind"], unique=False)
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_postings_account_seq", ["account_id", "seq"], unique=False)
    guarded = {
        "ledger_entries": ("seq",),
        "ledger_postings": ("seq", "pos"),
        "ledger_tree_nodes": ("level", "idx"),
    }
    for table, keys in guarded.items():
        for statement in create_ddl("sqlite", table, keys):
            op.execute(statement)
    problems = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
    if problems:
        raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")
