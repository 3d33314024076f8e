"""What UI and API both show, loaded one way for both: a page of the queue within the user's
brands, and one item the user may see, with the details its page lists.

A brand outside the user's scope looks exactly like a brand without items, and such an item
like one that does not exist: a scoped user learns nothing about the other brands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from monitor.access.policies import authorize, can_bulk, can_view_alerts
from monitor.access.users import can_see_brand, find_user
from monitor.alerts.queries import kind_name, list_alerts, open_alerts, title
from monitor.guidance.playbooks import Category
from monitor.guidance.replies import list_replies
from monitor.queue import QueueFilter, QueueStatus, count_items, item_summary, list_items
from monitor.queue.bulk import BulkAction, BulkResult, bulk
from monitor.queue.states import EscalationTeam
from monitor.queue.workflow import WorkflowError
from monitor.storage.models import (
    AlertRecord,
    DraftRecord,
    PostRecord,
    QueueItem,
    ReviewLabel,
    SavedReply,
    UserRecord,
    WebSession,
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class NotFound(LookupError):
    """Something that does not exist, or that the user may not see: both look the same."""


class ItemNotFound(NotFound):
    """No item with this id, or one of a brand the user may not see."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"Eintrag {item_id} nicht gefunden.")


class ReplyNotFound(NotFound):
    """No saved reply with this id, or one of a brand the user may not see."""

    def __init__(self, reply_id: int) -> None:
        super().__init__(f"Textbaustein {reply_id} nicht gefunden.")


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def brand_choices(user: UserRecord, configured: list[str]) -> list[str]:
    """The brands the user may filter by: their scope, else every configured brand."""
    return list(user.brands) if user.brands is not None else configured


def queue_page(
    session: Session, query: QueueFilter, limit: int = PAGE_SIZE, offset: int = 0
) -> QueuePage:
    """One page of the items `query` selects, with the number of all that match. The
    user's brand scope is part of the filter (`filters.parse_filter`), so lists and counts
    agree."""
    items = list_items(session, query, limit, offset)
    return QueuePage(items, count_items(session, query), limit, offset)


BULK_FILTER_LIMIT = 1000
"""The most items one bulk action by filter may change: a wider filter is most likely a
mistake, and one request must not hold the database for minutes."""


def matching_items(session: Session, query: QueueFilter) -> list[QueueItem]:
    """Every item `query` selects (within the user's brands, which the filter carries), for a
    bulk action on all of them; `WorkflowError` when they are more than `BULK_FILTER_LIMIT`."""
    total = count_items(session, query)
    if total > BULK_FILTER_LIMIT:
        raise WorkflowError(
            f"Der Filter trifft {total} Einträge, höchstens {BULK_FILTER_LIMIT} gehen auf "
            "einmal. Bitte den Filter enger fassen."
        )
    return list_items(session, query)


def visible_item(session: Session, user: UserRecord, item_id: int) -> QueueItem:
    """The item, if it exists and the user may see its brand; `ItemNotFound` otherwise."""
    item = session.get(QueueItem, item_id)
    if item is None or not can_see_brand(user, item.brand):
        raise ItemNotFound(item_id)
    return item


def item_details(item: QueueItem) -> dict[str, Any]:
    """The item's summary plus what its page shows: author, metrics, matched terms, every
    score with its reasons, and the reasons for category and action."""
    post = item.post
    verdict = post.verdict
    author = post.author
    return {
        **item_summary(item),
        "author": None
        if author is None
        else {
            "handle": author.handle,
            "display_name": author.display_name,
            "followers": author.followers,
            "account_age_days": author.account_age_days,
            "posts_last_24h": author.posts_last_24h,
        },
        "metrics": post.metrics,
        "matched_brands": post.matched_brands,
        "matched_keywords": post.matched_keywords,
        "scores": [
            {
                "task": score.task,
                "label": score.label,
                "score": round(score.score, 4),
                "reasons": score.reasons,
                "model_version": score.model_version,
            }
            for score in post.scores
        ],
        "category_reasons": ((verdict.category or {}).get("reasons") or []) if verdict else [],
        "action_reasons": ((verdict.action or {}).get("reasons") or []) if verdict else [],
    }


def work_state(item: QueueItem) -> dict[str, Any]:
    """Who works on the item and its version, which every change must name."""
    return {
        "version": item.version,
        "assignee": item.assignee.name if item.assignee is not None else None,
    }


def item_row(item: QueueItem) -> dict[str, Any]:
    """The item as the queue lists it, with its work state."""
    return {**item_summary(item), **work_state(item)}


def item_drafts(session: Session, item: QueueItem) -> list[DraftRecord]:
    """Every reply drafted for the item, oldest first: the rejected, sent and current ones."""
    query = select(DraftRecord).where(DraftRecord.item_id == item.id).order_by(DraftRecord.id)
    return list(session.scalars(query))


def visible_replies(
    session: Session, user: UserRecord, brand: str | None, category: Category | None
) -> list[SavedReply]:
    """Saved replies for `brand` (or every brand) that the user's scope includes."""
    replies = list_replies(session, brand=brand, category=category)
    return [reply for reply in replies if reply.brand is None or can_see_brand(user, reply.brand)]


def visible_reply(session: Session, user: UserRecord, reply_id: int) -> SavedReply:
    """The saved reply, if it exists and is for every brand or one the user may see."""
    reply = session.get(SavedReply, reply_id)
    if reply is None or (reply.brand is not None and not can_see_brand(user, reply.brand)):
        raise ReplyNotFound(reply_id)
    return reply


def visible_items(
    session: Session, user: UserRecord, ids: list[int]
) -> tuple[list[QueueItem], list[int]]:
    """The items with these ids that the user may see, in the order asked, and the ids of
    the others (missing or hidden alike)."""
    wanted = list(dict.fromkeys(ids))
    query = select(QueueItem).where(QueueItem.id.in_(wanted))
    found = {item.id: item for item in session.scalars(query) if can_see_brand(user, item.brand)}
    return [found[i] for i in wanted if i in found], [i for i in wanted if i not in found]


def named_user(session: Session, name: str) -> UserRecord:
    """The user called `name`; a `WorkflowError` when there is none."""
    found = find_user(session, name)
    if found is None:
        raise WorkflowError(f"Einen Benutzer „{name}“ gibt es nicht.")
    return found


def bulk_on(
    session: Session,
    user: UserRecord,
    action: BulkAction | str,
    selection: list[int] | QueueFilter,
    versions: dict[int, int],
    assignee: str | None,
    comment: str | None,
    team: EscalationTeam | str | None,
) -> list[BulkResult]:
    """A bulk action on the items with these ids, or on every item a filter matches (within
    the user's brands, which the filter carries); an id the user cannot see is reported as
    not found, like a missing one. The role is checked before anything is looked up."""
    authorize(can_bulk(user))
    target = named_user(session, assignee) if assignee else None
    if isinstance(selection, QueueFilter):
        items, missing = matching_items(session, selection), []
    else:
        items, missing = visible_items(session, user, selection)
    done = bulk(session, user, items, action, versions, target, comment, team)
    return done + [BulkResult(i, False, str(ItemNotFound(i))) for i in missing]


HISTORY_SIZE = 10


def author_history(session: Session, item: QueueItem) -> list[QueueItem]:
    """The author's other queued posts about the same brand, newest first."""
    author_id = item.post.author_id
    if author_id is None:
        return []
    query = (
        select(QueueItem)
        .join(QueueItem.post)
        .where(
            PostRecord.author_id == author_id,
            QueueItem.brand == item.brand,
            QueueItem.id != item.id,
        )
        .order_by(PostRecord.created_at.desc())
        .limit(HISTORY_SIZE)
    )
    return list(session.scalars(query))


def parent_post(session: Session, item: QueueItem) -> PostRecord | None:
    """The post this one answers, where the connector stored it."""
    post = item.post
    if post.parent_id is None:
        return None
    query = select(PostRecord).where(
        PostRecord.platform == post.platform, PostRecord.platform_id == post.parent_id
    )
    return session.scalar(query.limit(1))


def colleagues_for(session: Session, item: QueueItem) -> list[UserRecord]:
    """Active users who may work on the item's brand: whom it can be assigned to."""
    return [user for user in colleagues(session) if can_see_brand(user, item.brand)]


def item_labels(session: Session, item: QueueItem) -> list[ReviewLabel]:
    """The reviewers' decisions on the item, newest first."""
    query = select(ReviewLabel).where(ReviewLabel.item_id == item.id)
    return list(session.scalars(query.order_by(ReviewLabel.id.desc())))


def colleagues(session: Session) -> list[UserRecord]:
    """Every active user, by name: whom a bulk assignment may name."""
    query = select(UserRecord).where(UserRecord.active).order_by(UserRecord.name)
    return list(session.scalars(query))


def returned_draft(session: Session, item: QueueItem) -> DraftRecord | None:
    """The draft an approver sent back, while the item waits for its revision (the next save
    starts a new draft, so the rejected one is only shown)."""
    if item.status != QueueStatus.DRAFT:
        return None
    latest = session.scalar(
        select(DraftRecord)
        .where(DraftRecord.item_id == item.id)
        .order_by(DraftRecord.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.status == "rejected" else None


def alert_banner(browser: WebSession) -> list[dict[str, Any]]:
    """The open alerts of the user's brands, for the banner every page shows (none for a
    page without a logged-in user)."""
    user = browser.user
    session = object_session(browser)
    if user is None or session is None or not can_view_alerts(user):
        return []
    return [
        {"id": alert.id, "title": title(alert), "kind_name": kind_name(alert.kind)}
        for alert in open_alerts(session, user.brands)
    ]


def visible_alerts(
    session: Session,
    user: UserRecord,
    open_only: bool,
    limit: int,
    offset: int,
    brand: str | None = None,
) -> list[AlertRecord]:
    """Alerts of the brands the user may see (of `brand` only, if given: one outside the
    scope looks like a brand without alerts)."""
    authorize(can_view_alerts(user))
    brands = user.brands
    if brand is not None:
        brands = [brand] if can_see_brand(user, brand) else []
    return list_alerts(session, brands, open_only, limit, offset)
