"""ops: the service hold placed by a restore that lost entries or could not prove it lost none.

Revision ID: 0008_ops
Revises: 0007_money_rules
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_ops"
down_revision = "0007_money_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_holds'))
    )


def downgrade() -> None:
    op.drop_table('service_holds')
