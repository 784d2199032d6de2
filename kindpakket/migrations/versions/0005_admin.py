"""admin schema changes (empty until that package needs one).

Revision ID: 0005_admin
Revises: 0004_merchant
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0005_admin"
down_revision = "0004_merchant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
