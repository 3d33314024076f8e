"""The append-only audit log: who did what to a queue item, when, from which status to which
(and, without an item, what concerns the team's workflow: shifts begun and ended).

Entries are only ever added (`record`) and read (`audit_trail`); nothing in Rufwacht changes or
removes one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.queue.states import QueueStatus
from monitor.storage.models import AuditEntry, QueueItem, UserRecord, utcnow

SYSTEM_NAME = "System"
"""The actor name of what Rufwacht did by itself (intake, automatic assignment, deletion)."""


def record(
    session: Session,
    item: QueueItem | None,
    actor: UserRecord | None,
    action: str,
    from_status: QueueStatus | None,
    to_status: QueueStatus | None,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry; `actor` None is the system, `item` None an entry about the team."""
    entry = AuditEntry(
        item_id=item.id if item else None,
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else SYSTEM_NAME,
        at=utcnow(),
        from_status=QueueStatus(from_status).value if from_status else None,
        to_status=QueueStatus(to_status).value if to_status else None,
        action=action,
        comment=comment,
        details=details or {},
    )
    session.add(entry)
    return entry


def audit_trail(session: Session, item: QueueItem) -> list[AuditEntry]:
    """The item's entries, oldest first."""
    query = select(AuditEntry).where(AuditEntry.item_id == item.id).order_by(AuditEntry.id)
    return list(session.scalars(query))
