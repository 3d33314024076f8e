"""Storing posts and authors exactly once, whatever order or how often they arrive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from connectors.base import Author, Post
from monitor.storage.models import AuthorRecord, PostRecord


def insert_on_conflict(session: Session, table: Any) -> Any:
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
    statement = insert_on_conflict(session, AuthorRecord).values(**values)
    refreshed = {k: statement.excluded[k] for k in values if k not in ("platform", "key")}
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "key"], set_=refreshed
    ).returning(AuthorRecord.id)
    return int(session.execute(statement).scalar_one())


@dataclass
class StoredPage:
    new: list[PostRecord] = field(default_factory=list)
    """The posts not stored before, in arrival order."""
    refused: list[tuple[Post, str]] = field(default_factory=list)
    """Posts the database refused, each with the database's reason."""


def store_posts(session: Session, source: str, posts: Sequence[Post]) -> StoredPage:
    """Insert the posts not stored yet; a post the database refuses costs only itself.

    Each post goes in under a savepoint, so a refused row (a value out of range, a bind error)
    is rolled back alone and the rest of the page, and its cursor, still commit.
    """
    page = StoredPage()
    new_ids: list[int] = []
    for post in posts:
        try:
            with session.begin_nested():
                new_id = _insert_post(session, source, post)
        except StatementError as exc:
            if not _refuses_the_row(exc):
                raise
            page.refused.append((post, _first_line(exc)))
            continue
        if new_id is not None:
            new_ids.append(new_id)
    if new_ids:
        rows = session.scalars(select(PostRecord).where(PostRecord.id.in_(new_ids))).all()
        by_id = {row.id: row for row in rows}
        page.new = [by_id[i] for i in new_ids]
    return page


def _refuses_the_row(exc: StatementError) -> bool:
    """The row's own values are at fault, not a lost connection or a lock (those retry)."""
    return isinstance(exc, DataError | IntegrityError) or not isinstance(exc, DBAPIError)


def _first_line(exc: StatementError) -> str:
    """The driver's message without the SQL and parameters SQLAlchemy appends (post text)."""
    cause = exc.orig if exc.orig is not None else exc
    return f"database refused the post: {str(cause).strip().splitlines()[0]}"


def _insert_post(session: Session, source: str, post: Post) -> int | None:
    """The new row's id, or None when the post was stored before."""
    author_id = upsert_author(session, post.platform, post.author) if post.author else None
    statement = (
        insert_on_conflict(session, PostRecord)
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
    return session.execute(statement).scalar_one_or_none()
