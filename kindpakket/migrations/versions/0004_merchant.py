"""merchant schema changes (empty until that package needs one).

Revision ID: 0004_merchant
Revises: 0003_wallet
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004_merchant"
down_revision = "0003_wallet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
