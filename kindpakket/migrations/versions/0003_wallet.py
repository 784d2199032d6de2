"""wallet schema changes (empty until that package needs one).

Revision ID: 0003_wallet
Revises: 0002_programme
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_wallet"
down_revision = "0002_programme"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
