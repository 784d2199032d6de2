"""money rules: an exported settlement batch is cancelled only with the bank's rejection.

Revision ID: 0007_money_rules
Revises: 0006_audit_scope
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_money_rules"
down_revision = "0006_audit_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_batches") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settlement_batches") as batch:
        batch.drop_column("cancel_reason")
