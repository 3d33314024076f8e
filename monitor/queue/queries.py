"""Reading the queue: filtered, ordered and paged in SQL, most urgent or longest waiting first.

Every list and count goes through one `QueueFilter`, so a user limited to some brands never
sees, in a list or a number, an item of another brand.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.orm import Session, joinedload

from monitor.queue.priority import Band, Sort, band_range
from monitor.queue.sla import WAITING, SlaState
from monitor.queue.states import QueueStatus
from monitor.storage.models import PostRecord, QueueItem

ORDER: dict[Sort, tuple[ColumnElement[Any], ...]] = {
    Sort.URGENT: (QueueItem.priority.desc(), QueueItem.due_at, QueueItem.id),
    Sort.WAITING: (QueueItem.waiting_since, QueueItem.id),
}
"""Each order ends in the id, so pages never overlap; the indexes on queue_items match these."""


@dataclass(frozen=True)
class QueueFilter:
    """Which items to list or count; None means any. `visible_brands` is the user's brand
    scope (None: every brand), applied on top of `brand`."""

    brand: str | None = None
    platform: str | None = None
    status: QueueStatus | None = None
    category: str | None = None
    action: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    """Only items nobody is assigned to (`assignee_id` names one person instead)."""
    band: Band | None = None
    sla: SlaState | None = None
    recheck: str | None = None
    """Only items marked for a second look for this reason (`monitor.rescore.UNFLAGGED`)."""
    since: datetime | None = None
    until: datetime | None = None
    """Only items of posts published in [since, until) (aware): the digest counts a post for
    the day it was published, so its links list exactly the items behind a figure."""
    visible_brands: Collection[str] | None = None
    sort: Sort = Sort.URGENT
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    """The moment SLA states are judged at."""

    def __post_init__(self) -> None:
        """Strings from a form or the command line become their enums; a wrong one raises
        ValueError naming it."""
        for name, kind in (("status", QueueStatus), ("band", Band), ("sla", SlaState)):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, kind(value))
        object.__setattr__(self, "sort", Sort(self.sort))
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"since/until need a time zone: {moment}")

    def conditions(self) -> list[ColumnElement[bool]]:
        equal = {
            QueueItem.brand: self.brand,
            QueueItem.platform: self.platform,
            QueueItem.status: self.status,
            QueueItem.category: self.category,
            QueueItem.action: self.action,
            QueueItem.assignee_id: self.assignee_id,
            QueueItem.recheck: self.recheck,
        }
        where = [column == value for column, value in equal.items() if value is not None]
        if self.unassigned:
            where.append(QueueItem.assignee_id.is_(None))
        if self.band is not None:
            where.append(QueueItem.priority.between(*band_range(self.band)))
        if self.sla is not None:
            where.append(sla_condition(self.sla, self.now))
        if self.since is not None or self.until is not None:
            where.append(published_condition(self.since, self.until))
        if self.visible_brands is not None:
            brands = list(self.visible_brands)
            where.append(QueueItem.brand.in_(brands) if brands else false())
        return where


def sla_condition(state: SlaState, now: datetime) -> ColumnElement[bool]:
    """Items in `state` at `now`, as plain comparisons that indexes on the times serve.
    Only waiting items are near or overdue: an answered item's clock has stopped."""
    waiting = QueueItem.status.in_(WAITING)
    if state is SlaState.OVERDUE:
        return waiting & (QueueItem.due_at <= now)
    if state is SlaState.NEAR:
        return waiting & (QueueItem.sla_near_at <= now) & (QueueItem.due_at > now)
    return ~waiting | (QueueItem.sla_near_at > now)


def published_condition(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    """Items whose post was published in [since, until), as an EXISTS on the post: its time
    is not copied onto the queue item, so this one filter is not read from the index alone."""
    published = PostRecord.created_at
    bounds = [published >= since] if since is not None else []
    bounds += [published < until] if until is not None else []
    return QueueItem.post.has(and_(*bounds))


def list_items(
    session: Session,
    query: QueueFilter | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[QueueItem]:
    """One page of matching items with their posts, scores and verdicts, in the filter's order.

    The page's ids come from an index alone (see `QueueItem`); only its rows are read."""
    query = query or QueueFilter()
    ids = list(
        session.scalars(
            select(QueueItem.id)
            .where(*query.conditions())
            .order_by(*ORDER[query.sort])
            .limit(limit)
            .offset(offset)
        )
    )
    return items_by_id(session, ids)


def items_by_id(session: Session, ids: Collection[int]) -> list[QueueItem]:
    """These items, in the order given, each with its post, author, scores and verdict read
    in a few statements (no query per item); ids that do not exist are left out."""
    post = joinedload(QueueItem.post)
    rows = session.scalars(
        select(QueueItem)
        .options(
            post.joinedload(PostRecord.author),
            post.selectinload(PostRecord.scores),
            post.selectinload(PostRecord.verdict),
        )
        .where(QueueItem.id.in_(ids))
    ).unique()
    by_id = {item.id: item for item in rows}
    return [by_id[item_id] for item_id in ids if item_id in by_id]


def count_items(session: Session, query: QueueFilter | None = None) -> int:
    """How many items match (for "N more not shown" and page counts)."""
    query = query or QueueFilter()
    statement: Select[Any] = select(func.count()).select_from(QueueItem)
    return session.scalar(statement.where(*query.conditions())) or 0
