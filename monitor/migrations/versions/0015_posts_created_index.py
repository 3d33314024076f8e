"""posts by publication time: the digest's days, the alerts' 24 hours and the queue's day filter

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

All three select posts by `created_at` across authors; the author index cannot serve that.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_created", "posts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_posts_created", table_name="posts")
