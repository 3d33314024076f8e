"""Posts deleted upstream lose their text here too; edited posts show their newest text."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.compliance import recheck
from monitor.queue import QueueStatus
from monitor.settings import load_settings
from monitor.sources import plan_sources
from monitor.storage.database import Database
from monitor.storage.models import PostRecord
from tests.conftest import LIVE_ENV, live_config
from tests.fakes.reddit import FakeReddit
from tests.fakes.twitter import FakeX

runner = CliRunner()


def posts_by_text(db: Database) -> dict[str, PostRecord]:
    with db.transaction() as session:
        posts = session.scalars(select(PostRecord)).all()
        for post in posts:
            _ = post.queue_item  # loaded while the session is open
        return {post.platform_id: post for post in posts}


def test_compliance_removes_deleted_and_updates_edited_posts(
    tmp_path: Path, fake_x: FakeX, fake_reddit: FakeReddit
) -> None:
    author = fake_x.add_user("pendler_ffm")
    kept = fake_x.add_tweet("@DB_Bahn Zug fällt schon wieder aus, unzumutbar!", author)
    gone = fake_x.add_tweet("Telekom Störung seit gestern, kein Internet, einfach schlecht", author)
    edited = fake_x.add_tweet("DHL Paket nicht zugestellt, wieder verloren", author)
    fake_reddit.add_user("pendler")
    thread = fake_reddit.add_submission("de", "Vodafone", "Seit Wochen Störung, eine Frechheit.")
    config = live_config(tmp_path, fake_x, fake_reddit)
    assert (
        runner.invoke(app, ["poll", "--once", "--config", str(config)], env=LIVE_ENV).exit_code == 0
    )

    fake_x.deleted.add(gone)
    fake_x.edit(edited, "DHL Paket nicht zugestellt. Update: heute doch angekommen.")
    fake_reddit.delete(thread)
    settings = load_settings(config)
    db = Database(settings.storage.url)
    plan = plan_sources(settings, {**os.environ, **LIVE_ENV})
    reports = {c.source: recheck(db, c) for c in plan.connectors}

    assert (reports["twitter"].checked, reports["twitter"].deleted, reports["twitter"].edited) == (
        3,
        1,
        1,
    )
    assert (reports["reddit"].checked, reports["reddit"].deleted) == (1, 1)
    posts = posts_by_text(db)
    assert posts[kept].text == "@DB_Bahn Zug fällt schon wieder aus, unzumutbar!"
    assert posts[gone].text is None and posts[gone].raw == {} and posts[gone].deleted_at
    assert posts[gone].queue_item.status == QueueStatus.DELETED
    assert posts[edited].text == "DHL Paket nicht zugestellt. Update: heute doch angekommen."
    assert posts[thread].text is None
    queue = runner.invoke(
        app, ["queue", "list", "--status", "new", "--json", "--config", str(config)]
    )
    assert "Telekom Störung" not in queue.stdout and "Seit Wochen" not in queue.stdout
    db.dispose()
