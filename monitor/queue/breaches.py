"""Recording SLA breaches, once per item, for the digest and alerts to read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from monitor.queue.sla import WAITING
from monitor.storage.models import QueueItem


def record_breaches(session: Session, now: datetime) -> int:
    """Stamp `sla_breached_at = now` on waiting items past their deadline that have none yet;
    returns how many were new. Each item is stamped once, so digests and alerts that read the
    stamp report every breach exactly once, at most one scheduler interval late."""
    result = session.execute(
        update(QueueItem)
        .where(
            QueueItem.sla_breached_at.is_(None),
            QueueItem.due_at <= now,
            QueueItem.status.in_(WAITING),
        )
        .values(sla_breached_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
