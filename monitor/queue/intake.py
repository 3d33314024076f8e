"""Putting a flagged post into the queue, its SLA clock started."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from monitor.flagging import Verdict
from monitor.queue.states import QueueStatus
from monitor.storage.models import PostRecord, QueueItem


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
