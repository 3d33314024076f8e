"""The quarantine: fetched items that could not be normalised or stored, kept apart so the rest
of their page is stored, the cursor moves on and the source stays healthy. Operators list them
and retry them after a fix (`rufwacht quarantine list|retry`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import SOURCE_TYPES
from connectors.base import Post, Rejected
from monitor.logs import redact
from monitor.storage.models import QuarantinedItem, utcnow

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 16_000
"""Enough for any real post with its author; a larger payload is cut (and cannot be retried)."""
MAX_PROBLEM_CHARS = 500
EXCERPT_CHARS = 80
POST_FORMAT = "post"
"""Payload format of a normalised post that the database refused."""


def quarantine(
    session: Session, source: str, payload_format: str, items: Sequence[Rejected]
) -> None:
    """Keep each rejected item with its bounded payload; log it once, with a short excerpt."""
    for item in items:
        complete = len(item.payload) <= MAX_PAYLOAD_CHARS
        problem = redact(item.problem)[:MAX_PROBLEM_CHARS]
        session.add(
            QuarantinedItem(
                source=source,
                payload_format=payload_format,
                ref=item.ref[:MAX_PROBLEM_CHARS],
                problem=problem,
                payload=item.payload[:MAX_PAYLOAD_CHARS],
                payload_complete=complete,
                attempts=0,
            )
        )
        excerpt = item.payload[:EXCERPT_CHARS] + ("…" if len(item.payload) > EXCERPT_CHARS else "")
        log.error("%s: %s: %s (quarantined; payload %r)", source, item.ref, problem, excerpt)


def refused_post(post: Post, problem: str) -> Rejected:
    """A normalised post the database refused, as a quarantine item."""
    return Rejected(f"post {post.platform}:{post.platform_id}", problem, post.model_dump_json())


def list_quarantined(session: Session, ids: Sequence[int] = ()) -> list[QuarantinedItem]:
    """Quarantined items, oldest first (only `ids`, where given)."""
    query = select(QuarantinedItem).order_by(QuarantinedItem.id)
    if ids:
        query = query.where(QuarantinedItem.id.in_(ids))
    return list(session.scalars(query))


def quarantine_summary(item: QuarantinedItem) -> dict[str, object]:
    """A quarantined item as `rufwacht quarantine list --json` shows it."""
    return {
        "id": item.id,
        "source": item.source,
        "ref": item.ref,
        "problem": item.problem,
        "created_at": item.created_at.isoformat(),
        "attempts": item.attempts,
        "retried_at": item.retried_at.isoformat() if item.retried_at else None,
        "payload_complete": item.payload_complete,
        "payload": item.payload,
    }


def reparse(item: QuarantinedItem) -> Post:
    """The post in a quarantined payload, read by today's code; `ValueError` if still broken."""
    if not item.payload_complete:
        raise ValueError(f"payload was cut to {MAX_PAYLOAD_CHARS} characters; cannot be read")
    if item.payload_format == POST_FORMAT:
        return Post.model_validate_json(item.payload)
    source_type = SOURCE_TYPES.get(item.payload_format)
    if source_type is None:
        raise ValueError(f"no connector reads the format {item.payload_format!r}")
    return source_type.connector_class().reparse(item.payload)


def mark_failed_again(item: QuarantinedItem, problem: str) -> None:
    item.problem = redact(problem)[:MAX_PROBLEM_CHARS]
    item.attempts += 1
    item.retried_at = utcnow()


@dataclass
class RetryOutcome:
    """What a retry did with one quarantined item."""

    id: int
    ref: str
    stored: bool
    problem: str | None = None
