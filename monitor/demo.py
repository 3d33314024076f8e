"""`rufwacht demo`: the bundled German demo feed through the real pipeline, end to end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from connectors.replay import ReplayConnector, demo_feed_dir
from monitor.pipeline import Pipeline, PollReport
from monitor.storage.database import Database
from monitor.storage.models import AuthorRecord, PostRecord, QueueItem, Score, SourceState
from monitor.storage.source_states import save_cursor

DEMO_SOURCE = "demo"


@dataclass
class DemoSummary:
    report: PollReport
    posts_total: int
    queue_by_brand: dict[str, int]


def reset_database(db: Database) -> None:
    """Empty every table the product owns (the schema and scheduler jobs stay)."""
    with db.transaction() as session:
        for table in (QueueItem, Score, PostRecord, AuthorRecord, SourceState):
            session.execute(delete(table))


def run_demo(pipeline: Pipeline, reset: bool = False) -> DemoSummary:
    """Replay the whole demo feed; posts already stored are recognised and skipped."""
    if reset:
        reset_database(pipeline.db)
    with pipeline.db.transaction() as session:
        save_cursor(session, DEMO_SOURCE, {})
    report = pipeline.poll(ReplayConnector(DEMO_SOURCE, demo_feed_dir()))
    with pipeline.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(PostRecord)) or 0
        brands = Counter(session.scalars(select(QueueItem.brand)))
    return DemoSummary(report, total, dict(brands.most_common()))
