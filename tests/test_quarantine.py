"""A poison item costs only itself: it is quarantined, its page is stored, the source moves on."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from connectors.base import json_payload
from connectors.reddit import RedditConnector
from connectors.replay import ReplayConnector
from connectors.twitter import TwitterConnector
from monitor.cli import app
from monitor.pipeline import Pipeline
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, QuarantinedItem, QueueItem, SourceState
from tests.conftest import NGRAM_CLASSIFIERS, write_toml

runner = CliRunner()
COMPLAINT = "DHL Paket {n} wieder nicht zugestellt, unverschämt!"


def line(n: int, **fields: object) -> bytes:
    record = {
        "id": f"p{n}",
        "platform": "twitter",
        "text": COMPLAINT.format(n=n),
        "created_at": f"2026-11-20T08:{n % 60:02d}:00Z",
        "author": {"handle": f"kunde{n}", "account_age_days": 900, "followers": 80},
        **fields,
    }
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def feed(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    """The default config with the n-gram models: these tests are about storage, not scores."""
    models = settings.classifiers.model_copy(update=NGRAM_CLASSIFIERS)
    return settings.model_copy(update={"classifiers": models})


@pytest.fixture
def pipeline(fast_settings: Settings, db: Database) -> Pipeline:
    return Pipeline.from_settings(fast_settings, db)


def stored_ids(pipeline: Pipeline) -> list[str]:
    with pipeline.db.transaction() as session:
        return sorted(session.scalars(select(PostRecord.platform_id)))


def quarantined(pipeline: Pipeline) -> list[QuarantinedItem]:
    with pipeline.db.transaction() as session:
        return list(session.scalars(select(QuarantinedItem).order_by(QuarantinedItem.id)))


def source_state(pipeline: Pipeline, source: str = "replay") -> SourceState:
    with pipeline.db.transaction() as session:
        state = session.get(SourceState, source)
        assert state is not None
        return state


def test_time_without_zone_costs_one_post_and_the_next_poll_continues(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    lines = [line(n) for n in range(1, 29)]
    lines[13] = line(14, created_at="2026-11-20T08:14:00")
    path = feed(tmp_path / "feed.jsonl", lines)

    report = pipeline.poll(ReplayConnector("replay", path))

    assert (report.failure, report.stored, report.quarantined) == (None, 27, 1)
    assert "p14" not in stored_ids(pipeline) and len(stored_ids(pipeline)) == 27
    [item] = quarantined(pipeline)
    assert (item.source, item.ref) == ("replay", "feed.jsonl line 14")
    assert "timezone" in item.problem
    assert json.loads(item.payload)["id"] == "p14"
    state = source_state(pipeline)
    assert (state.status, state.cursor) == ("ok", {"feed.jsonl": 28})

    with path.open("ab") as handle:
        handle.write(line(29))
    again = pipeline.poll(ReplayConnector("replay", path))
    assert (again.failure, again.stored, again.quarantined) == (None, 1, 0)
    assert len(quarantined(pipeline)) == 1


def test_an_invalid_byte_costs_only_its_line(
    pipeline: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [line(n) for n in range(1, 101)]
    lines[59] = lines[59].replace(b"wieder", b"wi\xffder")
    path = feed(tmp_path / "feed.jsonl", lines)

    with caplog.at_level(logging.ERROR):
        report = pipeline.poll(ReplayConnector("replay", path))

    assert (report.failure, report.stored, report.quarantined) == (None, 99, 1)
    [item] = quarantined(pipeline)
    assert item.ref == "feed.jsonl line 60"
    assert item.problem.startswith("invalid UTF-8 (byte 0xff")
    assert "\\xff" in item.payload
    assert source_state(pipeline).status == "ok"
    [record] = [r for r in caplog.records if "quarantined" in r.getMessage()]
    message = record.getMessage()
    assert "replay: feed.jsonl line 60: invalid UTF-8" in message
    assert len(message) < 300 and record.exc_info is None


def test_nul_and_control_characters_are_removed_the_same_way_on_every_database(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    lines = [line(n) for n in range(1, 61)]
    lines[29] = line(
        30, text="Telekom\u0000 Störung\u0007 seit\r\nheute", author={"handle": "a\u0000b"}
    )
    path = feed(tmp_path / "feed.jsonl", lines)

    report = pipeline.poll(ReplayConnector("replay", path))

    assert (report.stored, report.quarantined) == (60, 0)
    with pipeline.db.transaction() as session:
        post = session.scalars(select(PostRecord).where(PostRecord.platform_id == "p30")).one()
        assert post.text == "Telekom Störung seit\nheute"
        assert post.raw["text"] == "Telekom Störung seit\nheute"
        assert post.author is not None and post.author.handle == "ab"


def test_a_missing_or_null_id_is_an_error_for_that_post_not_a_merge(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    path = feed(
        tmp_path / "feed.jsonl",
        [line(1), line(2, id=None), line(3, id=None), line(4, id=""), line(5)],
    )

    report = pipeline.poll(ReplayConnector("replay", path))

    assert (report.stored, report.quarantined) == (2, 3)
    assert stored_ids(pipeline) == ["p1", "p5"]
    problems = [item.problem for item in quarantined(pipeline)]
    assert problems[:2] == ["id must be a non-empty string or a number, not null"] * 2
    assert problems[2] == 'id must be a non-empty string or a number, not ""'


def test_a_post_from_the_future_starts_its_sla_when_fetched(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    path = feed(tmp_path / "feed.jsonl", [line(1, created_at="2099-01-01T00:00:00Z")])
    before = datetime.now(UTC)

    pipeline.poll(ReplayConnector("replay", path))

    with pipeline.db.transaction() as session:
        item = session.scalars(select(QueueItem)).one()
    assert before <= item.waiting_since <= datetime.now(UTC)
    assert item.waiting_since < item.due_at <= item.waiting_since + timedelta(hours=24)


def refuse_text(db: Database, word: str) -> None:
    """Make the database itself refuse posts containing `word` (a constraint an admin added).

    Through `db.transaction()`, so that on PostgreSQL the change is rolled back with the test.
    """
    with db.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON posts "
                    f"WHEN NEW.text LIKE '%{word}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            session.execute(
                text(f"ALTER TABLE posts ADD CONSTRAINT refuse CHECK (text NOT LIKE '%{word}%')")
            )


def allow_text(db: Database) -> None:
    with db.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("DROP TRIGGER refuse"))
        else:
            session.execute(text("ALTER TABLE posts DROP CONSTRAINT refuse"))


def test_a_post_the_database_refuses_is_quarantined_and_stored_by_a_retry_after_the_fix(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    refuse_text(pipeline.db, "Paket 3 ")
    path = feed(tmp_path / "feed.jsonl", [line(n) for n in range(1, 6)])

    report = pipeline.poll(ReplayConnector("replay", path))

    assert (report.failure, report.stored, report.quarantined) == (None, 4, 1)
    [item] = quarantined(pipeline)
    assert item.ref == "post twitter:p3"
    assert item.problem.startswith("database refused the post:")
    assert "INSERT" not in item.problem  # the driver's reason, not SQL with the post's text

    [still] = pipeline.retry_quarantined()
    assert not still.stored
    [item] = quarantined(pipeline)
    assert item.attempts == 1 and item.retried_at is not None

    allow_text(pipeline.db)
    [outcome] = pipeline.retry_quarantined([item.id])
    assert outcome.stored
    assert quarantined(pipeline) == []
    assert "p3" in stored_ids(pipeline)
    with pipeline.db.transaction() as session:
        queued = session.scalar(select(func.count()).select_from(QueueItem))
    assert queued == 5  # the retried complaint was judged and queued like the others


def test_quarantine_list_and_retry_on_the_command_line(
    pipeline: Pipeline, tmp_path: Path, db_url: str
) -> None:
    path = feed(tmp_path / "feed.jsonl", [line(1), line(2, created_at="2026-11-20T08:00:00")])
    pipeline.poll(ReplayConnector("replay", path))
    config = write_toml(
        tmp_path / "rufwacht.toml", {"storage": {"url": db_url}, "classifiers": NGRAM_CLASSIFIERS}
    )

    listed = runner.invoke(app, ["quarantine", "list", "--json", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    [item] = [json.loads(row) for row in listed.stdout.splitlines()]
    assert (item["source"], item["ref"], item["attempts"]) == ("replay", "feed.jsonl line 2", 0)
    assert "timezone" in item["problem"] and json.loads(item["payload"])["id"] == "p2"
    table = runner.invoke(app, ["quarantine", "list", "-c", str(config)])
    assert "feed.jsonl line 2" in table.stdout

    retried = runner.invoke(app, ["quarantine", "retry", str(item["id"]), "-c", str(config)])
    assert retried.exit_code == 1
    assert "still failing" in retried.stdout and "0 of 1 stored" in retried.stdout
    unknown = runner.invoke(app, ["quarantine", "retry", "999", "-c", str(config)])
    assert unknown.exit_code == 2
    assert "no quarantined item with id 999" in unknown.output


def test_quarantined_tweets_and_reddit_items_are_read_again_by_their_connector() -> None:
    user = {"id": "7", "username": "pendler", "created_at": "2020-01-01T00:00:00.000Z"}
    tweet = {"id": "12", "text": "Telekom Störung", "author_id": "7"}
    broken = TwitterConnector.reparse
    with pytest.raises(ValueError, match="missing created_at"):
        broken(json_payload(tweet, user))
    fixed = TwitterConnector.reparse(
        json_payload({**tweet, "created_at": "2026-01-05T10:00:00.000Z"}, user)
    )
    assert (fixed.platform_id, fixed.author and fixed.author.handle) == ("12", "pendler")

    item = {
        "name": "t3_x1",
        "title": "Telekom kaputt",
        "permalink": "/r/de/comments/x1/",
        "created_utc": 1767600000,
        "author": "kundin",
        "author_fullname": "t2_k",
    }
    post = RedditConnector.reparse(json_payload(item, {"created_utc": 1500000000}))
    assert (post.text, post.author and post.author.handle) == ("Telekom kaputt", "kundin")
    assert post.author is not None and post.author.account_age_days
    with pytest.raises(ValueError, match="title"):
        RedditConnector.reparse(json_payload({k: v for k, v in item.items() if k != "title"}, None))
    with pytest.raises(ValueError, match="not a quarantined item"):
        RedditConnector.reparse("[1, 2]")
