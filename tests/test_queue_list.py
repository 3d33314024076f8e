"""`rufwacht queue list`: most urgent first, limited visibly, statuses checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor import cli
from monitor.cli import app
from monitor.storage.database import Database
from tests.conftest import write_toml
from tests.factories import author_record, queue_item, score, stored_post

runner = CliRunner()
NOW = datetime.now(UTC)


def queue(db: Database, items: list[tuple[str, int, float]]) -> None:
    """Queue one post per `(platform_id, priority, hours until due)`, in the given order."""
    with db.transaction() as session:
        for platform_id, priority, due_in_hours in items:
            post = stored_post(platform_id=platform_id, created_at=NOW - timedelta(hours=1))
            due_at = NOW + timedelta(hours=due_in_hours)
            session.add(queue_item(post, priority=priority, due_at=due_at))


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return write_toml(tmp_path / "rufwacht.toml", {"storage": {"url": db_url}})


def listed(config: Path, *args: str) -> tuple[list[str], str]:
    result = runner.invoke(app, ["queue", "list", "--json", *args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return [json.loads(line)["platform_id"] for line in result.stdout.splitlines()], result.stderr


def test_highest_priority_first_then_earliest_due(config: Path, db: Database) -> None:
    queue(
        db, [("low-late", 40, 9), ("high-late", 80, 5), ("low-soon", 40, 1), ("high-soon", 80, 2)]
    )
    ids, _ = listed(config)
    assert ids == ["high-soon", "high-late", "low-soon", "low-late"]


def test_limit_shows_the_most_urgent_and_says_how_many_were_left_out(
    config: Path, db: Database
) -> None:
    queue(db, [("a", 10, 1), ("b", 90, 1), ("c", 50, 1), ("d", 70, 1)])
    ids, note = listed(config, "--limit", "2")
    assert ids == ["b", "d"]
    assert "2 more items not shown" in note


def test_json_lists_every_item_and_the_table_says_what_it_left_out(
    config: Path, db: Database
) -> None:
    queue(db, [(f"p{n:02d}", n, 1) for n in range(60)])
    ids, note = listed(config)
    assert len(ids) == 60 and not note
    table = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert table.exit_code == 0, table.output
    assert "10 more items not shown" in table.stderr
    assert "--limit" in table.stderr


def test_json_shows_the_post_its_judgement_and_its_deadline(config: Path, db: Database) -> None:
    post = stored_post("DHL Paket schon wieder nicht zugestellt!", platform_id="dhl-1")
    score(post, "sentiment", label="negative", score=0.91)
    score(post, "troll", label="not_troll", score=0.123456)
    due_at = NOW + timedelta(hours=3)
    with db.transaction() as session:
        session.add(
            queue_item(post, brand="DHL", priority=55, reasons=["Negativ (91%)"], due_at=due_at)
        )

    result = runner.invoke(app, ["queue", "list", "--json", "--config", str(config)])

    [item] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (item["platform_id"], item["brand"], item["priority"]) == ("dhl-1", "DHL", 55)
    assert item["text"] == "DHL Paket schon wieder nicht zugestellt!"
    assert (item["sentiment"], item["troll_score"]) == ("negative", 0.1235)
    assert item["reasons"] == ["Negativ (91%)"]
    assert datetime.fromisoformat(item["due_at"]) == due_at


def test_an_unknown_status_is_an_error_listing_the_valid_ones(config: Path) -> None:
    result = runner.invoke(app, ["queue", "list", "--status", "bogus", "--config", str(config)])
    assert result.exit_code == 2
    assert "--status" in result.output
    assert all(status in result.output for status in ("'bogus'", "'new'", "'deleted'"))


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "[bold red]Dringend[/bold red] [link=https://evil.example]hier[/link]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_and_names_print_as_they_are(
    config: Path, db: Database, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Post text and author names are the attacker's: the table shows them verbatim (no Rich
    markup is interpreted), and the JSON carries them as plain strings."""
    with db.transaction() as session:
        author = author_record(handle="troll_x", display_name=text)
        post = stored_post(text=f"@DB_Bahn {text}", platform_id="evil", author=author)
        session.add(queue_item(post, priority=50, due_at=NOW + timedelta(hours=2)))
    monkeypatch.setattr(cli.out, "width", 400)  # a wide terminal: no cell is cut
    table = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert table.exit_code == 0, table.output
    assert text in table.output
    result = runner.invoke(app, ["queue", "list", "--json", "--config", str(config)])
    [item] = [json.loads(line) for line in result.stdout.splitlines()]
    assert item["text"] == f"@DB_Bahn {text}"
