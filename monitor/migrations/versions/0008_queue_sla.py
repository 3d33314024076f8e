"""queue items: SLA clock start, near and breach times, category and action; queue indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Existing items keep their deadline; their clock start is their post's (or its fetch, if
earlier), they turn "near" in the last quarter of their window, and their category and action
are copied from the stored verdict (None for posts judged before the triage).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEAR_SHARE = 0.25
"""The default `[sla] near`."""

ITEMS = sa.table(
    "queue_items",
    sa.column("id", sa.Integer()),
    sa.column("post_id", sa.Integer()),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("waiting_since", sa.DateTime(timezone=True)),
    sa.column("sla_near_at", sa.DateTime(timezone=True)),
    sa.column("category", sa.String(32)),
    sa.column("action", sa.String(32)),
)
POSTS = sa.table(
    "posts",
    sa.column("id", sa.Integer()),
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
        batch.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("action", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_near_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table("queue_items") as batch:
        for column in ("waiting_since", "sla_near_at"):
            batch.alter_column(column, existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index("ix_queue_status_priority")
    op.create_index("ix_queue_urgent", "queue_items", ["priority", "due_at", "id"])
    op.create_index(
        "ix_queue_status_urgent",
        "queue_items",
        ["status", "priority", "due_at", "id"],
    )
    op.create_index("ix_queue_waiting", "queue_items", ["waiting_since", "id"])
    op.create_index("ix_queue_status_waiting", "queue_items", ["status", "waiting_since", "id"])
    op.create_index("ix_queue_due", "queue_items", ["due_at"])
    op.create_index("ix_queue_brand", "queue_items", ["brand"])
    op.create_index("ix_queue_category", "queue_items", ["category"])


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            ITEMS.c.id,
            ITEMS.c.due_at,
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
                waiting_since=started,
                sla_near_at=row.due_at - (row.due_at - started) * NEAR_SHARE,
                category=(row.category or {}).get("label"),
                action=(row.action or {}).get("label"),
            )
        )


def downgrade() -> None:
    for name in (
        "ix_queue_category",
        "ix_queue_brand",
        "ix_queue_due",
        "ix_queue_status_waiting",
        "ix_queue_waiting",
        "ix_queue_status_urgent",
        "ix_queue_urgent",
    ):
        op.drop_index(name, table_name="queue_items")
    with op.batch_alter_table("queue_items") as batch:
        batch.create_index("ix_queue_status_priority", ["status", "priority"])
        batch.drop_column("sla_breached_at")
        batch.drop_column("sla_near_at")
        batch.drop_column("waiting_since")
        batch.drop_column("action")
        batch.drop_column("category")
