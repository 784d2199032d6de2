"""shop hours: a shop's weekly opening periods (shop_hours) and a note beside them (shops).

Revision ID: 0018_shop_hours
Revises: 0017_public_figures
"""

from alembic import op
import sqlalchemy as sa


revision = '0018_shop_hours'
down_revision = '0017_public_figures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shop_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens_minute', sa.SmallInteger(), nullable=False),
    sa.Column('closes_minute', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_shop_hours_weekday')),
    sa.CheckConstraint('opens_minute >= 0 AND closes_minute <= 1440', name=op.f('ck_shop_hours_within_day')),
    sa.CheckConstraint('opens_minute < closes_minute', name=op.f('ck_shop_hours_closes_after_opening')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_shop_hours_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_hours'))
    )
    op.create_index(op.f('ix_shop_hours_shop_id'), 'shop_hours', ['shop_id'], unique=False)
    with op.batch_alter_table('shops') as batch:
        batch.add_column(sa.Column('hours_note', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.drop_column('hours_note')
    op.drop_index(op.f('ix_shop_hours_shop_id'), table_name='shop_hours')
    op.drop_table('shop_hours')
