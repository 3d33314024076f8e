"""`rufwacht poll --once` against fake X and Reddit servers: the real CLI, tweepy, praw and SQLite."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from connectors.replay import demo_feed_dir
from monitor.cli import app
from monitor.storage.models import PostRecord, QueueItem
from tests.conftest import LIVE_ENV, live_config, sqlite_url
from tests.fakes.reddit import FakeReddit
from tests.fakes.twitter import FakeX

runner = CliRunner()


def stored(tmp_path: Path) -> tuple[dict[str, int], int]:
    engine = create_engine(sqlite_url(tmp_path))
    with engine.connect() as connection:
        per_platform = dict(
            connection.execute(
                select(PostRecord.platform, func.count()).group_by(PostRecord.platform)
            ).all()
        )
        queued = connection.scalar(select(func.count()).select_from(QueueItem)) or 0
    engine.dispose()
    return {str(k): int(v) for k, v in per_platform.items()}, queued


def poll(config: Path, env: Mapping[str, str | None] = LIVE_ENV, exit_code: int = 0) -> str:
    """`poll --once`; exit 0 unless a source failed (README), which the caller then expects."""
    result = runner.invoke(app, ["poll", "--once", "--config", str(config)], env=env)
    assert result.exit_code == exit_code, result.output
    return result.output


def fetched(output: str) -> dict[str, int]:
    """The `fetched` column of the summary table, per source that ran."""
    rows = [line.split("│")[1:3] for line in output.splitlines() if line.count("│") > 3]
    return {source.strip(): int(count) for source, count in rows if count.strip().isdigit()}


def test_poll_once_queues_posts_from_both_platforms_and_then_only_newer_ones(
    tmp_path: Path, fake_x: FakeX, fake_reddit: FakeReddit
) -> None:
    author = fake_x.add_user("pendler_ffm", followers=180)
    fake_x.add_tweet("@DB_Bahn Zug fällt schon wieder aus, unzumutbar. Geht nicht!", author)
    fake_x.add_tweet("Telekom Störung seit gestern, kein Internet, einfach schlecht", author)
    fake_reddit.add_user("pendler")
    fake_reddit.add_submission(
        "Finanzen", "Vodafone kündigen?", "Seit Wochen Störung, der Support ist eine Frechheit."
    )
    config = live_config(tmp_path, fake_x, fake_reddit)

    # No replay row: with credentials the demo-feed fallback stays off.
    assert fetched(poll(config)) == {"twitter": 2, "reddit": 1}
    posts, queued = stored(tmp_path)

    assert posts == {"twitter": 2, "reddit": 1}
    assert queued == 3

    assert fetched(poll(config)) == {"twitter": 0, "reddit": 0}
    assert stored(tmp_path) == (posts, queued)

    fake_x.add_tweet("DHL Paket nicht zugestellt, schon wieder verloren", author, ago=timedelta(0))
    assert fetched(poll(config)) == {"twitter": 1, "reddit": 0}
    assert stored(tmp_path)[0] == {"twitter": 3, "reddit": 1}


def test_a_failing_source_does_not_stop_the_other(
    tmp_path: Path, fake_x: FakeX, fake_reddit: FakeReddit
) -> None:
    author = fake_x.add_user("pendler_ffm")
    fake_x.add_tweet("Telekom Störung seit gestern, kein Internet, einfach schlecht", author)
    config = live_config(tmp_path, fake_x, fake_reddit)

    output = poll(config, {**LIVE_ENV, "REDDIT_CLIENT_SECRET": "revoked"}, exit_code=1)

    assert "REDDIT_CLIENT_ID/REDDIT_CLIENT_SECRET" in " ".join(output.split())
    assert stored(tmp_path)[0] == {"twitter": 1}


def test_without_credentials_the_demo_feed_replays_and_a_warning_names_the_variables(
    tmp_path: Path, fake_x: FakeX, fake_reddit: FakeReddit, caplog: pytest.LogCaptureFixture
) -> None:
    fake_x.add_tweet("Telekom Störung seit gestern", fake_x.add_user("pendler_ffm"))
    config = live_config(tmp_path, fake_x, fake_reddit)
    no_credentials = dict.fromkeys(LIVE_ENV)  # None unsets a variable for the run

    with caplog.at_level(logging.WARNING, logger="monitor.sources"):
        output = poll(config, no_credentials)

    demo_posts = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").count("\n")
    assert fetched(output) == {"replay": demo_posts}
    table = " ".join(output.split())
    assert "│ twitter │ - │ - │ - │ not running:" in table
    assert "│ reddit │ - │ - │ - │ not running:" in table
    assert fake_x.requests == [] and fake_reddit.requests == []
    warnings = " ".join(record.getMessage() for record in caplog.records)
    assert "set the environment variable TWITTER_BEARER_TOKEN" in warnings
    assert "set the environment variable REDDIT_CLIENT_ID" in warnings
