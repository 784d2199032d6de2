"""settlement and reports: daily rollup of ledger postings for reports and settlement.

Revision ID: 0003_report_rollup
Revises: 0002_programme
"""

from alembic import op
import sqlalchemy as sa

revision = "0003_report_rollup"
down_revision = "0002_programme"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_days',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('postings', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_report_days_account_id_ledger_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'kind', 'day', name=op.f('pk_report_days'))
    )
    op.create_table('report_voucher_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_report_voucher_days_account_id_ledger_accounts')),
    sa.PrimaryKeyConstraint('day', 'account_id', name=op.f('pk_report_voucher_days'))
    )
    op.create_table('report_watermark',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_report_watermark_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_watermark'))
    )
    op.execute("INSERT INTO report_watermark (id, seq) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table('report_watermark')
    op.drop_table('report_voucher_days')
    op.drop_table('report_days')
