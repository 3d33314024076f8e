"""verdicts: the triage's category, action and playbook id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Verdicts stored before this migration have none; `rufwacht explain` and `check-reply` say so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verdicts") as batch:
        batch.add_column(sa.Column("category", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("action", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("guideline", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verdicts") as batch:
        batch.drop_column("guideline")
        batch.drop_column("action")
        batch.drop_column("category")
