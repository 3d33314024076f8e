"""The queue's states, transitions and queries, on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from monitor.cli import app
from monitor.queue import (
    QueueFilter,
    QueueStatus,
    TransitionError,
    count_items,
    list_items,
    mark_deleted,
    move,
)
from monitor.storage.database import Database
from monitor.storage.models import QueueItem
from tests.conftest import write_toml
from tests.factories import queue_item, stored_post

NOW = datetime.now(UTC)


def add_items(db: Database, items: list[tuple[str, str, int, QueueStatus]]) -> None:
    """One queued post per `(platform_id, brand, priority, status)`."""
    with db.transaction() as session:
        for n, (platform_id, brand, priority, status) in enumerate(items):
            post = stored_post(f"Beschwerde {platform_id}", platform_id=platform_id, created_at=NOW)
            session.add(
                queue_item(
                    post,
                    brand=brand,
                    status=status,
                    priority=priority,
                    due_at=NOW + timedelta(hours=n),
                )
            )


ITEMS = [
    ("a", "DHL", 90, QueueStatus.NEW),
    ("b", "Telekom", 80, QueueStatus.NEW),
    ("c", "DHL", 70, QueueStatus.DELETED),
    ("d", "DHL", 60, QueueStatus.NEW),
    ("e", "DHL", 50, QueueStatus.NEW),
]


def ids(items: list[QueueItem]) -> list[str]:
    return [item.post.platform_id for item in items]


def test_filters_limit_and_offset_page_through_the_queue(db: Database) -> None:
    add_items(db, ITEMS)
    with db.transaction() as session:
        assert ids(list_items(session)) == ["a", "b", "c", "d", "e"]
        new_dhl = QueueFilter(status=QueueStatus.NEW, brand="DHL")
        assert ids(list_items(session, new_dhl)) == ["a", "d", "e"]
        assert ids(list_items(session, QueueFilter(status="new"), limit=2, offset=1)) == ["b", "d"]
        assert ids(list_items(session, QueueFilter(brand="DHL"), limit=2, offset=2)) == ["d", "e"]
        assert ids(list_items(session, offset=5)) == []
        assert count_items(session) == 5
        assert count_items(session, QueueFilter(status="new")) == 4
        assert count_items(session, new_dhl) == 3
        assert count_items(session, QueueFilter(brand="Vodafone")) == 0


def test_an_unknown_status_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="'answered'"):
        QueueFilter(status="answered")  # type: ignore[arg-type]


def test_status_comes_back_as_the_enum_and_is_stored_as_its_value(db: Database) -> None:
    add_items(db, ITEMS[:1])
    with db.transaction() as session:
        [item] = list_items(session)
        assert item.status is QueueStatus.NEW
        assert session.scalar(text("SELECT status FROM queue_items")) == "new"


def test_a_deleted_item_cannot_come_back(db: Database) -> None:
    add_items(db, ITEMS[2:4])
    with db.transaction() as session:
        deleted, new = list_items(session)
        with pytest.raises(TransitionError, match=r"'deleted'.*nach 'new'.*erlaubt.*keiner"):
            move(deleted, QueueStatus.NEW)
        assert deleted.status is QueueStatus.DELETED
        mark_deleted(new)
        mark_deleted(deleted)  # deleting twice is no error: the post is gone either way
    with db.transaction() as session:
        assert count_items(session, QueueFilter(status=QueueStatus.DELETED)) == 2


def test_queue_list_pages_and_filters_by_brand(tmp_path: Path, db_url: str, db: Database) -> None:
    add_items(db, ITEMS)
    config = write_toml(tmp_path / "rufwacht.toml", {"storage": {"url": db_url}})
    args = ["queue", "list", "--json", "--config", str(config)]
    result = CliRunner().invoke(app, [*args, "--brand", "DHL", "--limit", "2", "--offset", "1"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["platform_id"] for line in result.stdout.splitlines()] == ["c", "d"]
    assert "1 more items not shown" in result.stderr
