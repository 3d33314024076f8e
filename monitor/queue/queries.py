"""Reading the queue: filtered, ordered and paged in SQL, most urgent first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from monitor.queue.states import QueueStatus
from monitor.storage.models import PostRecord, QueueItem


def _filtered(
    query: Select[Any], status: QueueStatus | str | None, brand: str | None
) -> Select[Any]:
    if status:
        query = query.where(QueueItem.status == QueueStatus(status))
    if brand:
        query = query.where(QueueItem.brand == brand)
    return query


def list_items(
    session: Session,
    status: QueueStatus | str | None = None,
    limit: int | None = None,
    offset: int = 0,
    brand: str | None = None,
) -> list[QueueItem]:
    """Queue items with their posts, scores and verdicts: highest priority, then earliest due
    first."""
    post = joinedload(QueueItem.post)
    query = (
        select(QueueItem)
        .options(post.selectinload(PostRecord.scores), post.selectinload(PostRecord.verdict))
        .order_by(QueueItem.priority.desc(), QueueItem.due_at, QueueItem.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(_filtered(query, status, brand)).unique())


def count_items(
    session: Session, status: QueueStatus | str | None = None, brand: str | None = None
) -> int:
    """How many queue items match the filters (for "N more not shown" and page counts)."""
    query = select(func.count()).select_from(QueueItem)
    return session.scalar(_filtered(query, status, brand)) or 0
