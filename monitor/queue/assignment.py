"""Automatic assignment: round-robin to the team members on shift, each up to a cap, and
re-offering items their assignee has not started on in time; members start and end their shift.

The scheduler runs these as the system (the audit log says "System"); assignment by hand is
`workflow.assign` and `workflow.take`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.access.users import can_see_brand
from monitor.queue.audit import record
from monitor.queue.states import QueueStatus
from monitor.queue.workflow import OPEN_DRAFT_STATES, change, claim, set_assignee
from monitor.storage.models import QueueItem, UserRecord, utcnow

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def set_shift(session: Session, user: UserRecord, on: bool) -> None:
    """Start (`on`) or end the user's shift: only members on shift get items automatically.
    A change is written to the audit log like every workflow step; asking for the state the
    user is in already changes and records nothing."""
    if user.on_shift == on:
        return
    user.on_shift = on
    record(session, None, user, "shift_start" if on else "shift_end", None, None)


def on_shift(session: Session) -> list[UserRecord]:
    query = select(UserRecord).where(UserRecord.active, UserRecord.on_shift).order_by(UserRecord.id)
    return list(session.scalars(query))


def workload(session: Session) -> Counter[int]:
    """Items in progress (assigned, drafting) per user id."""
    query = (
        select(QueueItem.assignee_id, func.count())
        .where(QueueItem.assignee_id.is_not(None), QueueItem.status.in_(OPEN_DRAFT_STATES))
        .group_by(QueueItem.assignee_id)
    )
    return Counter({user_id: count for user_id, count in session.execute(query)})


def last_assigned(session: Session) -> dict[int, datetime]:
    query = (
        select(QueueItem.assignee_id, func.max(QueueItem.assigned_at))
        .where(QueueItem.assignee_id.is_not(None))
        .group_by(QueueItem.assignee_id)
    )
    return {user_id: at for user_id, at in session.execute(query) if at is not None}


def auto_assign(
    session: Session, cap: int, skip: Mapping[int, int] | None = None
) -> list[tuple[QueueItem, UserRecord]]:
    """Hand out the unassigned new items, most urgent first, round-robin: each goes to the
    member on shift who may see its brand and has the fewest items in progress (below `cap`),
    on a tie to whoever got one longest ago. `skip` maps item ids to a user not to offer them
    to again. Items nobody can take stay unassigned."""
    members = on_shift(session)
    load = workload(session)
    last = last_assigned(session)
    skip = skip or {}
    waiting = session.scalars(
        select(QueueItem)
        .where(QueueItem.status == QueueStatus.NEW, QueueItem.assignee_id.is_(None))
        .order_by(QueueItem.priority.desc(), QueueItem.due_at, QueueItem.id)
    )
    handed: list[tuple[QueueItem, UserRecord]] = []
    for item in waiting:
        candidates = [
            member
            for member in members
            if load[member.id] < cap
            and can_see_brand(member, item.brand)
            and skip.get(item.id) != member.id
        ]
        if not candidates:
            continue
        chosen = min(candidates, key=lambda m: (load[m.id], last.get(m.id, _LONG_AGO), m.id))
        claim(session, item)
        set_assignee(item, chosen)
        details = {"assignee": chosen.name}
        change(session, item, None, QueueStatus.ASSIGNED, "auto_assign", details=details)
        load[chosen.id] += 1
        last[chosen.id] = item.assigned_at or utcnow()
        handed.append((item, chosen))
    return handed


def reoffer_waiting(
    session: Session, max_wait: timedelta, cap: int, now: datetime | None = None
) -> list[tuple[QueueItem, UserRecord]]:
    """Items assigned longer than `max_wait` ago on which nobody started a draft go back to
    the pool and are offered to someone else on shift (`auto_assign`)."""
    cutoff = (now or utcnow()) - max_wait
    stuck = session.scalars(
        select(QueueItem).where(
            QueueItem.status == QueueStatus.ASSIGNED, QueueItem.assigned_at < cutoff
        )
    ).all()
    previous: dict[int, int] = {}
    for item in stuck:
        if item.assignee_id is not None:
            previous[item.id] = item.assignee_id
        since = item.assigned_at.isoformat() if item.assigned_at else None
        claim(session, item)
        set_assignee(item, None)
        change(session, item, None, QueueStatus.NEW, "reoffer", details={"assigned_at": since})
    return auto_assign(session, cap, previous)
