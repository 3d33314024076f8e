"""Putting a flagged post into the queue, its SLA clock started."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.queue.priority import band_of
from monitor.queue.sla import SlaClock
from monitor.queue.states import QueueStatus
from monitor.storage.models import PostRecord, QueueItem, VerdictRecord


def enqueue(
    session: Session, post: PostRecord, verdict: VerdictRecord, clock: SlaClock
) -> QueueItem:
    """Queue a flagged post with its stored verdict's priority, reasons, category and action;
    its SLA clock starts when the customer posted.

    A post dated after it was fetched (a wrong clock upstream) starts its clock when it was
    fetched, so its deadline still runs out."""
    started = min(post.created_at, post.fetched_at)
    due_at, near_at = clock.deadline(started, band_of(verdict.priority))
    item = QueueItem(
        post=post,
        brand=verdict.brand or "",
        status=QueueStatus.NEW,
        priority=verdict.priority,
        platform=post.platform,
        category=(verdict.category or {}).get("label"),
        action=(verdict.action or {}).get("label"),
        reasons=verdict.reasons,
        waiting_since=started,
        due_at=due_at,
        sla_near_at=near_at,
    )
    session.add(item)
    return item
