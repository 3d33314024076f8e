"""shift audit: audit entries without an item, for starting and ending a shift

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("item_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM audit_entries WHERE item_id IS NULL")
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
