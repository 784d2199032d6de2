"""redemptions: one index less (shop_id leads UNIQUE(shop_id, idempotency_key) already)

Revision ID: 0021_redemptions_one_index_less
Revises: 0020_ledger_append_function

``ix_redemptions_shop_id`` indexed what the unique constraint on ``(shop_id,
idempotency_key)`` indexes already: its first column serves every look-up by shop on both
engines. Each payment wrote both; now it writes one page less (and PostgreSQL one index
entry less) while the shop's lists read the same rows by the constraint's index.
"""

from alembic import op


revision = "0021_redemptions_one_index_less"
down_revision = "0020_ledger_append_function"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_redemptions_shop_id", table_name="redemptions")


def downgrade() -> None:
    op.create_index("ix_redemptions_shop_id", "redemptions", ["shop_id"])
