"""household language: the family's language named in the import (letters, wallet default).

Revision ID: 0016_household_language
Revises: 0015_pass_pin
"""

from alembic import op
import sqlalchemy as sa


revision = '0016_household_language'
down_revision = '0015_pass_pin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('households') as batch:
        batch.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('households') as batch:
        batch.drop_column('language')
