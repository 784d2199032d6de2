"""settlement schema changes (empty until that work needs one).

Revision ID: 0007_settlement
Revises: 0006_proofs
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0007_settlement"
down_revision = "0006_proofs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
