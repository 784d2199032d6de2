"""fund rules: the oldest age a child may have to be imported (default 17).

Revision ID: 0014_fund_rules
Revises: 0013_outbox
"""

from alembic import op
import sqlalchemy as sa


revision = '0014_fund_rules'
down_revision = '0013_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_age', sa.Integer(), server_default='17', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_column('max_age')
