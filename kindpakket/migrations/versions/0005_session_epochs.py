"""staff logins: session epochs, per-account lockout, single-use TOTP steps.

Revision ID: 0005_session_epochs
Revises: 0004_witness_cosignatures
"""

from alembic import op
import sqlalchemy as sa

revision = "0005_session_epochs"
down_revision = "0004_witness_cosignatures"
branch_labels = None
depends_on = None


def _staff_columns() -> list[sa.Column]:
    return [
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        for column in _staff_columns():
            batch.add_column(column)
    with op.batch_alter_table("shop_users") as batch:
        for column in _staff_columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("shop_users") as batch:
        for name in ("locked_until", "failed_logins", "session_epoch"):
            batch.drop_column(name)
    with op.batch_alter_table("admin_users") as batch:
        for name in ("locked_until", "failed_logins", "session_epoch", "totp_last_step"):
            batch.drop_column(name)
