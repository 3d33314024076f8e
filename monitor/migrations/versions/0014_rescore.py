"""rescore: queue items a newer model would not flag are marked for a second look

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

`queue_items.recheck` says why a person should look at an item again ("unflagged": after
`rufwacht rescore`, the champion would no longer queue it); NULL for every existing item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.add_column(sa.Column("recheck", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.drop_column("recheck")
