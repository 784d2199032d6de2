"""audit scope: an audit event belongs to every municipality whose fund it touches

Revision ID: 0006_audit_scope
Revises: 0005_session_epochs

Replaces the single ``audit_events.tenant_id`` with the append-only table
``audit_event_scopes`` (event, municipality); existing events keep their municipality.
"""

from alembic import op
import sqlalchemy as sa

from ledger.guards import create_ddl, drop_ddl

revision = "0006_audit_scope"
down_revision = "0005_session_epochs"
branch_labels = None
depends_on = None

SCOPES = "audit_event_scopes"


def upgrade() -> None:
    op.create_table(
        SCOPES,
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_audit_event_scopes_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("event_id", "municipality_id", name=op.f("pk_audit_event_scopes")),
    )
    op.create_index(
        "ix_audit_event_scopes_municipality", SCOPES, ["municipality_id", "event_id"], unique=False
    )
    op.execute(
        f"INSERT INTO {SCOPES} (event_id, municipality_id) "
        "SELECT id, tenant_id FROM audit_events WHERE tenant_id IS NOT NULL"
    )
    dialect = op.get_bind().dialect.name
    for statement in create_ddl(dialect, SCOPES, ("event_id", "municipality_id")):
        op.execute(statement)
    op.drop_index("ix_audit_events_tenant_at", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_tenant_id"), table_name="audit_events")
    # Plain ALTER (SQLite >= 3.35 drops a column in place): a batch copy of the table would
    # lose its append-only triggers.
    op.execute("ALTER TABLE audit_events DROP COLUMN tenant_id")


def downgrade() -> None:
    op.execute("ALTER TABLE audit_events ADD COLUMN tenant_id INTEGER")
    dialect = op.get_bind().dialect.name
    guards = drop_ddl(dialect, "audit_events")
    for statement in guards:
        op.execute(statement)
    op.execute(
        f"UPDATE audit_events SET tenant_id = (SELECT min(s.municipality_id) FROM {SCOPES} s "
        "WHERE s.event_id = audit_events.id)"
    )
    for statement in create_ddl(dialect, "audit_events", ("id",)):
        op.execute(statement)
    op.create_index(op.f("ix_audit_events_tenant_id"), "audit_events", ["tenant_id"], unique=False)
    op.create_index("ix_audit_events_tenant_at", "audit_events", ["tenant_id", "at"], unique=False)
    for statement in drop_ddl(dialect, SCOPES):
        op.execute(statement)
    op.drop_index("ix_audit_event_scopes_municipality", table_name=SCOPES)
    op.drop_table(SCOPES)
