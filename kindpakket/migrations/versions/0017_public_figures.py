"""public figures: a fund's public spending figures kept per signed checkpoint (a cache),
and where their fold stopped.

Revision ID: 0017_public_figures
Revises: 0016_household_language
"""

from alembic import op
import sqlalchemy as sa

revision = '0017_public_figures'
down_revision = '0016_household_language'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_figures',
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_public_figures_fund_id_funds')),
    sa.PrimaryKeyConstraint('fund_id', 'size', name=op.f('pk_public_figures'))
    )
    op.create_table('public_tally',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('frontier', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_public_tally'))
    )


def downgrade() -> None:
    op.drop_table('public_tally')
    op.drop_table('public_figures')
