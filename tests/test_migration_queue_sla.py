"""Migration 0009: items queued before it keep their deadline and gain SLA times and triage."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from monitor.storage.database import Database, alembic_config
from monitor.storage.models import Base

POSTED = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def upgrade(db: Database, revision: str) -> None:
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_queued_items_are_backfilled_and_the_schema_matches_the_models(
    fresh_db_url: str,
) -> None:
    db = Database(fresh_db_url)
    upgrade(db, "0008")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO posts (id, platform, platform_id, source, created_at, fetched_at,"
                " metrics, raw, matched_brands, matched_keywords)"
                " VALUES (1, 'twitter', 't1', 'twitter', :posted, :fetched, '{}', '{}', '[]', '[]')"
            ),
            {"posted": POSTED, "fetched": POSTED.replace(minute=1)},
        )
        connection.execute(
            text(
                "INSERT INTO verdicts (post_id, flagged, priority, reasons, matches, thresholds,"
                " scores, spam, models, category, action, judged_at)"
                " VALUES (1, true, 80, '[]', '{}', '{}', '{}', '{}', '{}',"
                ' \'{"label": "crisis"}\', \'{"label": "escalate"}\', :posted)'
            ),
            {"posted": POSTED},
        )
        connection.execute(
            text(
                "INSERT INTO queue_items (post_id, brand, status, priority, reasons, created_at,"
                " due_at, updated_at) VALUES (1, 'DHL', 'new', 80, '[]', :posted, :due, :posted)"
            ),
            {"posted": POSTED, "due": DUE},
        )
    db.migrate()
    from monitor.storage.models import QueueItem

    with db.transaction() as session:
        item = session.query(QueueItem).one()
        assert (item.category, item.action) == ("crisis", "escalate")
        assert item.waiting_since == POSTED and item.due_at == DUE
        assert item.sla_near_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
        assert item.sla_breached_at is None
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    db.dispose()
