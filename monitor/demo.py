"""`rufwacht demo`: the bundled German demo feed through the real pipeline, end to end."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from connectors.replay import DemoFeedConnector
from monitor.access.roles import Role
from monitor.access.users import add_user, find_user, set_password
from monitor.alerts.intake import forget_vanished
from monitor.guidance.replies import seed_shipped_replies
from monitor.pipeline import Pipeline, PollReport
from monitor.storage.database import Database
from monitor.storage.models import (
    AuthorRecord,
    PostRecord,
    QueueItem,
    Score,
    SourceState,
    VerdictRecord,
)
from monitor.storage.source_states import save_cursor

DEMO_SOURCE = "demo"
DEMO_MARKER = "demo"
"""Every line of the bundled demo feed carries a `demo` object (kind, expected flag), which
stays in the stored post's raw payload: that marks demo posts, however they were replayed
(`rufwacht demo`, or the replay fallback of `make run`)."""


@dataclass
class DemoSummary:
    report: PollReport
    posts_total: int
    queue_by_brand: dict[str, int]
    removed: int = 0
    """Demo posts deleted by `--reset` before the replay."""
    passwords: dict[str, str | None] = field(default_factory=dict)
    """The demo accounts' new passwords by name; None for an account left as it was."""


DEMO_USERS = {"agent": Role.AGENT, "approver": Role.APPROVER, "lead": Role.LEAD}
"""One account per working role, so the demo shows the four-eyes workflow."""


def is_demo_post() -> ColumnElement[bool]:
    return PostRecord.raw[DEMO_MARKER].as_string().is_not(None)


def remove_demo_data(db: Database) -> int:
    """Delete the demo posts with their scores, verdicts, queue items and the crisis and reach
    alerts about them, their authors left without posts, and the demo source's cursor; live
    posts and other sources' cursors stay."""
    demo_posts = select(PostRecord.id).where(is_demo_post())
    with db.transaction() as session:
        authors = set(
            session.scalars(select(PostRecord.author_id).where(is_demo_post()).distinct())
        )
        session.execute(delete(QueueItem).where(QueueItem.post_id.in_(demo_posts)))
        forget_vanished(session)  # the demo's crisis and reach alerts
        session.execute(delete(Score).where(Score.post_id.in_(demo_posts)))
        session.execute(delete(VerdictRecord).where(VerdictRecord.post_id.in_(demo_posts)))
        removed = session.execute(delete(PostRecord).where(is_demo_post())).rowcount
        still_posting = select(PostRecord.author_id).where(PostRecord.author_id.is_not(None))
        session.execute(
            delete(AuthorRecord).where(
                AuthorRecord.id.in_(authors), AuthorRecord.id.not_in(still_posting)
            )
        )
        session.execute(delete(SourceState).where(SourceState.source == DEMO_SOURCE))
    return removed


def demo_users(session: Session, renew: bool) -> dict[str, str | None]:
    """Create the missing demo accounts with random passwords (with `renew`, existing ones get
    new passwords too); returns the new passwords, to be shown once."""
    passwords: dict[str, str | None] = {}
    for name, role in DEMO_USERS.items():
        user = find_user(session, name)
        password: str | None = secrets.token_urlsafe(12)
        if user is None:
            add_user(session, name, role, password)
        elif renew:
            set_password(user, password)
        else:
            password = None
        passwords[name] = password
    return passwords


def run_demo(pipeline: Pipeline, reset: bool = False) -> DemoSummary:
    """Replay the whole demo feed; posts already stored are recognised and skipped. The
    saved replies are seeded and the demo accounts created (renewed with `reset`)."""
    removed = remove_demo_data(pipeline.db) if reset else 0
    with pipeline.db.transaction() as session:
        save_cursor(session, DEMO_SOURCE, {})
        seed_shipped_replies(session)
        passwords = demo_users(session, renew=reset)
    report = pipeline.poll(DemoFeedConnector(DEMO_SOURCE))
    with pipeline.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(PostRecord)) or 0
        brands = Counter(session.scalars(select(QueueItem.brand)))
    return DemoSummary(report, total, dict(brands.most_common()), removed, passwords)
