"""passes: printed Kindpakket passes for families without a smartphone, their PINs and requests.

Revision ID: 0010_passes
Revises: 0011_bank_files
"""

from alembic import op
import sqlalchemy as sa

revision = "0010_passes"
down_revision = "0011_bank_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fund_pass_settings',
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('per', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_fund_pass_settings_fund_id_funds')),
    sa.PrimaryKeyConstraint('fund_id', name=op.f('pk_fund_pass_settings'))
    )
    op.create_table('passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('blocked_reason', sa.String(length=16), nullable=True),
    sa.Column('pin_failures', sa.Integer(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_passes_child_id_children')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_passes_fund_id_funds')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_passes_household_id_households')),
    sa.ForeignKeyConstraint(['replaces_id'], ['passes.id'], name=op.f('fk_passes_replaces_id_passes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passes')),
    sa.UniqueConstraint('number', name=op.f('uq_passes_number'))
    )
    op.create_index(op.f('ix_passes_child_id'), 'passes', ['child_id'], unique=False)
    op.create_index(op.f('ix_passes_fund_id'), 'passes', ['fund_id'], unique=False)
    op.create_index(op.f('ix_passes_household_id'), 'passes', ['household_id'], unique=False)
    op.create_table('pass_pins',
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_pass_pins_household_id_households')),
    sa.PrimaryKeyConstraint('household_id', name=op.f('pk_pass_pins'))
    )
    op.create_table('pass_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_pass_requests_fund_id_funds')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_pass_requests_household_id_households')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_requests'))
    )
    op.create_index(op.f('ix_pass_requests_fund_id'), 'pass_requests', ['fund_id'], unique=False)
    op.create_index(op.f('ix_pass_requests_household_id'), 'pass_requests', ['household_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pass_requests_household_id'), table_name='pass_requests')
    op.drop_index(op.f('ix_pass_requests_fund_id'), table_name='pass_requests')
    op.drop_table('pass_requests')
    op.drop_table('pass_pins')
    op.drop_index(op.f('ix_passes_household_id'), table_name='passes')
    op.drop_index(op.f('ix_passes_fund_id'), table_name='passes')
    op.drop_index(op.f('ix_passes_child_id'), table_name='passes')
    op.drop_table('passes')
    op.drop_table('fund_pass_settings')
