"""bank files: pain.002 status reports and camt.053/054 statements, booked and returned payouts.

Revision ID: 0011_bank_files
Revises: 0008_ops
"""

from alembic import op
import sqlalchemy as sa

revision = "0011_bank_files"
down_revision = "0008_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('schema', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.String(length=35), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('imported_by', sa.String(length=80), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_bank_files_municipality_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_files')),
    sa.UniqueConstraint('municipality_id', 'sha256', name=op.f('uq_bank_files_municipality_id_sha256'))
    )
    with op.batch_alter_table('bank_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_files_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('bank_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=40), nullable=True),
    sa.Column('reference', sa.String(length=35), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=4), nullable=True),
    sa.Column('reason', sa.String(length=4), nullable=True),
    sa.Column('booked_on', sa.Date(), nullable=True),
    sa.Column('text', sa.String(length=140), nullable=True),
    sa.Column('resolved_by', sa.String(length=80), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['settlement_batches.id'], name=op.f('fk_bank_lines_batch_id_settlement_batches')),
    sa.ForeignKeyConstraint(['file_id'], ['bank_files.id'], name=op.f('fk_bank_lines_file_id_bank_files')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_bank_lines_fund_id_funds')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_bank_lines_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_bank_lines_payout_id_payouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_lines'))
    )
    with op.batch_alter_table('bank_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_lines_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_lines_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_lines_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_lines_payout_id'), ['payout_id'], unique=False)

    with op.batch_alter_table('settlement_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('confirm_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=35), nullable=True))
        batch_op.add_column(sa.Column('returned_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('returned_on', sa.Date(), nullable=True))

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('iban_check_reason', sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('iban_check_reason')

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        for name in ('returned_on', 'return_reason', 'returned_seq', 'bank_reference', 'booked_on'):
            batch_op.drop_column(name)

    with op.batch_alter_table('settlement_batches', schema=None) as batch_op:
        for name in ('confirm_reason', 'bank_reference', 'booked_on'):
            batch_op.drop_column(name)

    with op.batch_alter_table('bank_lines', schema=None) as batch_op:
        for name in ('payout_id', 'municipality_id', 'fund_id', 'file_id'):
            batch_op.drop_index(batch_op.f(f'ix_bank_lines_{name}'))
    op.drop_table('bank_lines')
    with op.batch_alter_table('bank_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_files_municipality_id'))
    op.drop_table('bank_files')
