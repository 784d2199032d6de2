"""pass pin: the till's HMAC PIN verifier beside the argon2id hash (households, pass_pins).

Revision ID: 0015_pass_pin
Revises: 0014_fund_rules
"""

from alembic import op
import sqlalchemy as sa


revision = '0015_pass_pin'
down_revision = '0014_fund_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('households') as batch:
        batch.add_column(sa.Column('pin_mac', sa.String(length=80), nullable=True))
    with op.batch_alter_table('pass_pins') as batch:
        batch.add_column(sa.Column('pin_mac', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pass_pins') as batch:
        batch.drop_column('pin_mac')
    with op.batch_alter_table('households') as batch:
        batch.drop_column('pin_mac')
