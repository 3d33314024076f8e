"""Queue filters, brand scope, SLA states and breaches, on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.queue import QueueFilter, QueueStatus, count_items, list_items
from monitor.queue.breaches import record_breaches
from monitor.storage.database import Database
from monitor.storage.models import QueueItem
from tests.conftest import write_toml
from tests.factories import queue_item, stored_post

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ITEMS: dict[str, dict[str, Any]] = {
    # waiting 2 h of its 4: ok
    "ok": {"brand": "DHL", "priority": 55, "waiting": 2, "due_in": 2},
    # 45 min left of 4 h: near
    "near": {
        "brand": "DHL",
        "priority": 40,
        "waiting": 3.25,
        "due_in": 0.75,
        "category": "troll",
        "action": "ignore_troll",
    },
    # waiting longest, past its deadline: overdue
    "late": {"brand": "Telekom", "priority": 20, "waiting": 30, "due_in": -6, "platform": "reddit"},
    # a crisis, just in
    "crisis": {
        "brand": "Telekom",
        "priority": 90,
        "waiting": 0.1,
        "due_in": 0.9,
        "category": "crisis",
        "action": "escalate",
    },
    # past its deadline, but no longer waiting: not overdue
    "gone": {
        "brand": "DHL",
        "priority": 30,
        "waiting": 28,
        "due_in": -4,
        "status": QueueStatus.DELETED,
    },
}


def add(db: Database) -> None:
    with db.transaction() as session:
        for name, spec in ITEMS.items():
            since = NOW - timedelta(hours=spec["waiting"])
            post = stored_post(
                platform_id=name, created_at=since, platform=spec.get("platform", "twitter")
            )
            fields = {
                k: spec[k]
                for k in ("brand", "priority", "category", "action", "status")
                if k in spec
            }
            session.add(
                queue_item(
                    post,
                    waiting_since=since,
                    due_at=NOW + timedelta(hours=spec["due_in"]),
                    **fields,
                )
            )


def names(db: Database, query: QueueFilter, **page: int) -> list[str]:
    with db.transaction() as session:
        return [item.post.platform_id for item in list_items(session, query, **page)]


def count(db: Database, query: QueueFilter) -> int:
    with db.transaction() as session:
        return count_items(session, query)


def test_most_urgent_first_or_longest_waiting_first(db: Database) -> None:
    add(db)
    assert names(db, QueueFilter(now=NOW)) == ["crisis", "ok", "near", "gone", "late"]
    waiting = QueueFilter(sort="waiting", now=NOW)  # type: ignore[arg-type]
    assert names(db, waiting) == ["late", "gone", "near", "ok", "crisis"]
    assert names(db, waiting, limit=2, offset=1) == ["gone", "near"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sla": "overdue"}, ["late"]),
        ({"sla": "near"}, ["near"]),
        ({"sla": "ok"}, ["crisis", "ok", "gone"]),
        ({"category": "troll"}, ["near"]),
        ({"action": "escalate"}, ["crisis"]),
        ({"platform": "reddit"}, ["late"]),
        ({"band": "critical"}, ["crisis"]),
        ({"band": "high"}, ["ok"]),
        ({"band": "normal"}, ["near", "gone"]),
        ({"band": "low"}, ["late"]),
        ({"brand": "DHL", "status": "new"}, ["ok", "near"]),
    ],
)
def test_each_filter_lists_and_counts_the_same_items(
    db: Database, query: dict[str, Any], expected: list[str]
) -> None:
    add(db)
    chosen = QueueFilter(**query, now=NOW)
    assert names(db, chosen) == expected
    assert count(db, chosen) == len(expected)


def test_items_of_brands_out_of_scope_are_never_listed_or_counted(db: Database) -> None:
    add(db)
    dhl_only = QueueFilter(visible_brands=["DHL"], now=NOW)
    assert names(db, dhl_only) == ["ok", "near", "gone"]
    # asking for another brand by name does not widen the scope
    asked = QueueFilter(brand="Telekom", visible_brands=["DHL"], now=NOW)
    assert names(db, asked) == [] and count(db, asked) == 0
    assert count(db, QueueFilter(sla="overdue", visible_brands=["DHL"], now=NOW)) == 0  # type: ignore[arg-type]
    assert count(db, QueueFilter(visible_brands=[], now=NOW)) == 0


def test_a_breach_is_recorded_once_and_only_for_waiting_items(db: Database) -> None:
    add(db)
    with db.transaction() as session:
        assert record_breaches(session, NOW) == 1
    with db.transaction() as session:
        assert record_breaches(session, NOW + timedelta(hours=1)) == 2  # "near" and "crisis"
        assert record_breaches(session, NOW + timedelta(hours=1.5)) == 0
    with db.transaction() as session:
        stamped = {
            item.post.platform_id: item.sla_breached_at
            for item in session.query(QueueItem)
            if item.sla_breached_at
        }
    later = NOW + timedelta(hours=1)
    assert stamped == {"late": NOW, "near": later, "crisis": later}


def test_queue_list_filters_on_category_sla_and_sorts_by_waiting(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    add(db)
    config = write_toml(tmp_path / "rufwacht.toml", {"storage": {"url": db_url}})

    def listed(*args: str) -> list[dict[str, Any]]:
        result = CliRunner().invoke(app, ["queue", "list", "--json", *args, "-c", str(config)])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    # the CLI judges SLA states now, long after NOW: every waiting item is overdue
    assert [item["platform_id"] for item in listed("--sla", "overdue")] == [
        "crisis",
        "ok",
        "near",
        "late",
    ]
    [crisis] = listed("--category", "crisis")
    assert (crisis["platform_id"], crisis["band"], crisis["sla"]) == (
        "crisis",
        "critical",
        "overdue",
    )
    assert [item["platform_id"] for item in listed("--sort", "waiting", "--limit", "2")] == [
        "late",
        "gone",
    ]
    bad = CliRunner().invoke(app, ["queue", "list", "--sla", "late", "-c", str(config)])
    assert bad.exit_code == 2 and "'late' is not one of" in bad.output


BERLIN = ZoneInfo("Europe/Berlin")
DAY_START = datetime(2026, 12, 1, tzinfo=BERLIN)
"""Tuesday 1 December in Berlin: from 2026-11-30 23:00 to 2026-12-01 23:00 UTC."""
PUBLISHED = {
    "late-monday": DAY_START - timedelta(seconds=1),
    "midnight": DAY_START,
    "evening": DAY_START + timedelta(hours=23, minutes=59),
    "wednesday": DAY_START + timedelta(days=1),
}


def test_a_period_lists_and_counts_the_posts_published_in_it(db: Database) -> None:
    """Half-open at local midnight, by the post's publication (not when its clock started)."""
    with db.transaction() as session:
        for name, at in PUBLISHED.items():
            brand = "Telekom" if name == "evening" else "DHL"
            post = stored_post(platform_id=name, created_at=at)
            session.add(queue_item(post, brand=brand, waiting_since=at - timedelta(hours=2)))
    day = QueueFilter(since=DAY_START, until=DAY_START + timedelta(days=1), sort="waiting")  # type: ignore[arg-type]
    assert names(db, day) == ["midnight", "evening"] and count(db, day) == 2
    assert names(db, QueueFilter(since=DAY_START, sort="waiting")) == [  # type: ignore[arg-type]
        "midnight",
        "evening",
        "wednesday",
    ]
    assert names(db, QueueFilter(until=DAY_START)) == ["late-monday"]
    scoped = replace(day, visible_brands=["DHL"])
    assert names(db, scoped) == ["midnight"] and count(db, scoped) == 1
    with pytest.raises(ValueError, match="time zone"):
        QueueFilter(since=datetime(2026, 12, 1))
