"""The escalation queue: flagged posts waiting for the team, most urgent first."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from monitor.flagging import Verdict
from monitor.storage.models import PostRecord, QueueItem


class QueueStatus(StrEnum):
    NEW = "new"
    DELETED = "deleted"
    """The author deleted the post upstream; nothing left to answer."""


def enqueue(session: Session, post: PostRecord, verdict: Verdict, sla_hours: float) -> QueueItem:
    """Queue a flagged post; its SLA clock starts when the customer posted.

    A post dated after it was fetched (a wrong clock upstream) starts its clock when it was
    fetched, so its deadline still runs out."""
    started = min(post.created_at, post.fetched_at)
    item = QueueItem(
        post=post,
        brand=verdict.brand or "",
        status=QueueStatus.NEW,
        priority=verdict.priority,
        reasons=verdict.reasons,
        due_at=started + timedelta(hours=sla_hours),
    )
    session.add(item)
    return item


def list_items(
    session: Session, status: str | None = None, limit: int | None = None
) -> list[QueueItem]:
    """Queue items with their posts and scores, most urgent and oldest first."""
    query = (
        select(QueueItem)
        .options(joinedload(QueueItem.post).selectinload(PostRecord.scores))
        .order_by(QueueItem.priority.desc(), QueueItem.due_at, QueueItem.id)
        .limit(limit)
    )
    if status:
        query = query.where(QueueItem.status == status)
    return list(session.scalars(query).unique())


def count_items(session: Session, status: str | None = None) -> int:
    """How many queue items there are (with this status)."""
    query = select(func.count()).select_from(QueueItem)
    if status:
        query = query.where(QueueItem.status == status)
    return session.scalar(query) or 0


def item_summary(item: QueueItem) -> dict[str, object]:
    """The queue item as the CLI's JSON contract shows it."""
    scores = {score.task: score for score in item.post.scores}
    sentiment = scores.get("sentiment")
    troll = scores.get("troll")
    return {
        "id": item.id,
        "status": item.status,
        "priority": item.priority,
        "platform": item.post.platform,
        "platform_id": item.post.platform_id,
        "brand": item.brand,
        "text": item.post.text,
        "sentiment": sentiment.label if sentiment else None,
        "troll_score": round(troll.score, 4) if troll else None,
        "reasons": item.reasons,
        "url": item.post.url,
        "created_at": item.post.created_at.isoformat(),
        "due_at": item.due_at.isoformat(),
    }
