"""Test data with German defaults: connector posts and authors, stored rows, scores, queue items.

Every builder takes any field as a keyword and fills in the rest, so a test names only the
values its point depends on. Posts are numbered per test (the conftest resets the count): the
n-th post of a test is "t{n}", posted n minutes after `T0`, so later posts are newer.
Stored rows are returned unsaved; the test adds them to its session.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Author, Post
from monitor.access.roles import Role
from monitor.storage.models import (
    AuthorRecord,
    PostRecord,
    QueueItem,
    Score,
    UserRecord,
    VerdictRecord,
)

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
"""Monday, 8:00 in Berlin: the morning rush."""

COMPLAINT = "@DB_Bahn ICE 578 fällt schon wieder aus, keine Durchsage. Unzumutbar!"

_sequence = itertools.count(1)


def reset_sequence() -> None:
    global _sequence
    _sequence = itertools.count(1)


def author(**fields: Any) -> Author:
    """A commuter's account whose behaviour signals the platform did not give."""
    return Author(**{"handle": "pendlerin", **fields})


def post(text: str = COMPLAINT, **fields: Any) -> Post:
    """The next tweet of this test by `author()`: a complaint to Deutsche Bahn, unless `text`."""
    n = next(_sequence)
    defaults: dict[str, Any] = {
        "platform": "twitter",
        "platform_id": f"t{n}",
        "created_at": T0 + timedelta(minutes=n),
        "author": author(),
    }
    return Post(text=text, **{**defaults, **fields})


def author_record(**fields: Any) -> AuthorRecord:
    """A stored account; its handle (and key) is new for each call unless given."""
    handle = fields.pop("handle", f"kunde{next(_sequence)}")
    defaults: dict[str, Any] = {
        "platform": "twitter",
        "key": handle.lstrip("@").casefold(),
        "handle": handle,
        "account_age_days": 2400,
        "followers": 180,
    }
    return AuthorRecord(**{**defaults, **fields})


def stored_post(text: str = COMPLAINT, **fields: Any) -> PostRecord:
    """A stored tweet with its own author, fetched a minute after it was posted."""
    n = next(_sequence)
    created_at = fields.pop("created_at", T0 + timedelta(minutes=n))
    defaults: dict[str, Any] = {
        "platform": "twitter",
        "platform_id": f"t{n}",
        "source": "twitter",
        "created_at": created_at,
        "fetched_at": created_at + timedelta(minutes=1),
        "author": author_record(),
        "matched_brands": ["Deutsche Bahn"],
        "matched_keywords": ["unzumutbar"],
        "metrics": {},
    }
    return PostRecord(text=text, **{**defaults, **fields})


def score(post: PostRecord, task: str = "sentiment", **fields: Any) -> Score:
    """A model's judgement of `post`: negative sentiment, not offensive, not a troll."""
    defaults: dict[str, dict[str, Any]] = {
        "sentiment": {
            "label": "negative",
            "score": 0.85,
            "probabilities": {"negative": 0.85, "neutral": 0.1, "positive": 0.05},
        },
        "offensive": {
            "label": "other",
            "score": 0.9,
            "probabilities": {"other": 0.9, "offensive": 0.1},
        },
        "troll": {"label": "not_troll", "score": 0.1, "probabilities": {"troll": 0.1}},
    }
    values = {"model_version": f"test-{task}", **defaults.get(task, {}), **fields}
    return Score(post=post, task=task, **values)


def queue_item(post: PostRecord | None = None, **fields: Any) -> QueueItem:
    """A new queue item as the pipeline leaves it: the post (default `stored_post()`) with its
    three scores, its SLA clock started when it was posted, due 24 hours later (or at
    `due_at`), near its deadline in the last quarter of that window."""
    if post is None:
        post = stored_post()
        for task in ("sentiment", "offensive", "troll"):
            score(post, task)
    waiting_since = fields.pop("waiting_since", post.created_at)
    due_at = fields.pop("due_at", waiting_since + timedelta(hours=24))
    defaults: dict[str, Any] = {
        "brand": (post.matched_brands or ["Deutsche Bahn"])[0],
        "status": "new",
        "priority": 40,
        "platform": post.platform,
        "category": "complaint",
        "action": "reply",
        "reasons": ["Negativ (85%)", "Schlagworte: unzumutbar"],
        "waiting_since": waiting_since,
        "due_at": due_at,
        "sla_near_at": due_at - (due_at - waiting_since) / 4,
    }
    return QueueItem(post=post, **{**defaults, **fields})


def verdict(post: PostRecord, category: str = "complaint", **fields: Any) -> VerdictRecord:
    """The stored verdict that queued `post`: a complaint to answer publicly, priority 40."""
    defaults: dict[str, Any] = {
        "flagged": True,
        "priority": 40,
        "brand": (post.matched_brands or ["Deutsche Bahn"])[0],
        "reasons": ["Negativ (85%)"],
        "category": {"label": category, "confidence": 0.9, "reasons": []},
        "action": {"label": "reply", "escalate_to": None, "reasons": []},
        "guideline": category,
    }
    return VerdictRecord(post=post, **{**defaults, **fields})


MODEL_VERSIONS = {
    "sentiment": "e5-sentiment-1.2",
    "offensive": "e5-offensive-1.0",
    "troll": "troll-3",
    "triage": "triage-2.0",
}


def mention(
    at: datetime,
    *,
    brand: str = "Deutsche Bahn",
    platform: str = "twitter",
    flagged: bool = False,
    sentiment: str = "neutral",
    text: str = COMPLAINT,
    item: dict[str, Any] | None = None,
    **fields: Any,
) -> PostRecord:
    """A judged post of `brand` posted at `at` (what the digest counts); with `item`, also
    queued with those queue item fields."""
    post = stored_post(text, created_at=at, platform=platform, matched_brands=[brand], **fields)
    matches = {"brands": [brand], "keywords": post.matched_keywords, "spans": []}
    verdict(
        post,
        flagged=flagged,
        brand=brand,
        scores={"sentiment": sentiment},
        models=MODEL_VERSIONS,
        matches=matches,
    )
    if item is not None:
        queue_item(post, **item)
    return post


def user(name: str, role: Role | str = Role.AGENT, **fields: Any) -> UserRecord:
    """An active team member who cannot log in (no password hashed: argon2 is slow on purpose).

    `rufwacht users add` and the login tests use `monitor.access.users.add_user` instead."""
    defaults: dict[str, Any] = {"password_hash": "-", "active": True, "on_shift": False}
    return UserRecord(name=name, role=Role(role), **{**defaults, **fields})
