"""witnesses: cosignatures of checkpoints collected from configured witnesses.

Revision ID: 0004_witness_cosignatures
Revises: 0003_report_rollup
"""

from alembic import op
import sqlalchemy as sa

revision = "0004_witness_cosignatures"
down_revision = "0003_report_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_cosignatures',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('witness', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=8), nullable=False),
    sa.Column('signed_at', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['size'], ['ledger_checkpoints.size'], name=op.f('fk_ledger_cosignatures_size_ledger_checkpoints')),
    sa.PrimaryKeyConstraint('size', 'witness', 'key_id', name=op.f('pk_ledger_cosignatures'))
    )


def downgrade() -> None:
    op.drop_table('ledger_cosignatures')
