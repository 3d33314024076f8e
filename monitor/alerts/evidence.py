"""What drives an alert, as plain JSON-ready data stored with it: the top queued posts (by
priority) and the matched terms they share, so mail, chat and UI show the same thing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from monitor.queue.priority import ENGAGEMENT_WEIGHT, engagement
from monitor.storage.models import PostRecord, QueueItem

EXCERPT = 280
"""Characters of a post an alert keeps: enough to recognise it, never a whole thread."""
TERM_SAMPLE = 1000
"""Queued posts whose terms are counted (the most urgent ones of the window)."""
TOP_TERMS = 8


def audience(post: PostRecord) -> int:
    """Followers plus weighted engagement: the reach `monitor.queue.priority` rates."""
    followers = post.author.followers if post.author is not None else None
    return (followers or 0) + ENGAGEMENT_WEIGHT * engagement(post.metrics)


def post_entry(item: QueueItem) -> dict[str, Any]:
    """One post as an alert lists it (the link is built from `item_id` when shown)."""
    post = item.post
    text = post.text if post.text is not None else "(gelöscht)"
    return {
        "item_id": item.id,
        "text": text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""),
        "author": post.author.handle if post.author is not None else None,
        "platform": post.platform,
        "priority": item.priority,
        "category": item.category,
        "created_at": post.created_at.isoformat(),
        "audience": audience(post),
    }


def window_items(
    session: Session, brand: str, start: datetime, end: datetime, limit: int
) -> list[QueueItem]:
    """The brand's queued posts written in [start, end), most urgent first."""
    query = (
        select(QueueItem)
        .join(QueueItem.post)
        .options(joinedload(QueueItem.post).joinedload(PostRecord.verdict))
        .options(joinedload(QueueItem.post).joinedload(PostRecord.author))
        .where(
            QueueItem.brand == brand,
            PostRecord.created_at >= start,
            PostRecord.created_at < end,
        )
        .order_by(QueueItem.priority.desc(), PostRecord.created_at.desc(), QueueItem.id)
        .limit(limit)
    )
    return list(session.scalars(query).unique())


def top_terms(items: list[QueueItem]) -> list[dict[str, Any]]:
    """The matched keywords (as configured, from each stored verdict) most posts share."""
    counts: Counter[str] = Counter()
    for item in items:
        verdict = item.post.verdict
        keywords = (verdict.matches or {}).get("keywords", []) if verdict else []
        counts.update(set(keywords))
    return [{"term": term, "count": n} for term, n in counts.most_common(TOP_TERMS)]


def window_evidence(
    session: Session, brand: str, start: datetime, end: datetime, top: int
) -> dict[str, Any]:
    """Top posts and terms of the brand's queued posts in the window."""
    items = window_items(session, brand, start, end, TERM_SAMPLE)
    return {"posts": [post_entry(item) for item in items[:top]], "terms": top_terms(items)}


def items_evidence(items: list[QueueItem], top: int) -> dict[str, Any]:
    """Top posts and terms of the items an event alert gathered, most urgent first."""
    ranked = sorted(items, key=lambda item: (-item.priority, item.id))
    return {"posts": [post_entry(item) for item in ranked[:top]], "terms": top_terms(ranked)}
