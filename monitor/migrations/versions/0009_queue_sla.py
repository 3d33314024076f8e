"""queue items: SLA clock start, near and breach times, platform, category and action; indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Existing items keep their deadline; their clock start is their post's (or its fetch, if
earlier), they turn "near" in the last quarter of their window, and their category and action
are copied from the stored verdict (None for posts judged before the triage), the platform from
the post.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FILTERED = ("status", "brand", "platform", "category", "action", "assignee_id", "sla_near_at")
NEAR_SHARE = 0.25
"""The default `[sla] near`."""

ITEMS = sa.table(
    "queue_items",
    sa.column("id", sa.Integer()),
    sa.column("post_id", sa.Integer()),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("waiting_since", sa.DateTime(timezone=True)),
    sa.column("sla_near_at", sa.DateTime(timezone=True)),
    sa.column("platform", sa.String(32)),
    sa.column("category", sa.String(32)),
    sa.column("action", sa.String(32)),
)
POSTS = sa.table(
    "posts",
    sa.column("id", sa.Integer()),
    sa.column("platform", sa.String(32)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("fetched_at", sa.DateTime(timezone=True)),
)
VERDICTS = sa.table(
    "verdicts",
    sa.column("post_id", sa.Integer()),
    sa.column("category", sa.JSON()),
    sa.column("action", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("queue_items") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("action", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_near_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table("queue_items") as batch:
        batch.alter_column("platform", existing_type=sa.String(length=32), nullable=False)
        for column in ("waiting_since", "sla_near_at"):
            batch.alter_column(column, existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index("ix_queue_status_priority")
    op.create_index("ix_queue_urgent", "queue_items", ["priority", "due_at", "id", *FILTERED])
    op.create_index(
        "ix_queue_waiting",
        "queue_items",
        ["waiting_since", "id", "priority", "due_at", *FILTERED],
    )


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            ITEMS.c.id,
            ITEMS.c.due_at,
            POSTS.c.platform,
            POSTS.c.created_at,
            POSTS.c.fetched_at,
            VERDICTS.c.category,
            VERDICTS.c.action,
        )
        .join(POSTS, POSTS.c.id == ITEMS.c.post_id)
        .outerjoin(VERDICTS, VERDICTS.c.post_id == ITEMS.c.post_id)
    ).all()
    for row in rows:
        started = min(row.created_at, row.fetched_at)
        connection.execute(
            sa.update(ITEMS)
            .where(ITEMS.c.id == row.id)
            .values(
                platform=row.platform,
                waiting_since=started,
                sla_near_at=row.due_at - (row.due_at - started) * NEAR_SHARE,
                category=(row.category or {}).get("label"),
                action=(row.action or {}).get("label"),
            )
        )


def downgrade() -> None:
    op.drop_index("ix_queue_waiting", table_name="queue_items")
    op.drop_index("ix_queue_urgent", table_name="queue_items")
    with op.batch_alter_table("queue_items") as batch:
        batch.create_index("ix_queue_status_priority", ["status", "priority"])
        for column in ("sla_breached_at", "sla_near_at", "waiting_since", "action", "category"):
            batch.drop_column(column)
        batch.drop_column("platform")
