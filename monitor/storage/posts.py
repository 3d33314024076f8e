"""Storing posts and authors exactly once, whatever order or how often they arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.base import Author, Post
from monitor.storage.models import AuthorRecord, PostRecord


def _insert(session: Session, table: Any) -> Any:
    """An INSERT that understands ON CONFLICT (SQLite and PostgreSQL are supported)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert_author(session: Session, platform: str, author: Author) -> int:
    """Create or refresh an author; behaviour signals always take the newest values."""
    values = {
        "platform": platform,
        "key": author.key,
        "handle": author.handle,
        "display_name": author.display_name,
        "account_created_at": author.created_at,
        "account_age_days": author.account_age_days,
        "followers": author.followers,
        "posts_last_24h": author.posts_last_24h,
    }
    statement = _insert(session, AuthorRecord).values(**values)
    refreshed = {k: statement.excluded[k] for k in values if k not in ("platform", "key")}
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "key"], set_=refreshed
    ).returning(AuthorRecord.id)
    return int(session.execute(statement).scalar_one())


def store_posts(session: Session, source: str, posts: Sequence[Post]) -> list[PostRecord]:
    """Insert the posts not stored yet and return those new rows in arrival order."""
    new_ids: list[int] = []
    for post in posts:
        author_id = upsert_author(session, post.platform, post.author) if post.author else None
        statement = (
            _insert(session, PostRecord)
            .values(
                platform=post.platform,
                platform_id=post.platform_id,
                source=source,
                url=post.url,
                text=post.text,
                language=post.language,
                created_at=post.created_at,
                metrics=post.metrics,
                parent_id=post.parent_id,
                raw=post.raw,
                author_id=author_id,
                matched_brands=[],
                matched_keywords=[],
            )
            .on_conflict_do_nothing(index_elements=["platform", "platform_id"])
            .returning(PostRecord.id)
        )
        if (new_id := session.execute(statement).scalar_one_or_none()) is not None:
            new_ids.append(new_id)
    if not new_ids:
        return []
    rows = session.scalars(select(PostRecord).where(PostRecord.id.in_(new_ids))).all()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in new_ids]
