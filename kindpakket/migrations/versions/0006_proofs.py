"""proofs schema changes (empty until that package needs one).

Revision ID: 0006_proofs
Revises: 0005_admin
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0006_proofs"
down_revision = "0005_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
