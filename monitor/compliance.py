"""Re-checking stored posts upstream, as the platforms' terms require.

A post deleted (or made private) by its author loses its text and raw payload here too, and its
queue item leaves the team's work list; an edited post gets its newest text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from connectors.base import Connector, SourceError, clean_text
from connectors.capabilities import LOOKUP_BATCH, ChecksExisting
from monitor.queue.workflow import mark_deleted
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, utcnow

log = logging.getLogger(__name__)


@dataclass
class ComplianceReport:
    source: str
    checked: int = 0
    deleted: int = 0
    edited: int = 0
    failure: str | None = None


def recheck(db: Database, connector: Connector, batch_size: int = LOOKUP_BATCH) -> ComplianceReport:
    """Ask the platform about the `batch_size` least recently checked posts of a source."""
    report = ComplianceReport(connector.source)
    if not isinstance(connector, ChecksExisting):
        return report
    with db.transaction() as session:
        ids = session.scalars(
            select(PostRecord.platform_id)
            .where(PostRecord.source == connector.source, PostRecord.deleted_at.is_(None))
            .order_by(PostRecord.checked_at.asc().nulls_first(), PostRecord.id)
            .limit(batch_size)
        ).all()
    if not ids:
        return report
    try:
        current = connector.lookup_existing(list(ids))
    except SourceError as exc:
        log.error("%s: compliance check failed: %s", connector.source, exc.problem)
        report.failure = exc.problem
        return report
    _apply(db, connector, current, report)
    return report


def _apply(
    db: Database, connector: Connector, current: dict[str, str | None], report: ComplianceReport
) -> None:
    now = utcnow()
    with db.transaction() as session:
        posts = session.scalars(
            select(PostRecord).where(
                PostRecord.source == connector.source, PostRecord.platform_id.in_(current)
            )
        ).all()
        for post in posts:
            post.checked_at = now
            report.checked += 1
            text = current[post.platform_id]
            text = clean_text(text) if text is not None else None
            if text is None:
                _erase(post)
                report.deleted += 1
            elif text != post.text:
                post.text = text
                report.edited += 1


def _erase(post: PostRecord) -> None:
    post.text = None
    post.raw = {}
    post.deleted_at = utcnow()
    if post.queue_item is not None:
        mark_deleted(post.queue_item)
