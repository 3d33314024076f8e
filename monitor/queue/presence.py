"""Who is working on an item right now: each open item page reports its user every so often,
and whoever reported within `WINDOW` counts as present."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor.storage.models import ItemPresence, QueueItem, UserRecord, utcnow
from monitor.storage.posts import insert_on_conflict

WINDOW = timedelta(minutes=2)


def touch(session: Session, user: UserRecord, item: QueueItem, now: datetime | None = None) -> None:
    """Record that `user` has the item open now (one row per user and item, refreshed)."""
    seen = now or utcnow()
    statement = insert_on_conflict(session, ItemPresence).values(
        item_id=item.id, user_id=user.id, last_seen_at=seen
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["item_id", "user_id"], set_={"last_seen_at": seen}
        )
    )


def leave(session: Session, user: UserRecord, item: QueueItem) -> None:
    """`user` closed the item."""
    session.execute(
        delete(ItemPresence).where(ItemPresence.item_id == item.id, ItemPresence.user_id == user.id)
    )


def present(session: Session, item: QueueItem, now: datetime | None = None) -> list[str]:
    """Names of the users who had the item open within `WINDOW`, most recent first."""
    since = (now or utcnow()) - WINDOW
    query = (
        select(UserRecord.name)
        .join(ItemPresence, ItemPresence.user_id == UserRecord.id)
        .where(ItemPresence.item_id == item.id, ItemPresence.last_seen_at >= since)
        .order_by(ItemPresence.last_seen_at.desc(), UserRecord.name)
    )
    return list(session.scalars(query))


def present_on(
    session: Session, item_ids: list[int], now: datetime | None = None
) -> dict[int, list[str]]:
    """`present` for many items at once (the queue page): names by item id."""
    since = (now or utcnow()) - WINDOW
    query = (
        select(ItemPresence.item_id, UserRecord.name)
        .join(UserRecord, ItemPresence.user_id == UserRecord.id)
        .where(ItemPresence.item_id.in_(item_ids), ItemPresence.last_seen_at >= since)
        .order_by(ItemPresence.last_seen_at.desc(), UserRecord.name)
    )
    names: dict[int, list[str]] = {}
    for item_id, name in session.execute(query):
        names.setdefault(item_id, []).append(name)
    return names
